// Connects to the Docker Engine API (dockerode: the HTTP API directly, no docker CLI processes).
// The address comes from the option, then DOCKER_HOST, then the local socket.
import Docker from 'dockerode';
import type { EngineReachability } from './orchestrator';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export function engineAddress(dockerHost?: string): string {
  return dockerHost || process.env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`;
}

export function createDockerClient(dockerHost?: string): Docker {
  const address = engineAddress(dockerHost);
  if (address.startsWith('unix://')) return new Docker({ socketPath: address.slice('unix://'.length) });
  if (address.startsWith('/')) return new Docker({ socketPath: address });
  const url = new URL(address.replace(/^tcp:/, process.env.DOCKER_TLS_VERIFY ? 'https:' : 'http:'));
  return new Docker({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 2376 : 2375)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  });
}

export class EngineUnreachableError extends Error {
  readonly exitCode = 69; // EX_UNAVAILABLE
  /** `detail` is either the low-level cause or, from a failed ping, the full message already written. */
  constructor(
    readonly host: string,
    detail: string,
  ) {
    super(detail.startsWith('Cannot reach') ? detail : unreachableMessage(host, detail));
  }
}

export function unreachableMessage(host: string, cause: string): string {
  return [
    `Cannot reach the Docker engine at ${host} (${cause}).`,
    'Start one: `sudo systemctl start docker` (Linux; or `sudo dockerd &`), or open Docker Desktop (macOS/Windows).',
    'If it listens elsewhere, set DOCKER_HOST (e.g. unix:///run/user/1000/docker.sock) or pass --docker-host.',
  ].join('\n');
}

export async function pingEngine(docker: Docker, host: string, timeoutMs = 5000): Promise<EngineReachability> {
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    return { reachable: true, host };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const cause = e.code ? `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : ''}` : e.message;
    return { reachable: false, host, message: unreachableMessage(host, cause) };
  }
}
