// The bundled example (`npx kyozo analyze examples/shop` in the README) has its expected topology asserted too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../server/src/engine';
import { checkTopology, type ExpectedTopology } from '../support/fixture-expect';

const SHOP = join(__dirname, '..', '..', 'examples', 'shop');

export const expected: ExpectedTopology = {
  services: {
    gateway: {
      type: 'proxy',
      port: { container: 80, host: 8080, source: 'compose', file: 'compose.yaml', line: 7 },
      dockerfile: 'gateway/Dockerfile',
    },
    web: {
      type: 'nodejs',
      frameworks: ['vite'],
      port: { container: 80, source: 'dockerfile', file: 'web/Dockerfile', line: 8 },
      libraries: ['packages/shared'],
    },
    api: {
      type: 'nodejs',
      frameworks: ['express'],
      port: { container: 3000, source: 'dockerfile', file: 'api/Dockerfile', line: 7 },
      start: { includes: 'node src/server.js', source: 'dockerfile' },
      health: { kind: 'http', path: '/healthz' },
      libraries: ['packages/shared'],
      packageManager: 'npm',
    },
    users: {
      type: 'python',
      frameworks: ['fastapi'],
      port: { container: 8000, source: 'dockerfile', file: 'users/Dockerfile', line: 8 },
      start: { includes: 'uvicorn app.main:app', source: 'dockerfile' },
      health: { kind: 'http', path: '/healthz' },
    },
    orders: {
      type: 'golang',
      frameworks: ['chi'],
      port: { container: 8080, source: 'dockerfile', file: 'orders/Dockerfile', line: 10 },
      health: { kind: 'http', path: '/healthz' },
    },
    worker: { type: 'worker', port: null, start: { includes: 'node src/worker.js' }, libraries: ['packages/shared'] },
    'compose.yaml#db': {
      type: 'database',
      image: 'postgres:16-alpine',
      port: { container: 5432, source: 'image-default' },
      health: { kind: 'command' },
    },
    'compose.yaml#cache': {
      type: 'cache',
      image: 'redis:7-alpine',
      port: { container: 6379, source: 'image-default' },
      health: { kind: 'tcp' },
    },
  },
  edges: [
    ['gateway', 'web', 'compose'],
    ['gateway', 'api', 'compose'],
    ['gateway', 'web', 'proxy-upstream'],
    ['gateway', 'api', 'proxy-upstream'],
    ['api', 'compose.yaml#db', 'compose'],
    ['api', 'compose.yaml#cache', 'compose'],
    ['api', 'users', 'compose'],
    ['api', 'orders', 'compose'],
    ['api', 'compose.yaml#db', 'env-url'],
    ['api', 'compose.yaml#cache', 'env-url'],
    ['api', 'users', 'env-url'],
    ['api', 'orders', 'env-url'],
    ['api', 'compose.yaml#db', 'driver'],
    ['api', 'compose.yaml#cache', 'driver'],
    // the code reads USERS_URL / ORDERS_URL (issue: "env reads found in code")
    ['api', 'users', 'code-ref'],
    ['api', 'orders', 'code-ref'],
    ['users', 'compose.yaml#db', 'compose'],
    ['users', 'compose.yaml#db', 'env-url'],
    ['users', 'compose.yaml#db', 'driver'],
    ['orders', 'compose.yaml#db', 'compose'],
    ['orders', 'compose.yaml#db', 'env-url'],
    ['orders', 'compose.yaml#db', 'driver'],
    ['worker', 'compose.yaml#cache', 'compose'],
    ['worker', 'compose.yaml#cache', 'env-url'],
    ['worker', 'compose.yaml#cache', 'driver'],
    ['api', 'worker', 'broker'], // new Queue('emails') in the api, new Worker('emails') in the worker (BullMQ)
  ],
  order: [['compose.yaml#cache', 'compose.yaml#db', 'web'], ['orders', 'users', 'worker'], ['api'], ['gateway']],
  patterns: ['frontend-backend', 'microservices', 'database', 'cache', 'background-workers', 'monorepo'],
  patternsOneOf: [['reverse-proxy', 'api-gateway']],
  optionalPatterns: ['reverse-proxy', 'api-gateway'],
  problems: [],
  libraries: ['packages/shared'],
  forbiddenRecommendations: [
    { code: 'missing-database' },
    { code: 'secret-literal' },
    { code: 'no-dockerfile' },
    // every Dockerfile of the example EXPOSEs its port
    { code: 'missing-expose' },
  ],
  groups: [{ id: '.', kind: 'workspace', tool: ['npm'] }],
};

test('topology of the bundled example examples/shop', async () => {
  const topo = await analyze(SHOP);
  const mismatches = checkTopology(topo, expected);
  assert.deepEqual(mismatches, [], `examples/shop:\n  ${mismatches.join('\n  ')}`);
  assert.equal(topo.name, 'shop');
});

test('the README command `kyozo analyze examples/shop` prints every service, the patterns and the order', (t) => {
  const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
  if (!existsSync(cli)) return t.skip('dist/cli.js is missing: run `npm run build` first');
  const r = spawnSync(process.execPath, [cli, 'analyze', 'examples/shop'], {
    cwd: join(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  for (const word of [
    'gateway',
    'web',
    'api',
    'users',
    'orders',
    'worker',
    'db',
    'cache',
    'express',
    'fastapi',
    'chi',
    'vite',
    '3000',
    '8000',
    '8080',
    '5432',
    '6379',
  ]) {
    assert.ok(r.stdout.includes(word), `output mentions ${word}:\n${r.stdout}`);
  }
});
