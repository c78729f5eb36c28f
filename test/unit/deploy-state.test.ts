import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EventLog } from '../../server/src/engine/deploy/event-log';
import { allocatePorts } from '../../server/src/engine/deploy/port-allocator';
import { resolveStateDir, StateStore } from '../../server/src/engine/deploy/state-store';
import { serviceEnvironment } from '../../server/src/engine/deploy/service-env';
import { edge, port, service, topology } from '../support/docker-topology-builder';

const tmp = () => mkdtempSync(join(tmpdir(), 'kyozo-state-'));

describe('deploy state', () => {
  test('the state folder is per workspace, outside the repository, private, and overridable', () => {
    const base = tmp();
    const a = resolveStateDir('/repo/a', 'shop', base);
    const b = resolveStateDir('/repo/b', 'shop', base);
    assert.notEqual(a, b, 'two roots with the same name do not share state');
    assert.ok(a.startsWith(base));
    assert.equal(statSync(a).mode & 0o777, 0o700);
    process.env.KYOZO_STATE_DIR = base;
    try {
      assert.ok(resolveStateDir('/repo/c', 'x').startsWith(base));
    } finally {
      delete process.env.KYOZO_STATE_DIR;
    }
  });

  test('event log: appended lines survive, a torn last line is skipped, filters by service', () => {
    const dir = tmp();
    const log = new EventLog(dir, 'shop');
    log.append('deployment_started', { details: { deployment: 'd1' } });
    log.append('service_started', { serviceId: 'api', durationMs: 1200 });
    log.append('service_started', { serviceId: 'web', durationMs: 900 });
    appendFileSync(log.file, '{"id":"torn","ty');
    const again = new EventLog(dir, 'shop');
    assert.equal(again.read().length, 3);
    assert.deepEqual(
      again.read('api').map((e) => e.type),
      ['deployment_started', 'service_started'],
    );
    assert.equal(again.read('api')[1]!.durationMs, 1200);
    assert.equal(statSync(log.file).mode & 0o777, 0o600);
    assert.ok(readFileSync(log.file, 'utf8').split('\n')[0]!.startsWith('{'));
  });

  test('ports: stable across calls, requested port honoured, a taken port replaced and reported', async () => {
    const store = new StateStore(tmp());
    const [first] = await allocatePorts(
      store,
      [{ serviceId: 'api', replica: 1, container: 3000, protocol: 'tcp' }],
      new Map(),
    );
    const [second] = await allocatePorts(
      store,
      [{ serviceId: 'api', replica: 1, container: 3000, protocol: 'tcp' }],
      new Map(),
    );
    assert.equal(second!.host, first!.host);
    assert.equal(second!.conflict, undefined);
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const [c] = await allocatePorts(
        store,
        [{ serviceId: 'web', replica: 1, container: 80, protocol: 'tcp', requested: taken }],
        new Map(),
      );
      assert.notEqual(c!.host, taken);
      assert.match(
        c!.conflict ?? '',
        new RegExp(`host port ${taken} for web:80 is in use by another program; using ${c!.host} instead`),
      );
      // Our own container holding the port counts as free for the same key (a restart keeps it).
      const key = `web/1/80/tcp`;
      const [d] = await allocatePorts(
        store,
        [{ serviceId: 'web', replica: 1, container: 80, protocol: 'tcp', requested: taken }],
        new Map([[taken, key]]),
      );
      assert.equal(d!.host, taken);
    } finally {
      blocker.close();
    }
    const many = await allocatePorts(
      store,
      [1, 2, 3].map((replica) => ({ serviceId: 'api', replica, container: 3000, protocol: 'tcp' as const })),
      new Map(),
    );
    assert.equal(new Set(many.map((m) => m.host)).size, 3, 'replicas get distinct host ports');
  });

  test('environment: dependency URLs, generated database credentials kept in the state folder, written values win', () => {
    const store = new StateStore(tmp());
    const t = topology(
      '/r',
      'shop',
      [
        service('docker-compose.yml#db', { name: 'db', type: 'database', image: 'postgres:16', ports: [port(5432)] }),
        service('users', { ports: [port(3000)] }),
        service('api', {
          ports: [port(8080, { envVar: 'PORT' })],
          env: [{ name: 'LOG_LEVEL', value: 'debug', secret: false, evidence: { file: 'api/.env', reason: '.env' } }],
        }),
      ],
      [edge('api', 'docker-compose.yml#db', { kind: 'driver' }), edge('api', 'users', { envVar: 'USERS_SERVICE' })],
    );
    const env = serviceEnvironment(t, t.services[2]!, store);
    assert.equal(env.PORT, '8080');
    assert.equal(env.LOG_LEVEL, 'debug');
    assert.equal(env.USERS_URL, 'http://users:3000');
    assert.equal(env.USERS_SERVICE, 'http://users:3000');
    const creds = store.read().credentials['docker-compose.yml#db']!;
    assert.ok(creds.password.length >= 20);
    assert.equal(env.DATABASE_URL, `postgres://kyozo:${encodeURIComponent(creds.password)}@db:5432/db`);
    const dbEnv = serviceEnvironment(t, t.services[0]!, store);
    assert.equal(dbEnv.POSTGRES_PASSWORD, creds.password, 'the database and its clients agree');
    assert.equal(
      serviceEnvironment(t, t.services[2]!, new StateStore(store.dir)).DATABASE_URL,
      env.DATABASE_URL,
      'credentials are reused',
    );
  });
});
