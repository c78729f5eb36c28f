// Readiness and health from the host, through the port the container publishes on 127.0.0.1.
// Why from the host: it needs nothing inside the image (no shell, curl or wget: works for
// scratch and distroless images, no exec processes in the container), and it checks the very
// path a user's browser takes. Images with a HEALTHCHECK (or a compose/kyozo.yaml command check)
// keep the engine's own health status instead.
import { request } from 'node:http';
import { connect } from 'node:net';

/** GET http://127.0.0.1:<port><path>: healthy on any status below 400. */
export function httpProbe(port: number, path: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * TCP readiness through a published port. Docker's userland proxy accepts the connection even when
 * nothing listens in the container and then closes it at once, so a bare connect proves nothing:
 * the port counts as open only if the connection survives `holdMs` (or the server speaks first).
 */
export function tcpProbe(port: number, holdMs = 250, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
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
