// Health probing at scale, the pure parts: the interval between readings stretching with the services waited on,
// the limiter bounding probes and container operations, and which probe decides a replica's readiness (Kyozo's own
// host-side probe through the published port even when the image has a HEALTHCHECK). The reading itself probes a
// real HTTP server on 127.0.0.1.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { createDockerClient } from '../../server/src/engine/deploy/docker-client';
import {
  HealthWatch,
  MAX_PROBES_IN_FLIGHT,
  probeIntervalMs,
  readinessProbe,
} from '../../server/src/engine/deploy/health-wait';
import { HEALTHCHECK_OPTIONS } from '../../server/src/engine/deploy/images/dockerfile-parts';
import { createLimiter, mapLimited } from '../../server/src/engine/deploy/limiter';
import { port, service } from '../support/docker-topology-builder';

const evidence = { file: 'test', reason: 'test' };
const http = (path = '/health') => ({ kind: 'http' as const, path, evidence });
const bound = (container: number, host: number) => ({ [`${container}/tcp`]: [{ HostPort: String(host) }] });

describe('probe interval', () => {
  test('250 ms for one service, 10 ms more per further service, at most 2 s', () => {
    assert.equal(probeIntervalMs(0), 250);
    assert.equal(probeIntervalMs(1), 250);
    assert.equal(probeIntervalMs(2), 260);
    assert.equal(probeIntervalMs(12), 360);
    assert.equal(probeIntervalMs(100), 1240);
    assert.equal(probeIntervalMs(176), 2000);
    assert.equal(probeIntervalMs(1000), 2000);
  });
});

describe('generated HEALTHCHECK options', () => {
  test('every 30 s, after a 60 s start period', () => {
    assert.equal(HEALTHCHECK_OPTIONS, '--interval=30s --timeout=5s --start-period=60s --retries=3');
  });
});

describe('limiter', () => {
  test('runs at most its concurrency at once, in order, and records the most in flight', async () => {
    const limit = createLimiter(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await mapLimited(
      limit,
      Array.from({ length: 10 }, (_, i) => i),
      async (i) => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5 + (i % 3) * 5));
        running--;
        return i * 2;
      },
    );
    assert.deepEqual(results, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(most, 3);
    assert.equal(limit.maxActive, 3);
    assert.equal(limit.active, 0);
    assert.equal(limit.pending, 0);
    limit.resetStats();
    assert.equal(limit.maxActive, 0);
  });

  test('a failing call frees its slot; mapLimited settles every call, then throws the first error', async () => {
    const limit = createLimiter(1);
    const done: number[] = [];
    await assert.rejects(
      mapLimited(limit, [1, 2, 3], async (i) => {
        if (i === 1) throw new Error('one failed');
        done.push(i);
      }),
      /one failed/,
    );
    assert.deepEqual(done, [2, 3]);
    assert.equal(await limit(() => Promise.resolve('free')), 'free');
    await assert.rejects(
      limit(() => {
        throw new Error('thrown before any promise');
      }),
      /thrown before any promise/,
    );
    assert.equal(limit.active, 0);
  });

  test('a parallelism that is not a whole number of 1 or more is refused with the value', () => {
    assert.throws(() => createLimiter(0), /parallelism must be a whole number of 1 or more, got 0/);
    assert.throws(() => createLimiter(2.5), /got 2\.5/);
  });
});

describe('which probe decides readiness', () => {
  test('a known HTTP route through the published port, even when the image has a HEALTHCHECK', () => {
    const svc = service('api', { ports: [port(3000)], healthCheck: http() });
    const expected = { kind: 'http', hostPort: 41000, path: '/health' };
    assert.deepEqual(readinessProbe(svc, bound(3000, 41000), true), expected);
    assert.deepEqual(readinessProbe(svc, bound(3000, 41000), false), expected);
  });

  test('TCP through the published port without a route; gRPC health for gRPC services', () => {
    assert.deepEqual(readinessProbe(service('a', { ports: [port(8080)] }), bound(8080, 41001), true), {
      kind: 'tcp',
      hostPort: 41001,
    });
    const grpc = service('g', { ports: [port(50051)], healthCheck: { kind: 'grpc', evidence } });
    assert.deepEqual(readinessProbe(grpc, bound(50051, 41002), true), { kind: 'grpc', hostPort: 41002 });
  });

  test("a health command is the engine's to run", () => {
    const svc = service('c', {
      ports: [port(8080)],
      healthCheck: { kind: 'command', command: ['CMD', 'check'], evidence },
    });
    assert.deepEqual(readinessProbe(svc, bound(8080, 41003), true), { kind: 'engine' });
  });

  test("without a published port: the engine's HEALTHCHECK, else running", () => {
    const svc = service('w', { ports: [port(8080)], healthCheck: http() });
    assert.deepEqual(readinessProbe(svc, {}, true), { kind: 'engine' });
    assert.deepEqual(readinessProbe(svc, {}, false), { kind: 'running' });
    assert.deepEqual(readinessProbe(service('q'), {}, false), { kind: 'running' });
  });
});

describe('a reading while the HEALTHCHECK is still starting', () => {
  let server: Server;
  let hostPort = 0;
  let inFlight = 0;
  let most = 0;
  before(async () => {
    server = createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(req.url === '/health' ? 200 : 404).end();
      }, 30);
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    hostPort = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const info = (id: string, status: string | undefined) =>
    ({
      Id: id,
      State: { Running: true, StartedAt: new Date().toISOString(), ...(status ? { Health: { Status: status } } : {}) },
      NetworkSettings: { Ports: bound(3000, hostPort) },
    }) as unknown as Docker.ContainerInspectInfo;

  test("is healthy on the host probe; the engine's verdict counts once it has one", async () => {
    const watch = new HealthWatch(createDockerClient(), 10_000);
    const svc = service('api', { ports: [port(3000)], healthCheck: http() });
    assert.equal(await watch.probeContainer(svc, info('a', 'starting')), 'healthy');
    assert.equal(await watch.probeContainer(svc, info('b', 'unhealthy')), 'unhealthy');
    const wrongRoute = service('api', { ports: [port(3000)], healthCheck: http('/missing') });
    assert.equal(await watch.probeContainer(wrongRoute, info('c', 'starting')), 'starting');
  });

  test(`at most ${MAX_PROBES_IN_FLIGHT} host probes in flight`, async () => {
    const watch = new HealthWatch(createDockerClient(), 10_000);
    const svc = service('api', { ports: [port(3000)], healthCheck: http() });
    most = 0;
    const readings = await Promise.all(
      Array.from({ length: 30 }, (_, i) => watch.probeContainer(svc, info(`r${i}`, 'starting'))),
    );
    assert.ok(readings.every((h) => h === 'healthy'));
    assert.equal(watch.probes.maxActive, MAX_PROBES_IN_FLIGHT);
    assert.ok(most <= MAX_PROBES_IN_FLIGHT && most >= 2, `server saw ${most} at once`);
  });
});
