// Expected topologies of the per-ecosystem fixtures (one detector each), per SEMANTICS of issue 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';
import { checkTopology, FIXTURES, type ExpectedTopology } from '../support/fixture-expect';

export const expected: Record<string, ExpectedTopology> = {
  // express / fastify / koa / nestjs with npm, pnpm, yarn and bun lockfiles; ports from code and a PORT=4000 script.
  'node-apis': {
    services: {
      'express-api': {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, source: 'code', file: 'express-api/server.js', line: 10, envVar: 'PORT' },
        start: { includes: 'npm start', source: 'script' },
        health: { kind: 'http', path: '/health' },
        dockerfile: null,
        packageManager: 'npm',
      },
      'fastify-api': {
        type: 'nodejs',
        frameworks: ['fastify'],
        port: { container: 3001, source: 'code', file: 'fastify-api/app.js', line: 8 },
        start: { includes: 'pnpm start', source: 'script' },
        health: { kind: 'http', path: '/ping' },
        packageManager: 'pnpm',
      },
      'koa-api': {
        type: 'nodejs',
        frameworks: ['koa'],
        port: { container: 4000, source: 'script', file: 'koa-api/package.json' },
        start: { includes: 'yarn start', source: 'script' },
        health: { kind: 'http', path: '/status' },
        packageManager: 'yarn',
      },
      'nest-api': {
        type: 'nodejs',
        frameworks: ['nestjs'],
        port: { container: 8081, source: 'code', file: 'nest-api/src/main.ts', line: 6 },
        // `nest start` needs the CLI, a dev dependency: the production start is `start:prod` (node dist/main)
        start: { includes: 'npm run start:prod', source: 'script' },
        health: null,
        packageManager: 'npm',
      },
      // bun.lock (text lockfile of Bun 1.2): Bun is the package manager and runs the start script
      'bun-api': {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3002, source: 'code', file: 'bun-api/src/index.ts', line: 5, envVar: 'PORT' },
        start: { includes: 'bun', source: 'script' },
        health: { kind: 'http', path: '/healthz' },
        packageManager: 'bun',
      },
    },
    edges: [],
    order: [['bun-api', 'express-api', 'fastify-api', 'koa-api', 'nest-api']],
    patterns: [],
    problems: [],
    libraries: [],
  },

  // next (with `-p 3005`), nuxt, remix, sveltekit (node adapter), astro, a vite SPA.
  'node-frontends': {
    services: {
      storefront: {
        type: 'nodejs',
        frameworks: ['next'],
        port: { container: 3005, source: 'script', file: 'storefront/package.json' },
        start: { includes: 'npm start', source: 'script' },
        packageManager: 'npm',
      },
      blog: {
        type: 'nodejs',
        frameworks: ['nuxt'],
        port: { container: 3000, source: 'framework-default' },
        packageManager: 'pnpm',
      },
      'remix-shop': {
        type: 'nodejs',
        frameworks: ['remix'],
        port: { container: 3000, source: 'framework-default' },
        start: { includes: 'npm start' },
      },
      kit: {
        type: 'nodejs',
        frameworks: ['sveltekit'],
        port: { container: 3000, source: 'framework-default' },
        start: { includes: 'pnpm start' },
      },
      'docs-site': {
        type: 'nodejs',
        frameworks: ['astro'],
        port: { container: 4321, source: 'framework-default' },
        packageManager: 'yarn',
      },
      dashboard: {
        type: 'nodejs',
        frameworks: ['vite'],
        port: { container: 5173, source: 'framework-default' },
        packageManager: 'npm',
      },
    },
    edges: [],
    order: [['blog', 'dashboard', 'docs-site', 'kit', 'remix-shop', 'storefront']],
    patterns: [],
    problems: [],
    libraries: [],
  },

  // requirements.txt, poetry, uv, pdm, Pipfile, setup.py; flask, fastapi, django, streamlit, a celery worker.
  'python-services': {
    services: {
      'flask-app': {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 5050, source: 'code', file: 'flask-app/app.py', line: 32 },
        health: { kind: 'http', path: '/health' },
        packageManager: 'pip',
        dockerfile: null,
      },
      'fastapi-poetry': {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8010, source: 'code', file: 'fastapi-poetry/app/main.py', line: 15 },
        packageManager: 'poetry',
      },
      'uv-api': {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8000, source: 'framework-default' },
        start: { includes: 'uvicorn main:app' },
        health: { kind: 'http', path: '/readyz' },
        packageManager: 'uv',
      },
      'pdm-service': {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 7000, source: 'code', file: 'pdm-service/server.py', line: 21, envVar: 'PORT' },
        packageManager: 'pdm',
      },
      'django-site': {
        type: 'python',
        frameworks: ['django'],
        port: { container: 8000, source: 'framework-default' },
        // gunicorn is a dependency, so it (not `manage.py runserver`) is the production start a user expects
        start: { includes: 'gunicorn mysite.wsgi', source: 'framework-default' },
        packageManager: 'pipenv',
      },
      'streamlit-dash': {
        type: 'python',
        frameworks: ['streamlit'],
        port: { container: 8501, source: 'framework-default' },
        start: { includes: 'streamlit run app.py' },
        packageManager: 'pip',
      },
      'setuppy-service': {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 5000, source: 'framework-default' },
      },
      'celery-worker': {
        type: 'worker',
        frameworks: ['celery'],
        port: null,
        start: { includes: 'celery' },
        packageManager: 'pip',
      },
    },
    edges: [['flask-app', 'uv-api', 'code-ref']], // httpx.Client(base_url="http://uv-api:8000")
    order: [
      ['celery-worker', 'django-site', 'fastapi-poetry', 'pdm-service', 'setuppy-service', 'streamlit-dash', 'uv-api'],
      ['flask-app'],
    ],
    patterns: ['background-workers'],
    problems: [],
    libraries: [],
    recommendations: [
      { code: 'missing-database', serviceId: 'flask-app' },
      { code: 'missing-database', serviceId: 'celery-worker' },
    ],
    forbiddenRecommendations: [{ code: 'missing-database', serviceId: 'streamlit-dash' }],
    // a committed virtualenv and bytecode are noise
    forbiddenPathPrefixes: ['flask-app/.venv/', 'flask-app/__pycache__/'],
  },

  // go.work with chi (calling two others by URL in code), gin, echo, fiber, net/http and a library module.
  'go-services': {
    services: {
      gateway: {
        type: 'golang',
        frameworks: ['chi'],
        port: { container: 8090, source: 'code', file: 'gateway/main.go', line: 29 },
        health: { kind: 'http', path: '/healthz' },
        libraries: ['pkg/logging'],
        packageManager: 'go',
      },
      inventory: {
        type: 'golang',
        frameworks: ['gin'],
        port: { container: 8081, source: 'code', file: 'inventory/main.go', line: 14 },
      },
      catalog: { type: 'golang', frameworks: ['echo'], port: { container: 1323, source: 'framework-default' } },
      ledger: {
        type: 'golang',
        frameworks: ['fiber'],
        port: { container: 3002, source: 'code', file: 'ledger/main.go', line: 37 },
      },
      status: {
        type: 'golang',
        frameworks: ['net/http'],
        port: { container: 8085, source: 'code', file: 'status/main.go', line: 17 },
        health: { kind: 'http', path: '/healthz' },
        start: { includes: 'go run', source: 'framework-default' },
      },
    },
    edges: [
      ['gateway', 'inventory', 'code-ref'],
      ['gateway', 'catalog', 'code-ref'],
      ['ledger', 'inventory', 'code-ref'], // grpc.NewClient("inventory:50051")
    ],
    order: [
      ['catalog', 'inventory', 'status'],
      ['gateway', 'ledger'],
    ],
    patterns: ['monorepo', 'microservices'],
    optionalPatterns: ['api-gateway', 'reverse-proxy'],
    problems: [],
    libraries: ['pkg/logging'],
    recommendations: [{ code: 'missing-database', serviceId: 'ledger' }],
    groups: [{ id: '.', kind: 'workspace', tool: ['go'] }],
  },

  // Cargo workspace: actix, axum, rocket, warp and a library crate.
  'rust-workspace': {
    services: {
      'services/accounts': {
        type: 'rust',
        frameworks: ['actix'],
        port: { container: 8088, source: 'code', file: 'services/accounts/src/main.rs', line: 19 },
        health: { kind: 'http', path: '/health' },
        libraries: ['crates/common'],
        packageManager: 'cargo',
      },
      'services/payments': {
        type: 'rust',
        frameworks: ['axum'],
        port: { container: 3000, source: 'code', file: 'services/payments/src/main.rs', line: 16 },
        health: { kind: 'http', path: '/healthz' },
        libraries: ['crates/common'],
      },
      'services/catalog': {
        type: 'rust',
        frameworks: ['rocket'],
        port: { container: 8000, source: 'framework-default' },
        start: { includes: 'cargo run' },
        libraries: [],
      },
      'services/webhooks': {
        type: 'rust',
        frameworks: ['warp'],
        port: { container: 3030, source: 'dockerfile', file: 'services/webhooks/Dockerfile', line: 8 },
        dockerfile: 'services/webhooks/Dockerfile',
      },
    },
    edges: [],
    order: [['services/accounts', 'services/catalog', 'services/payments', 'services/webhooks']],
    patterns: ['monorepo'],
    problems: [],
    libraries: ['crates/common'],
    recommendations: [{ code: 'missing-database', serviceId: 'services/accounts' }],
    groups: [{ id: '.', kind: 'workspace', tool: ['cargo'] }],
    forbiddenPathPrefixes: ['target/'],
  },

  // Spring Boot with Maven (server.port in application.properties) and with Gradle (default port; application.yml port).
  'java-spring': {
    services: {
      orders: {
        type: 'java',
        frameworks: ['spring-boot'],
        port: { container: 8181, source: 'config', file: 'orders/src/main/resources/application.properties', line: 2 },
        packageManager: 'maven',
      },
      inventory: {
        type: 'java',
        frameworks: ['spring-boot'],
        port: { container: 8080, source: 'framework-default' },
        packageManager: 'gradle',
      },
      // Groovy build.gradle, server.port nested in application.yml, a /healthz mapping
      billing: {
        type: 'java',
        frameworks: ['spring-boot'],
        packageManager: 'gradle',
        health: { kind: 'http', path: '/healthz' },
        port: { container: 8282, source: 'config', file: 'billing/src/main/resources/application.yml', line: 5 },
      },
    },
    edges: [['orders', 'inventory', 'code-ref']], // RestClient.create("http://inventory:8080")
    order: [['billing', 'inventory'], ['orders']],
    patterns: [],
    problems: [],
    libraries: [],
  },

  // Rails and Sinatra Gemfiles, a Sidekiq worker from a Procfile.
  'ruby-apps': {
    services: {
      storefront: {
        type: 'ruby',
        frameworks: ['rails'],
        port: { container: 3000, source: 'framework-default' },
        packageManager: 'bundler',
      },
      webhooks: {
        type: 'ruby',
        frameworks: ['sinatra'],
        port: { container: 4567, source: 'framework-default' },
        health: { kind: 'http', path: '/health' },
        packageManager: 'bundler',
      },
      // a Procfile with only a worker process: Sidekiq
      jobs: {
        type: 'worker',
        port: null,
        start: { includes: 'bundle exec sidekiq', source: 'procfile' },
        packageManager: 'bundler',
      },
    },
    edges: [],
    order: [['jobs', 'storefront', 'webhooks']],
    patterns: ['background-workers'],
    recommendations: [{ code: 'missing-database', serviceId: 'jobs' }],
    problems: [],
    libraries: [],
  },

  // composer.json (Slim) and an ASP.NET minimal API (*.csproj).
  'php-dotnet': {
    services: {
      billing: {
        type: 'php',
        port: { container: 8080, source: 'framework-default' },
        health: { kind: 'http', path: '/health' },
        packageManager: 'composer',
      },
      'Reports.Api': {
        type: 'dotnet',
        name: 'reports-api',
        frameworks: ['aspnet'],
        port: { container: 8080, source: 'framework-default' },
        health: { kind: 'http', path: '/healthz' },
        packageManager: 'dotnet',
      },
    },
    edges: [['Reports.Api', 'billing', 'code-ref']], // AddHttpClient(... new Uri("http://billing:8080"))
    order: [['billing'], ['Reports.Api']],
    patterns: [],
    problems: [],
    libraries: [],
    // committed vendor/ and .NET bin/obj output are noise, never services or evidence
    forbiddenPathPrefixes: ['billing/vendor/', 'Reports.Api/bin/', 'Reports.Api/obj/'],
  },

  // Poetry path dependencies on a shared library; the FastAPI app lives in a package (no __main__ block).
  'python-monorepo': {
    services: {
      'services/orders': {
        type: 'python',
        name: 'orders',
        frameworks: ['fastapi'],
        port: { container: 8000, source: 'framework-default' },
        start: { includes: 'uvicorn orders.main:app' },
        health: { kind: 'http', path: '/health' },
        packageManager: 'poetry',
        libraries: ['libs/common'],
      },
      'services/emails': {
        type: 'worker',
        name: 'emails',
        frameworks: ['celery'],
        port: null,
        start: { includes: 'celery' },
        packageManager: 'poetry',
        libraries: ['libs/common'],
      },
    },
    edges: [],
    order: [['services/emails', 'services/orders']],
    patterns: ['background-workers'],
    optionalPatterns: ['monorepo'],
    problems: [],
    libraries: ['libs/common'],
    recommendations: [{ code: 'missing-database', serviceId: 'services/emails' }],
  },

  // The standard Go layout: one go.mod at the root, one binary per cmd/<name>; the root itself starts nothing.
  'go-cmd-layout': {
    services: {
      'cmd/api': {
        type: 'golang',
        name: 'api',
        frameworks: ['chi'],
        port: { container: 8181, source: 'code', file: 'cmd/api/main.go', line: 27 },
        health: { kind: 'http', path: '/healthz' },
        start: { includes: 'go run ./cmd/api' },
      },
      // an asynq server: a queue consumer with nothing listening
      'cmd/worker': { type: 'worker', name: 'worker', port: null, start: { includes: 'go run ./cmd/worker' } },
    },
    edges: [],
    order: [['cmd/api', 'cmd/worker']],
    patterns: ['background-workers'],
    problems: [],
    libraries: [],
  },

  // Maven multi-module: a parent pom (packaging pom), two Spring Boot services and a plain jar module.
  'maven-multimodule': {
    services: {
      'catalog-service': {
        type: 'java',
        frameworks: ['spring-boot'],
        packageManager: 'maven',
        libraries: ['shared-model'],
        port: {
          container: 8081,
          source: 'config',
          file: 'catalog-service/src/main/resources/application.properties',
          line: 1,
        },
      },
      'checkout-service': {
        type: 'java',
        frameworks: ['spring-boot'],
        packageManager: 'maven',
        libraries: ['shared-model'],
        // server.port=${PORT:8082}: a Spring placeholder with a default
        port: {
          container: 8082,
          source: 'config',
          file: 'checkout-service/src/main/resources/application.properties',
          line: 2,
          envVar: 'PORT',
        },
      },
    },
    edges: [],
    order: [['catalog-service', 'checkout-service']],
    patterns: [],
    optionalPatterns: ['monorepo'],
    problems: [],
    libraries: ['shared-model'],
  },

  // A plain index.html site at the root.
  'static-site': {
    services: {
      '.': {
        type: 'static',
        name: 'static-site',
        port: { container: 80, source: 'framework-default' },
        dockerfile: null,
      },
    },
    edges: [],
    order: [['.']],
    patterns: ['monolith'],
    problems: [],
    libraries: [],
  },

  // Dockerfile, Dockerfile.dev beside it, api.Dockerfile, Dockerfile.dev alone, a Dockerfile without EXPOSE, EXPOSE from an ARG.
  'dockerfile-variants': {
    services: {
      api: {
        type: 'golang',
        frameworks: ['net/http'],
        port: { container: 9090, source: 'dockerfile', file: 'api/api.Dockerfile', line: 12 },
        health: { kind: 'command' },
        start: { includes: '/usr/local/bin/api', source: 'dockerfile' },
        dockerfile: 'api/api.Dockerfile',
      },
      app: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3000, source: 'dockerfile', file: 'app/Dockerfile', line: 6 },
        dockerfile: 'app/Dockerfile',
        start: { includes: 'node server.js', source: 'dockerfile' },
      },
      legacy: {
        type: 'containerized',
        port: null,
        start: { includes: 'backup.sh', source: 'dockerfile' },
        dockerfile: 'legacy/Dockerfile',
      },
      tools: {
        type: 'nodejs',
        frameworks: ['express'],
        port: { container: 3300, source: 'code', file: 'tools/index.js', line: 5 },
        dockerfile: 'tools/Dockerfile',
      },
      // EXPOSE $APP_PORT with ARG APP_PORT=7070; index.html and no server manifest make it static
      args: {
        type: 'static',
        port: { container: 7070, source: 'dockerfile', file: 'args/Dockerfile', line: 6 },
        dockerfile: 'args/Dockerfile',
      },
      // UDP and TCP on one EXPOSE line
      dns: {
        type: 'containerized',
        port: { container: 53, source: 'dockerfile', file: 'dns/Dockerfile', line: 3 },
        allPorts: ['53/udp', '53/tcp', '9153/tcp'],
        dockerfile: 'dns/Dockerfile',
      },
      devbox: {
        type: 'containerized',
        port: { container: 8888, source: 'dockerfile', file: 'devbox/Dockerfile.dev', line: 4 },
        dockerfile: 'devbox/Dockerfile.dev',
      },
    },
    edges: [],
    order: [['api', 'app', 'args', 'devbox', 'dns', 'legacy', 'tools']],
    patterns: [],
    problems: [],
    libraries: [],
    recommendations: [{ code: 'missing-expose', serviceId: 'tools' }],
    forbiddenRecommendations: [
      { code: 'missing-expose', serviceId: 'api' },
      { code: 'missing-expose', serviceId: 'app' },
      { code: 'missing-expose', serviceId: 'legacy' },
      { code: 'missing-expose', serviceId: 'devbox' },
    ],
  },

  // One folder per port source, from strongest to weakest.
  'port-sources': {
    services: {
      'from-dockerfile': {
        type: 'nodejs',
        port: { container: 5005, source: 'dockerfile', file: 'from-dockerfile/Dockerfile', line: 6 },
      },
      'from-procfile': {
        type: 'python',
        port: { container: 5100, source: 'procfile', file: 'from-procfile/Procfile', line: 1 },
        start: { includes: 'uvicorn app:app', source: 'procfile' },
      },
      'from-script-env': {
        type: 'nodejs',
        port: { container: 4000, source: 'script', file: 'from-script-env/package.json' },
      },
      'from-script-flag': {
        type: 'nodejs',
        frameworks: ['vite'],
        port: { container: 8080, source: 'script', file: 'from-script-flag/package.json' },
      },
      'from-code': {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 5055, source: 'code', file: 'from-code/app.py', line: 14, envVar: 'PORT' },
      },
      'from-default': {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8000, source: 'framework-default' },
      },
      'from-go-code': {
        type: 'golang',
        port: { container: 9100, source: 'code', file: 'from-go-code/main.go', line: 10 },
      },
      // common idioms: a named constant, a config module, os.getenv with an int default, Go's `if port == ""` default
      'from-const': { type: 'nodejs', port: { container: 5000, source: 'code', file: 'from-const/server.js' } },
      // the number is in src/config.js, the listen call in src/index.js: either is fair evidence, so no file is pinned
      'from-config-module': {
        type: 'nodejs',
        frameworks: ['koa'],
        port: { container: 8088, source: 'code', envVar: 'PORT' },
      },
      'from-getenv': {
        type: 'python',
        frameworks: ['fastapi'],
        port: { container: 8070, source: 'code', file: 'from-getenv/main.py', line: 15, envVar: 'PORT' },
      },
      'from-go-env': {
        type: 'golang',
        port: { container: 9300, source: 'code', file: 'from-go-env/main.go', envVar: 'PORT' },
      },
      'from-nullish': {
        type: 'nodejs',
        frameworks: ['fastify'],
        port: { container: 4500, source: 'code', file: 'from-nullish/src/server.ts', envVar: 'PORT' },
        health: { kind: 'http', path: '/livez' },
      },
      // tool configuration files: vite server.port, gunicorn bind (stronger than the Procfile, which names no port)
      'from-vite-config': {
        type: 'nodejs',
        frameworks: ['vite'],
        port: { container: 4200, source: 'config', file: 'from-vite-config/vite.config.js', line: 5 },
      },
      'from-gunicorn-conf': {
        type: 'python',
        frameworks: ['flask'],
        port: { container: 8050, source: 'config', file: 'from-gunicorn-conf/gunicorn.conf.py', line: 3 },
        start: { includes: 'gunicorn -c gunicorn.conf.py app:app', source: 'procfile' },
      },
    },
    edges: [],
    order: [
      [
        'from-code',
        'from-config-module',
        'from-const',
        'from-default',
        'from-dockerfile',
        'from-getenv',
        'from-go-code',
        'from-go-env',
        'from-gunicorn-conf',
        'from-nullish',
        'from-procfile',
        'from-script-env',
        'from-script-flag',
        'from-vite-config',
      ],
    ],
    patterns: [],
    problems: [],
    libraries: [],
  },
};

for (const [name, exp] of Object.entries(expected)) {
  test(`topology of fixture ${name}`, async () => {
    const topo = await analyze(join(FIXTURES, name));
    const mismatches = checkTopology(topo, exp);
    assert.deepEqual(mismatches, [], `fixture ${name}:\n  ${mismatches.join('\n  ')}`);
  });
}
