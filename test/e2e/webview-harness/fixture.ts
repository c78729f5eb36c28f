// A small, realistic topology: a proxy in front of a pnpm workspace, Go and Python services in a folder,
// compose-managed data stores, and one service whose name is markup (it must render as text).
import {
  TOPOLOGY_VERSION,
  type Edge,
  type EdgeKind,
  type Service,
  type ServiceType,
  type Topology,
} from '../../../server/src/protocol';
import { waves } from './generate';

export const XSS_NAME = '<img src=x onerror="window.__kyozoXss=1">';

function service(
  id: string,
  name: string,
  type: ServiceType,
  port: number | undefined,
  extra: Partial<Service> = {},
): Service {
  const folder = id.includes('#') ? '.' : id;
  return {
    id,
    name,
    folder,
    type,
    frameworks: [],
    confidence: 0.95,
    replicas: 1,
    indicators: [`${folder}/Dockerfile`],
    evidence: [
      {
        file: id.includes('#') ? id.split('#')[0] : `${folder}/package.json`,
        line: 1,
        reason: `${type} service indicator`,
      },
    ],
    ports: port
      ? [
          {
            container: port,
            protocol: 'tcp',
            source: 'code',
            evidence: { file: `${folder}/server.js`, line: 7, reason: `listen(${port})` },
          },
        ]
      : [],
    env: [],
    ...extra,
  };
}

export function shopTopology(): Topology {
  const services: Service[] = [
    service('proxy', 'proxy', 'proxy', 80),
    service('apps/web', 'web', 'nodejs', 5173, { frameworks: ['vite'], group: 'apps' }),
    service('apps/api', 'api', 'nodejs', 3000, {
      frameworks: ['express'],
      group: 'apps',
      replicas: 2,
      env: [
        {
          name: 'DATABASE_URL',
          value: 'postgres://admin:hunter2@db:5432/shop',
          secret: true,
          evidence: { file: 'apps/api/.env', line: 1, reason: '.env file' },
        },
        {
          name: 'REDIS_URL',
          value: 'redis://cache:6379',
          secret: false,
          evidence: { file: 'apps/api/.env', line: 2, reason: '.env file' },
        },
        {
          name: 'PORT',
          secret: false,
          evidence: { file: 'apps/api/src/server.ts', line: 4, reason: 'process.env.PORT read in code' },
        },
      ],
      healthCheck: {
        kind: 'http',
        path: '/healthz',
        port: 3000,
        evidence: { file: 'apps/api/src/server.ts', line: 20, reason: "route '/healthz'" },
      },
    }),
    service('apps/admin', 'admin', 'nodejs', 3001, { frameworks: ['next'], group: 'apps' }),
    service('services/payments', 'payments', 'golang', 8080),
    service('services/notifier', 'notifier', 'worker', undefined, { language: 'python' }),
    service('docker-compose.yml#db', 'db', 'database', 5432, { image: 'postgres:16' }),
    service('docker-compose.yml#cache', 'cache', 'cache', 6379, { image: 'redis:7' }),
    service('docker-compose.yml#queue', 'queue', 'queue', 5672, { image: 'rabbitmq:3' }),
    service('evil', XSS_NAME, 'static', 8081),
  ];
  const e = (from: string, to: string, kind: EdgeKind, reason: string): Edge => ({
    from,
    to,
    kind,
    evidence: [{ file: `${from.split('#')[0]}/config`, line: 3, reason }],
  });
  const edges: Edge[] = [
    e('proxy', 'apps/web', 'proxy-upstream', 'proxy_pass http://web:5173'),
    e('proxy', 'apps/api', 'proxy-upstream', 'proxy_pass http://api:3000'),
    e('apps/web', 'apps/api', 'code-ref', "fetch('http://api:3000')"),
    e('apps/admin', 'apps/api', 'workspace-package', '@shop/api-client'),
    e('apps/api', 'docker-compose.yml#db', 'env-url', 'DATABASE_URL=postgres://db:5432'),
    e('apps/api', 'docker-compose.yml#cache', 'driver', 'ioredis in package.json'),
    e('apps/api', 'docker-compose.yml#queue', 'driver', 'amqplib in package.json'),
    e('apps/api', 'services/payments', 'env-url', 'PAYMENTS_URL=http://payments:8080'),
    e('services/payments', 'docker-compose.yml#db', 'compose', 'depends_on: db'),
    e('services/notifier', 'docker-compose.yml#queue', 'compose', 'depends_on: queue'),
    e('services/notifier', 'docker-compose.yml#db', 'env-url', 'DB_HOST=db'),
  ];
  return {
    version: TOPOLOGY_VERSION,
    root: '/work/shop',
    name: 'shop',
    generatedAt: '2026-01-01T00:00:00.000Z',
    services,
    edges,
    libraries: [],
    groups: [
      {
        id: 'apps',
        kind: 'workspace',
        tool: 'pnpm',
        members: ['apps/web', 'apps/api', 'apps/admin'],
        evidence: [{ file: 'pnpm-workspace.yaml', line: 1, reason: 'pnpm workspace' }],
      },
    ],
    patterns: [
      { kind: 'reverse-proxy', services: ['proxy', 'apps/web', 'apps/api'], description: 'nginx in front' },
      { kind: 'database', services: ['docker-compose.yml#db'], description: 'postgres' },
    ],
    order: waves(
      services.map((s) => s.id),
      edges,
    ),
    problems: [],
    recommendations: [],
    stats: { files: 40, folders: 12, durationMs: 5 },
  };
}
