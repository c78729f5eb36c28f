// The gRPC health probe against a real gRPC server (grpc-js, on loopback): a service registering
// grpc.health.v1.Health is healthy when Check answers SERVING, and an open port alone proves nothing.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import * as grpc from '@grpc/grpc-js';
import type { Service } from '../../server/src/protocol';
import { grpcHealthProbe } from '../../server/src/engine/deploy/health-probe';
import { HealthWatch } from '../../server/src/engine/deploy/health-wait';

const SERVING = 1;
const NOT_SERVING = 2;
const bytes = {
  path: '/grpc.health.v1.Health/Check',
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

/** A gRPC server whose health service answers `status` (HealthCheckResponse: field 1, varint). */
async function healthServer(state: {
  status: number;
  asked: string[];
}): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(
    { Check: bytes },
    {
      Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        // HealthCheckRequest: field 1 is the service name (empty asks about the whole server).
        const req = call.request;
        state.asked.push(req.length ? req.subarray(2, 2 + req[1]!).toString() : '');
        done(null, Buffer.from([0x08, state.status]));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { server, port };
}

/** A gRPC server without the health service: Check is UNIMPLEMENTED. */
async function serverWithoutHealth(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(
    { Echo: { ...bytes, path: '/demo.Echo/Say' } },
    {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, call.request),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { server, port };
}

function listening(server: TcpServer | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The engine's inspect data for a running replica that publishes container port 50051 on `hostPort`. */
function runningReplica(id: string, hostPort: number): Docker.ContainerInspectInfo {
  return {
    Id: id,
    State: { Running: true, StartedAt: new Date(Date.now() - 60_000).toISOString() },
    NetworkSettings: { Ports: { '50051/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } },
  } as unknown as Docker.ContainerInspectInfo;
}

const grpcService = {
  id: 'cart',
  name: 'cart',
  type: 'golang',
  ports: [{ container: 50051, protocol: 'tcp' }],
  healthCheck: { kind: 'grpc', port: 50051, evidence: { file: 'main.go', line: 40, reason: 'grpc.health.v1' } },
} as unknown as Service;

describe('gRPC health probe', () => {
  const state = { status: SERVING, asked: [] as string[] };
  let serving: { server: grpc.Server; port: number };
  let unimplemented: { server: grpc.Server; port: number };
  const silent = createTcpServer(() => undefined);
  const http1 = createHttpServer((_req, res) => res.end('ok'));
  let silentPort = 0;
  let http1Port = 0;

  before(async () => {
    serving = await healthServer(state);
    unimplemented = await serverWithoutHealth();
    silentPort = await listening(silent);
    http1Port = await listening(http1);
  });
  after(() => {
    serving.server.forceShutdown();
    unimplemented.server.forceShutdown();
    silent.close();
    http1.closeAllConnections();
    http1.close();
  });

  test('SERVING is healthy, NOT_SERVING is not, and the probe asks about the whole server', async () => {
    state.status = SERVING;
    assert.equal(await grpcHealthProbe(serving.port), true);
    state.status = NOT_SERVING;
    assert.equal(await grpcHealthProbe(serving.port), false);
    assert.deepEqual(state.asked, ['', '']);
  });

  test('a named service is asked about by name', async () => {
    state.status = SERVING;
    state.asked.length = 0;
    assert.equal(await grpcHealthProbe(serving.port, 'hipstershop.CartService'), true);
    assert.deepEqual(state.asked, ['hipstershop.CartService']);
  });

  test('no health service, a port that never answers, HTTP/1 and a closed port are not healthy, within the timeout', async () => {
    const closed = createTcpServer();
    const closedPort = await listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    const started = Date.now();
    assert.equal(await grpcHealthProbe(unimplemented.port), false, 'UNIMPLEMENTED');
    assert.equal(await grpcHealthProbe(silentPort, '', 500), false, 'a port that accepts and says nothing');
    assert.equal(await grpcHealthProbe(http1Port, '', 500), false, 'an HTTP/1 server');
    assert.equal(await grpcHealthProbe(closedPort, '', 500), false, 'nothing listening');
    assert.ok(Date.now() - started < 10_000, 'each probe ends by its timeout');
  });

  test('a replica of a service with a gRPC health check is healthy only when Check says SERVING', async () => {
    const watch = new HealthWatch(new Docker(), 5000);
    state.status = NOT_SERVING;
    assert.equal(
      await watch.probeContainer(grpcService, runningReplica('a', serving.port)),
      'starting',
      'the port is open but the server says it is not serving',
    );
    state.status = SERVING;
    assert.equal(await watch.probeContainer(grpcService, runningReplica('b', serving.port)), 'healthy');
    assert.equal(await watch.probeContainer(grpcService, runningReplica('c', unimplemented.port)), 'starting');
  });
});
