// Expected topologies of the multi-service fixtures (compose, monorepos, gateways, problems), per SEMANTICS of issue 2.
// Each fixture in test/fixtures/<name> is analysed by the real engine and compared with the plain data below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';
import { checkTopology, FIXTURES, type ExpectedTopology } from '../support/fixture-expect';

export const expected: Record<string, ExpectedTopology> = {
  // compose.yaml + override, ${VAR:-default}, anchors/merge keys, depends_on long+short, links, healthchecks,
  // postgres/redis/rabbitmq image services, env URLs, drivers, secrets in compose and .env.
  'compose-stack': {
    services: {
      api: {
        type: 'nodejs',
        name: 'api',
        frameworks: ['express'],
        port: { container: 8000, host: 8000, source: 'compose', file: 'compose.yaml', line: 18 },
        start: { includes: 'node src/server.js', source: 'dockerfile' },
        health: { kind: 'http', path: '/healthz' },
        dockerfile: 'api/Dockerfile',
        packageManager: 'npm',
        env: {
          DATABASE_URL: 'postgres://app:app@db:5432/shop',
          REDIS_URL: 'redis://cache:6379/0',
          NODE_ENV: 'development',
          LOG_LEVEL: 'info',
        },
      },
      worker: {
        type: 'worker',
        name: 'worker',
        frameworks: ['celery'],
        port: null,
        start: { includes: 'celery -A tasks worker', source: 'compose' },
        dockerfile: 'worker/Dockerfile',
        packageManager: 'pip',
        env: { LOG_LEVEL: 'debug', DATABASE_URL: 'postgres://app:app@db:5432/shop' },
      },
      web: {
        type: 'nodejs',
        name: 'web',
        frameworks: ['vite'],
        port: { container: 80, host: 8080, source: 'compose', file: 'compose.yaml', line: 48 },
        dockerfile: 'web/Dockerfile.prod',
        packageManager: 'yarn',
      },
      'compose.yaml#db': {
        type: 'database',
        name: 'db',
        image: 'postgres:16-alpine',
        port: { container: 5432, source: 'image-default' },
        health: { kind: 'command' },
      },
      'compose.yaml#cache': {
        type: 'cache',
        name: 'cache',
        image: 'redis:7-alpine',
        port: { container: 6379, source: 'image-default' },
        health: { kind: 'tcp' },
      },
      'compose.yaml#mq': {
        type: 'queue',
        name: 'mq',
        image: 'rabbitmq:3.13-management-alpine',
        port: { container: 5672, source: 'image-default' },
        health: { kind: 'command' },
      },
    },
    edges: [
      ['api', 'compose.yaml#db', 'compose'],
      ['api', 'compose.yaml#cache', 'compose'],
      ['api', 'compose.yaml#mq', 'compose'],
      ['api', 'compose.yaml#db', 'env-url'],
      ['api', 'compose.yaml#cache', 'env-url'],
      ['api', 'compose.yaml#mq', 'env-url'],
      ['api', 'compose.yaml#db', 'driver'],
      ['api', 'compose.yaml#cache', 'driver'],
      ['api', 'compose.yaml#mq', 'driver'],
      ['worker', 'compose.yaml#db', 'compose'],
      ['worker', 'compose.yaml#mq', 'compose'],
      ['worker', 'compose.yaml#cache', 'compose'], // only in compose.override.yaml
      ['worker', 'compose.yaml#db', 'env-url'],
      ['worker', 'compose.yaml#mq', 'env-url'],
      ['worker', 'compose.yaml#db', 'driver'],
      ['worker', 'compose.yaml#cache', 'driver'],
      ['web', 'api', 'compose'], // links
    ],
    // plain `celery` (no [redis] extra) talking to the one queue: SEMANTICS lists only celery[redis]
    optionalEdges: [['worker', 'compose.yaml#mq', 'driver']],
    order: [['compose.yaml#cache', 'compose.yaml#db', 'compose.yaml#mq'], ['api', 'worker'], ['web']],
    patterns: ['database', 'cache', 'frontend-backend', 'background-workers'],
    optionalPatterns: ['microservices'],
    problems: [],
    libraries: [],
    recommendations: [
      { code: 'secret-literal', file: 'compose.yaml' },
      { code: 'secret-literal', file: '.env' },
    ],
    forbiddenRecommendations: [{ code: 'missing-expose', serviceId: 'worker' }, { code: 'missing-database' }],
    groups: [{ id: '.', kind: 'compose', tool: ['compose'] }],
  },

  // pnpm workspace + Turborepo, 7 services in four languages, two libraries, infra in a root compose file.
  'monorepo-polyglot': {
    services: {
      'apps/web': {
        // next.config.mjs sets output: 'standalone', so the image runs the standalone server, not `next start`
        type: 'nodejs',
        name: 'web',
        frameworks: ['next'],
        port: { container: 3000, source: 'framework-default' },
        start: { includes: 'node server.js', source: 'framework-default' },
        libraries: ['packages/ui'],
        dockerfile: null,
        packageManager: 'pnpm',
      },
      'apps/api': {
        type: 'nodejs',
        name: 'api',
        frameworks: ['nestjs'],
        port: { container: 4000, source: 'code', file: 'apps/api/src/main.ts', line: 8, envVar: 'PORT' },
        start: { includes: 'pnpm start', source: 'script' },
        libraries: ['packages/db'],
        packageManager: 'pnpm',
      },
      'apps/admin': {
        type: 'nodejs',
        name: 'admin',
        frameworks: ['vite'],
        port: { container: 5173, source: 'framework-default' },
        libraries: ['packages/ui'],
      },
      'services/users': {
        type: 'python',
        name: 'users',
        frameworks: ['fastapi'],
        port: { container: 8001, source: 'code', file: 'services/users/app/main.py', line: 24 },
        health: { kind: 'http', path: '/healthz' },
        dockerfile: null,
        packageManager: 'poetry',
      },
      'services/billing': {
        type: 'golang',
        name: 'billing',
        frameworks: ['gin'],
        port: { container: 8082, source: 'dockerfile', file: 'services/billing/Dockerfile', line: 10 },
        start: { includes: '/billing', source: 'dockerfile' },
        health: { kind: 'http', path: '/health' },
        dockerfile: 'services/billing/Dockerfile',
      },
      'services/search': {
        type: 'rust',
        name: 'search',
        frameworks: ['axum'],
        port: { container: 7700, source: 'dockerfile', file: 'services/search/Dockerfile', line: 8 },
        health: { kind: 'http', path: '/healthz' },
        dockerfile: 'services/search/Dockerfile',
      },
      'services/notifier': {
        type: 'worker',
        name: 'notifier',
        port: null,
        start: { includes: 'pnpm start' },
        packageManager: 'pnpm',
      },
      'docker-compose.yml#db': {
        type: 'database',
        name: 'db',
        image: 'postgres:16',
        port: { container: 5432, source: 'image-default' },
      },
      'docker-compose.yml#redis': {
        type: 'cache',
        name: 'redis',
        image: 'redis:7.2',
        port: { container: 6379, source: 'image-default' },
      },
    },
    edges: [
      ['apps/web', 'apps/api', 'env-url'],
      ['apps/web', 'apps/api', 'code-ref'], // app/page.tsx reads process.env.API_URL (inside a template literal)
      ['apps/admin', 'apps/api', 'workspace-package'],
      ['apps/api', 'services/users', 'env-url'],
      ['apps/api', 'services/billing', 'env-url'],
      ['apps/api', 'services/search', 'env-url'],
      ['apps/api', 'docker-compose.yml#db', 'driver'],
      ['services/users', 'docker-compose.yml#db', 'driver'],
      ['services/users', 'docker-compose.yml#db', 'env-url'], // DB_HOST=db in services/users/.env
      ['services/billing', 'docker-compose.yml#db', 'driver'],
      ['services/notifier', 'docker-compose.yml#redis', 'driver'],
      ['services/notifier', 'docker-compose.yml#redis', 'code-ref'], // code reads REDIS_URL (issue: "env reads found in code")
    ],
    order: [
      ['docker-compose.yml#db', 'docker-compose.yml#redis', 'services/search'],
      ['services/billing', 'services/notifier', 'services/users'],
      ['apps/api'],
      ['apps/admin', 'apps/web'],
    ],
    patterns: ['monorepo', 'microservices', 'database', 'cache', 'background-workers', 'frontend-backend'],
    optionalPatterns: ['api-gateway'],
    problems: [],
    libraries: ['packages/db', 'packages/ui'],
    forbiddenRecommendations: [{ code: 'missing-database' }],
    groups: [{ id: '.', kind: 'workspace', tool: ['pnpm', 'turbo'] }],
  },

  // yarn workspaces + Nx (project.json): two apps, two libraries, `nx run-many` at the root is only a runner.
  'nx-yarn-workspace': {
    services: {
      'apps/api': {
        type: 'nodejs',
        name: 'api',
        frameworks: ['express'],
        // Nx's express generator writes `process.env.PORT ? Number(process.env.PORT) : 3333` (line 5), used by listen (line 10):
        // either line is a fair evidence line, so none is pinned.
        port: { container: 3333, source: 'code', file: 'apps/api/src/main.ts', envVar: 'PORT' },
        start: { includes: 'yarn start', source: 'script' },
        health: { kind: 'http', path: '/api/health' },
        libraries: ['libs/shared-utils'],
        packageManager: 'yarn',
      },
      'apps/web': {
        type: 'nodejs',
        name: 'web',
        frameworks: ['vite'],
        port: { container: 5173, source: 'framework-default' },
        libraries: ['libs/shared-utils', 'libs/ui'],
        packageManager: 'yarn',
      },
    },
    edges: [],
    order: [['apps/api', 'apps/web']],
    patterns: ['monorepo'],
    optionalPatterns: ['frontend-backend'],
    problems: [],
    libraries: ['libs/shared-utils', 'libs/ui'],
    groups: [{ id: '.', kind: 'workspace', tool: ['nx', 'yarn'] }],
  },

  // Image-only services in a compose file below the root: type and default port from the image name.
  'compose-images': {
    services: {
      'deploy/compose.yaml#mysql': {
        type: 'database',
        name: 'mysql',
        image: 'mysql:8.4',
        port: { container: 3306, source: 'image-default' },
        health: { kind: 'tcp' },
      },
      'deploy/compose.yaml#mariadb': {
        type: 'database',
        name: 'mariadb',
        port: { container: 3306, source: 'image-default' },
      },
      'deploy/compose.yaml#mongo': {
        type: 'database',
        name: 'mongo',
        port: { container: 27017, source: 'image-default' },
      },
      'deploy/compose.yaml#search': {
        type: 'database',
        name: 'search',
        port: { container: 9200, host: 9200, source: 'compose', file: 'deploy/compose.yaml', line: 22 },
      },
      'deploy/compose.yaml#kafka': { type: 'queue', name: 'kafka', port: { container: 9092, source: 'image-default' } },
      'deploy/compose.yaml#nats': { type: 'queue', name: 'nats' },
      'deploy/compose.yaml#sessions': { type: 'cache', name: 'sessions', image: 'valkey/valkey:7.2' },
      'deploy/compose.yaml#memcached': { type: 'cache', name: 'memcached' },
      'deploy/compose.yaml#edge': {
        type: 'proxy',
        name: 'edge',
        port: { container: 80, host: 8443, source: 'compose', file: 'deploy/compose.yaml', line: 37 },
      },
      'deploy/compose.yaml#renderer': {
        type: 'containerized',
        name: 'renderer',
        image: 'ghcr.io/acme/pdf-renderer:2.3.1',
        port: { container: 9000, source: 'compose', file: 'deploy/compose.yaml', line: 42 },
        start: { includes: 'serve --workers 2', source: 'compose' },
      },
    },
    edges: [],
    order: [
      [
        'deploy/compose.yaml#edge',
        'deploy/compose.yaml#kafka',
        'deploy/compose.yaml#mariadb',
        'deploy/compose.yaml#memcached',
        'deploy/compose.yaml#mongo',
        'deploy/compose.yaml#mysql',
        'deploy/compose.yaml#nats',
        'deploy/compose.yaml#renderer',
        'deploy/compose.yaml#search',
        'deploy/compose.yaml#sessions',
      ],
    ],
    patterns: ['database', 'cache'],
    // renderer is the only non-backing service: calling that a monolith is defensible either way
    optionalPatterns: ['reverse-proxy', 'monolith'],
    problems: [],
    libraries: [],
    forbiddenRecommendations: [{ code: 'secret-literal' }, { code: 'no-dockerfile' }, { code: 'missing-database' }],
    groups: [{ id: 'deploy', kind: 'compose', tool: ['compose'] }],
  },

  // Compose syntax variants: env_file, list-form environment, long-form ports, ip:host:container, flow depends_on,
  // expose, a host-only env value (CACHE_HOST=memcache), EXPOSE ${PORT} from an ARG.
  'compose-variants': {
    services: {
      api: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, host: 8081, source: 'compose', file: 'compose.yaml', line: 11 },
        start: { includes: 'node src/index.js', source: 'dockerfile' },
        health: { kind: 'http', path: '/healthz' },
        env: { USERS_URL: 'http://users:4000', NODE_ENV: 'production', SEARCH_URL: 'http://search:9200' },
      },
      users: {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 4000, source: 'compose', file: 'compose.yaml', line: 19 },
        start: { includes: 'gunicorn --bind 0.0.0.0:$PORT app:app', source: 'dockerfile' },
        env: { CACHE_HOST: 'memcache' },
      },
      // host port interpolated from the project .env (MEMCACHE_PORT=11311), as docker compose does
      'compose.yaml#memcache': {
        type: 'cache',
        port: { container: 11211, host: 11311, source: 'compose', file: 'compose.yaml', line: 27 },
      },
      'compose.yaml#search': { type: 'database', image: 'opensearchproject/opensearch:2.15.0' },
    },
    edges: [
      ['api', 'users', 'compose'],
      ['api', 'users', 'env-url'],
      ['api', 'compose.yaml#search', 'env-url'],
      ['api', 'users', 'code-ref'],
      ['api', 'compose.yaml#search', 'code-ref'], // code reads USERS_URL / SEARCH_URL
      ['users', 'compose.yaml#memcache', 'env-url'],
      ['users', 'compose.yaml#memcache', 'driver'], // pymemcache, and exactly one cache service
    ],
    order: [['compose.yaml#memcache', 'compose.yaml#search'], ['users'], ['api']],
    patterns: ['cache', 'database'],
    optionalPatterns: ['microservices'],
    problems: [],
    libraries: [],
    recommendations: [{ code: 'missing-expose', serviceId: 'api' }],
    forbiddenRecommendations: [{ code: 'missing-expose', serviceId: 'users' }],
  },

  // A workspace root that starts something itself is a service; its members with nothing to start are libraries.
  'root-app-workspace': {
    services: {
      '.': {
        type: 'nodejs',
        name: 'root-app-workspace',
        frameworks: ['express'],
        port: { container: 3000, source: 'code', file: 'src/server.js', line: 15, envVar: 'PORT' },
        start: { includes: 'npm start', source: 'script' },
        health: { kind: 'http', path: '/healthz' },
        libraries: ['packages/emails', 'packages/validation'],
        packageManager: 'npm',
      },
    },
    edges: [],
    order: [['.']],
    patterns: ['monolith'],
    optionalPatterns: ['monorepo'],
    problems: [],
    libraries: ['packages/emails', 'packages/validation'],
    groups: [{ id: '.', kind: 'workspace', tool: ['npm'] }],
  },

  // Names: two folders called `app` (one gets '-2'), a folder with a space and capitals, an underscore.
  'name-collisions': {
    services: {
      // an app/ folder takes its parent's name, so the two apps no longer collide
      'frontend/app': {
        type: 'nodejs',
        name: 'frontend',
        frameworks: ['vite'],
        port: { container: 5173, source: 'framework-default' },
      },
      'backend/app': {
        type: 'python',
        name: 'backend',
        frameworks: ['flask'],
        port: { container: 5000, source: 'framework-default' },
      },
      'Admin Panel': {
        type: 'nodejs',
        name: 'admin-panel',
        port: { container: 3000, source: 'code', file: 'Admin Panel/index.js', line: 5 },
      },
      billing_service: {
        type: 'golang',
        name: 'billing-service',
        port: { container: 8080, source: 'code', file: 'billing_service/main.go', line: 7 },
      },
    },
    names: ['admin-panel', 'backend', 'billing-service', 'frontend'],
    edges: [],
    order: [['Admin Panel', 'backend/app', 'billing_service', 'frontend/app']],
    patterns: [],
    optionalPatterns: ['frontend-backend'],
    problems: [],
    libraries: [],
  },

  // Django + Celery from ONE build context (`build: .` twice), a very common layout. SEMANTICS is silent on two
  // compose services sharing a folder: the folder is the first (web); the second keeps the compose-file id form.
  'django-celery-compose': {
    services: {
      '.': {
        type: 'python',
        name: 'web',
        frameworks: ['django'],
        port: { container: 8000, host: 8000, source: 'compose', file: 'docker-compose.yml', line: 6 },
        start: { includes: 'gunicorn proj.wsgi:application', source: 'compose' },
        health: { kind: 'http', path: '/healthz/' },
        dockerfile: 'Dockerfile',
      },
      'docker-compose.yml#worker': {
        type: 'worker',
        name: 'worker',
        frameworks: ['celery'],
        port: null,
        start: { includes: 'celery -A proj worker', source: 'compose' },
        dockerfile: 'Dockerfile',
      },
      'docker-compose.yml#db': { type: 'database', name: 'db', port: { container: 5432, source: 'image-default' } },
      'docker-compose.yml#redis': { type: 'cache', name: 'redis', port: { container: 6379, source: 'image-default' } },
    },
    edges: [
      ['.', 'docker-compose.yml#db', 'compose'],
      ['.', 'docker-compose.yml#redis', 'compose'],
      ['.', 'docker-compose.yml#db', 'env-url'],
      ['.', 'docker-compose.yml#redis', 'env-url'],
      ['.', 'docker-compose.yml#db', 'driver'],
      ['.', 'docker-compose.yml#redis', 'driver'],
      ['docker-compose.yml#worker', 'docker-compose.yml#db', 'compose'],
      ['docker-compose.yml#worker', 'docker-compose.yml#redis', 'compose'],
      ['docker-compose.yml#worker', 'docker-compose.yml#db', 'env-url'],
      ['docker-compose.yml#worker', 'docker-compose.yml#redis', 'env-url'],
      ['docker-compose.yml#worker', 'docker-compose.yml#db', 'driver'],
      ['docker-compose.yml#worker', 'docker-compose.yml#redis', 'driver'],
    ],
    order: [
      ['docker-compose.yml#db', 'docker-compose.yml#redis'],
      ['.', 'docker-compose.yml#worker'],
    ],
    patterns: ['database', 'cache', 'background-workers'],
    optionalPatterns: ['monolith'],
    problems: [],
    libraries: [],
    names: ['db', 'redis', 'web', 'worker'],
  },

  // Turborepo's Docker layout: compose builds from the repository root with `dockerfile: ./apps/<app>/Dockerfile`.
  // The service is the app folder that holds the Dockerfile, not the root (the build context).
  'turbo-docker': {
    services: {
      'apps/web': {
        type: 'nodejs',
        name: 'web',
        frameworks: ['next'],
        port: { container: 3000, host: 3000, source: 'compose', file: 'docker-compose.yml', line: 8 },
        start: { includes: 'node apps/web/server.js', source: 'dockerfile' },
        dockerfile: 'apps/web/Dockerfile',
        libraries: ['packages/ui'],
        env: { API_URL: 'http://api:3001' },
      },
      'apps/api': {
        type: 'nodejs',
        name: 'api',
        frameworks: ['express'],
        port: { container: 3001, host: 3001, source: 'compose', file: 'docker-compose.yml', line: 18 },
        dockerfile: 'apps/api/Dockerfile',
        health: { kind: 'http', path: '/status' },
      },
    },
    edges: [
      ['apps/web', 'apps/api', 'compose'],
      ['apps/web', 'apps/api', 'env-url'],
      ['apps/web', 'apps/api', 'code-ref'], // app/page.tsx reads process.env.API_URL (inside a template literal)
    ],
    order: [['apps/api'], ['apps/web']],
    patterns: ['monorepo', 'frontend-backend'],
    problems: [],
    libraries: ['packages/ui'],
    groups: [{ id: '.', kind: 'workspace', tool: ['pnpm', 'turbo'] }],
  },

  // A compose file in deploy/ building sibling folders (`build: ../api`, a Dockerfile in web/docker/); a host:port env value.
  'compose-in-subfolder': {
    services: {
      api: {
        type: 'golang',
        frameworks: ['net/http'],
        port: { container: 8080, host: 8080, source: 'compose', file: 'deploy/docker-compose.yml', line: 6 },
        health: { kind: 'http', path: '/healthz' },
        dockerfile: 'api/Dockerfile',
        env: { REDIS_ADDR: 'cache:6379' },
      },
      'deploy/docker-compose.yml#cache': {
        type: 'cache',
        name: 'cache',
        port: { container: 6379, source: 'image-default' },
      },
      // the Dockerfile in web/docker/ is web's (compose says so): web/docker is not a service of its own
      web: {
        name: 'web',
        port: { container: 80, source: 'dockerfile', file: 'web/docker/Dockerfile.prod', line: 3 },
        dockerfile: 'web/docker/Dockerfile.prod',
      },
    },
    edges: [
      ['api', 'deploy/docker-compose.yml#cache', 'compose'],
      ['api', 'deploy/docker-compose.yml#cache', 'env-url'],
      ['api', 'deploy/docker-compose.yml#cache', 'driver'], // go-redis
      ['web', 'api', 'compose'],
    ],
    order: [['deploy/docker-compose.yml#cache'], ['api'], ['web']],
    patterns: ['cache'],
    optionalPatterns: ['monolith', 'frontend-backend'],
    problems: [],
    libraries: [],
    groups: [{ id: 'deploy', kind: 'compose', tool: ['compose'] }],
  },

  // Frontends reaching the backend through their dev-server proxy (vite server.proxy) and Next.js rewrites.
  'frontend-proxies': {
    services: {
      frontend: { type: 'nodejs', frameworks: ['vite'], port: { container: 5173, source: 'framework-default' } },
      site: {
        type: 'nodejs',
        frameworks: ['next'],
        port: { container: 3000, source: 'framework-default' },
        start: { includes: 'npm start' },
      },
      backend: {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8000, source: 'framework-default' },
        health: { kind: 'http', path: '/healthz' },
      },
    },
    edges: [
      ['frontend', 'backend', 'code-ref'],
      ['site', 'backend', 'code-ref'],
    ],
    order: [['backend'], ['frontend', 'site']],
    patterns: ['frontend-backend'],
    problems: [],
    libraries: [],
  },

  // Files saved on Windows: CRLF everywhere and a UTF-8 byte order mark in package.json.
  'windows-files': {
    services: {
      api: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 5000, host: 5001, source: 'compose', file: 'compose.yaml', line: 5 },
        start: { includes: 'node server.js', source: 'dockerfile' },
        health: { kind: 'http', path: '/health' },
        packageManager: 'npm',
        env: { GREETING: 'hello from windows' },
      },
    },
    edges: [],
    order: [['api']],
    patterns: ['monolith'],
    problems: [],
    libraries: [],
  },

  // Services that only meet through Kafka: a producer with an HTTP API and two consumers (Python, Go).
  'event-driven': {
    services: {
      'compose.yaml#kafka': { type: 'queue', name: 'kafka', port: { container: 9092, source: 'image-default' } },
      orders: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, host: 3000, source: 'compose', file: 'compose.yaml', line: 13 },
        start: { includes: 'node index.js', source: 'dockerfile' },
      },
      // consumers with nothing listening are workers
      shipping: { type: 'worker', port: null, start: { includes: 'python consumer.py', source: 'dockerfile' } },
      notifications: { type: 'worker', port: null, start: { includes: '/notifications', source: 'dockerfile' } },
    },
    edges: [
      ['orders', 'compose.yaml#kafka', 'compose'],
      ['orders', 'compose.yaml#kafka', 'env-url'],
      ['orders', 'compose.yaml#kafka', 'driver'],
      ['orders', 'compose.yaml#kafka', 'code-ref'], // code reads KAFKA_BROKERS
      ['shipping', 'compose.yaml#kafka', 'compose'],
      ['shipping', 'compose.yaml#kafka', 'env-url'],
      ['shipping', 'compose.yaml#kafka', 'driver'],
      ['notifications', 'compose.yaml#kafka', 'compose'],
      ['notifications', 'compose.yaml#kafka', 'env-url'],
      ['notifications', 'compose.yaml#kafka', 'driver'],
      ['notifications', 'compose.yaml#kafka', 'code-ref'], // code reads KAFKA_ADDR
      // the order-placed topic: orders produces it, both consumers subscribe to it
      ['orders', 'shipping', 'broker'],
      ['orders', 'notifications', 'broker'],
    ],
    order: [['compose.yaml#kafka'], ['notifications', 'orders', 'shipping']],
    patterns: ['background-workers'],
    optionalPatterns: ['microservices', 'monolith'],
    problems: [],
    libraries: [],
    forbiddenRecommendations: [
      { code: 'missing-database' },
      { code: 'missing-expose', serviceId: 'shipping' },
      { code: 'missing-expose', serviceId: 'notifications' },
    ],
  },

  // `extends` from a shared file (not itself a compose file): the inherited environment links both services to redis.
  'compose-extends': {
    services: {
      api: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, host: 3000, source: 'compose', file: 'compose.yaml', line: 8 },
        env: { REDIS_URL: 'redis://redis:6379/1', NODE_ENV: 'production' },
      },
      jobs: {
        type: 'worker',
        port: null,
        start: { includes: 'node worker.js', source: 'dockerfile' },
        env: { REDIS_URL: 'redis://redis:6379/1' },
      },
      'compose.yaml#redis': { type: 'cache', name: 'redis', port: { container: 6379, source: 'image-default' } },
    },
    edges: [
      ['api', 'compose.yaml#redis', 'env-url'],
      ['api', 'compose.yaml#redis', 'driver'],
      ['api', 'compose.yaml#redis', 'code-ref'],
      ['jobs', 'compose.yaml#redis', 'env-url'],
      ['jobs', 'compose.yaml#redis', 'driver'],
      ['jobs', 'compose.yaml#redis', 'code-ref'],
      ['api', 'jobs', 'broker'], // BullMQ queue thumbnails
    ],
    order: [['compose.yaml#redis'], ['api', 'jobs']],
    patterns: ['cache', 'background-workers'],
    optionalPatterns: ['monolith'],
    problems: [],
    libraries: [],
    names: ['api', 'jobs', 'redis'],
  },

  // nginx upstream/proxy_pass in front of two services.
  'nginx-gateway': {
    services: {
      gateway: {
        type: 'proxy',
        port: { container: 80, source: 'dockerfile', file: 'gateway/Dockerfile', line: 3 },
        dockerfile: 'gateway/Dockerfile',
      },
      api: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, source: 'dockerfile', file: 'api/Dockerfile', line: 6 },
        start: { includes: 'npm start', source: 'dockerfile' },
        health: { kind: 'http', path: '/healthz' },
      },
      auth: {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8000, source: 'dockerfile', file: 'auth/Dockerfile', line: 6 },
        start: { includes: 'uvicorn main:app', source: 'dockerfile' },
        health: { kind: 'http', path: '/ping' },
      },
    },
    edges: [
      ['gateway', 'api', 'proxy-upstream'],
      ['gateway', 'auth', 'proxy-upstream'],
    ],
    order: [['api', 'auth'], ['gateway']],
    patterns: [],
    // SEMANTICS names both for a proxy in front of services; either one must be reported.
    patternsOneOf: [['reverse-proxy', 'api-gateway']],
    optionalPatterns: ['reverse-proxy', 'api-gateway', 'microservices'],
    problems: [],
    libraries: [],
  },

  // A dependency cycle, an unknown depends_on and two services publishing the same host port.
  'cycle-and-conflicts': {
    services: {
      orders: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 8080, host: 8080, source: 'compose', file: 'docker-compose.yml', line: 6 },
      },
      payments: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 9000, host: 8080, source: 'compose', file: 'docker-compose.yml', line: 12 },
      },
      inventory: {
        type: 'nodejs',
        port: { container: 7000, source: 'dockerfile', file: 'inventory/Dockerfile', line: 5 },
      },
      auth: { type: 'nodejs', port: { container: 4000, source: 'dockerfile', file: 'auth/Dockerfile', line: 5 } },
      reporting: {
        type: 'nodejs',
        port: { container: 5000, source: 'dockerfile', file: 'reporting/Dockerfile', line: 5 },
      },
    },
    edges: [
      ['orders', 'payments', 'compose'],
      ['payments', 'inventory', 'compose'],
      ['inventory', 'orders', 'compose'],
      ['reporting', 'auth', 'compose'],
    ],
    order: [['auth'], ['reporting'], ['inventory', 'orders', 'payments']],
    patterns: ['microservices'],
    problems: [
      { code: 'dependency-cycle', messageIncludes: ['orders', 'payments', 'inventory'] },
      { code: 'unknown-depends-on', file: 'docker-compose.yml', line: 25, messageIncludes: ['analytics'] },
      { code: 'port-conflict', messageIncludes: ['8080'] },
    ],
    libraries: [],
  },

  // Driver deps with a matching database service (edge) and without one (recommendation).
  'driver-deps': {
    services: {
      'compose.yaml#postgres': {
        type: 'database',
        port: { container: 5432, source: 'image-default' },
        health: { kind: 'tcp' },
      },
      'compose.yaml#mongo': { type: 'database', port: { container: 27017, source: 'image-default' } },
      catalog: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, source: 'code', file: 'catalog/index.js', line: 8 },
      },
      accounts: { type: 'python', frameworks: ['fastapi'], port: { container: 8000, source: 'framework-default' } },
      sessions: { type: 'nodejs', frameworks: ['express'] },
      events: { type: 'python', frameworks: ['fastapi'] },
      reports: { type: 'nodejs', frameworks: ['express'] },
    },
    edges: [
      ['catalog', 'compose.yaml#mongo', 'driver'],
      ['accounts', 'compose.yaml#postgres', 'driver'],
      ['catalog', 'compose.yaml#mongo', 'code-ref'], // code reads MONGO_URL (issue: "env reads found in code")
    ],
    order: [
      ['compose.yaml#mongo', 'compose.yaml#postgres', 'events', 'reports', 'sessions'],
      ['accounts', 'catalog'],
    ],
    patterns: ['database'],
    problems: [],
    libraries: [],
    recommendations: [
      { code: 'missing-database', serviceId: 'sessions' },
      { code: 'missing-database', serviceId: 'events' },
      { code: 'missing-database', serviceId: 'reports' },
    ],
    forbiddenRecommendations: [
      { code: 'missing-database', serviceId: 'catalog' },
      { code: 'missing-database', serviceId: 'accounts' },
    ],
  },

  // Broken compose YAML, package.json, Dockerfile and Cargo.toml: problems with file:line, analysis goes on.
  'malformed-inputs': {
    services: {
      api: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 8080, source: 'dockerfile', file: 'api/Dockerfile', line: 5 },
        health: { kind: 'http', path: '/healthz' },
      },
      web: { port: { container: 3000, source: 'dockerfile', file: 'web/Dockerfile', line: 5 } },
      worker: { type: 'python', port: { container: 9000, source: 'dockerfile', file: 'worker/Dockerfile', line: 6 } },
      engine: { port: { container: 3000, source: 'dockerfile', file: 'engine/Dockerfile', line: 8 } },
    },
    edges: [],
    order: [['api', 'engine', 'web', 'worker']],
    patterns: [],
    optionalPatterns: ['microservices'],
    problems: [
      { code: 'yaml-parse', file: 'compose.yaml', line: 6 },
      { code: 'json-parse', file: 'web/package.json', line: 6 },
      { code: 'dockerfile-parse', file: 'worker/Dockerfile', line: 4 },
      { code: 'toml-parse', file: 'engine/Cargo.toml', line: 6 },
    ],
    libraries: [],
  },

  // kyozo.yaml overrides every detected field; an invalid kyozo.yaml is a problem and detection still works.
  'kyozo-overrides': {
    services: {
      api: {
        type: 'nodejs',
        name: 'storefront-api',
        frameworks: ['express'],
        port: { container: 9000, source: 'kyozo.yaml', file: 'api/kyozo.yaml', line: 3 },
        start: { includes: 'node dist/main.js', source: 'kyozo.yaml' },
        health: { kind: 'http', path: '/livez' },
        replicas: 2,
        resources: { memoryMb: 512, cpus: 0.5 },
        baseImage: 'node:20-slim',
        env: { LOG_LEVEL: 'debug' },
      },
      search: {
        type: 'database',
        name: 'search',
        port: { container: 7700, source: 'dockerfile', file: 'search/Dockerfile', line: 3 },
      },
      broken: {
        type: 'nodejs',
        name: 'broken',
        frameworks: ['express'],
        replicas: 1,
        port: { container: 3000, source: 'code', file: 'broken/server.js', line: 5 },
      },
      scheduler: {
        type: 'worker',
        port: null,
        start: { includes: 'python -m scheduler', source: 'kyozo.yaml' },
        env: { API_URL: 'http://storefront-api:9000' },
      },
    },
    // kyozo.yaml depends_on has no EdgeKind of its own in protocol.ts: any kind is accepted.
    // scheduler names the api by its kyozo.yaml name (storefront-api).
    edges: [
      ['api', 'search', '*'],
      ['scheduler', 'api', '*'],
      ['scheduler', 'api', 'env-url'],
    ],
    order: [['broken', 'search'], ['api'], ['scheduler']],
    patterns: ['database', 'background-workers'],
    problems: [{ code: 'kyozo-yaml-invalid', file: 'broken/kyozo.yaml' }],
    libraries: [],
  },

  // Nested and root .gitignore, default ignores (node_modules, dist), a service nested inside a service.
  'gitignore-nesting': {
    services: {
      api: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, source: 'code', file: 'api/src/index.js', line: 7 },
        health: { kind: 'http', path: '/health' },
        start: { includes: 'npm start', source: 'script' },
      },
      'api/admin': {
        type: 'nodejs',
        name: 'admin',
        frameworks: ['express'],
        port: { container: 3100, source: 'code', file: 'api/admin/server.js', line: 5 },
      },
      web: { type: 'static', port: { container: 80, source: 'framework-default' } },
    },
    edges: [],
    order: [['api', 'api/admin', 'web']],
    patterns: [],
    optionalPatterns: ['frontend-backend'],
    problems: [],
    libraries: [],
    forbiddenPathPrefixes: [
      'generated/',
      'sandbox/',
      'api/tmp/',
      'api/node_modules/',
      'web/dist/',
      'api/settings.local',
    ],
  },

  // Terraform folder (infrastructure: listed, never in order) beside one app with a Dockerfile HEALTHCHECK;
  // Kubernetes manifests, a Helm chart and a CI workflow with service containers are not services.
  'terraform-app': {
    services: {
      infra: { type: 'infrastructure' },
      app: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 8080, source: 'dockerfile', file: 'app/Dockerfile', line: 6 },
        health: { kind: 'command' },
        start: { includes: 'node server.js', source: 'dockerfile' },
        dockerfile: 'app/Dockerfile',
      },
    },
    edges: [],
    order: [['app']],
    patterns: ['monolith'],
    problems: [],
    libraries: [],
  },

  // Heroku-style root app: Procfile web + worker + release; the root folder itself is the service.
  'heroku-app': {
    services: {
      '.': {
        type: 'python',
        name: 'heroku-app',
        frameworks: ['fastapi'],
        port: { container: 8080, source: 'procfile', file: 'Procfile', line: 1 },
        start: { includes: 'uvicorn main:app --host 0.0.0.0 --port 8080', source: 'procfile' },
        health: { kind: 'http', path: '/health' },
        dockerfile: null,
        packageManager: 'pip',
      },
    },
    edges: [],
    order: [['.']],
    patterns: ['monolith'],
    optionalPatterns: ['background-workers'],
    problems: [],
    libraries: [],
    recommendations: [{ code: 'missing-database', serviceId: '.' }],
  },
};

for (const [name, exp] of Object.entries(expected)) {
  test(`topology of fixture ${name}`, async () => {
    const topo = await analyze(join(FIXTURES, name));
    const mismatches = checkTopology(topo, exp);
    assert.deepEqual(mismatches, [], `fixture ${name}:\n  ${mismatches.join('\n  ')}`);
  });
}
