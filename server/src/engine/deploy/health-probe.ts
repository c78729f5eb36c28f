// Readiness and health from the host, through the port the container publishes on 127.0.0.1.
// Why from the host: it needs nothing inside the image (no shell, curl or wget: works for
// scratch and distroless images, no exec processes in the container), and it checks the very
// path a user's browser takes. It decides readiness even when the image has a HEALTHCHECK (the
// engine's verdict still counts once it has one); only a health command (compose, kyozo.yaml, the
// project's Dockerfile) and services without a published port wait on the engine (health-wait.ts).
import { request } from 'node:http';
import { connect as connectHttp2, constants as http2 } from 'node:http2';
import { connect } from 'node:net';

/** GET http://127.0.0.1:<port><path> (or another `host`): healthy on any status below 400. */
export function httpProbe(port: number, path: string, timeoutMs = 2000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * TCP readiness through a published port. Docker's userland proxy accepts the connection even when
 * nothing listens in the container and then closes it at once, so a bare connect proves nothing:
 * the port counts as open only if the connection survives `holdMs` (or the server speaks first).
 */
export function tcpProbe(port: number, holdMs = 250, timeoutMs = 2000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => setTimeout(() => finish(true), holdMs));
    socket.once('data', () => finish(true));
    socket.once('end', () => finish(false));
    socket.once('close', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** HealthCheckRequest { string service = 1 } in one gRPC message frame (uncompressed, length-prefixed). */
function healthCheckFrame(service: string): Buffer {
  const name = Buffer.from(service);
  const message = name.length ? Buffer.concat([Buffer.from([0x0a, name.length]), name]) : Buffer.alloc(0);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** The status of a HealthCheckResponse frame (field 1, a varint; absent means UNKNOWN = 0). */
function servingStatus(body: Buffer): number {
  const message = body.subarray(5, 5 + (body.length >= 5 ? body.readUInt32BE(1) : 0));
  for (let i = 0; i + 1 < message.length; i += 2) if (message[i] === 0x08) return message[i + 1]!;
  return 0;
}

/**
 * The standard gRPC health check (grpc.health.v1.Health/Check over HTTP/2, plaintext), since a gRPC server that
 * registers it says whether it serves, which an open port does not: healthy only on grpc-status 0 with SERVING.
 * An empty `service` asks about the server as a whole.
 */
export function grpcHealthProbe(port: number, service = '', timeoutMs = 2000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const session = connectHttp2(`http://${host}:${port}`);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    session.on('error', () => finish(false));
    session.on('close', () => finish(false));
    const stream = session.request({
      [http2.HTTP2_HEADER_METHOD]: 'POST',
      [http2.HTTP2_HEADER_PATH]: '/grpc.health.v1.Health/Check',
      [http2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    stream.on('response', (headers) => {
      // A trailers-only answer (an error before any message) puts grpc-status among the headers.
      if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      status = String(trailers['grpc-status'] ?? status);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => finish(status === '0' && servingStatus(Buffer.concat(chunks)) === 1));
    stream.on('error', () => finish(false));
    stream.end(healthCheckFrame(service));
  });
}
