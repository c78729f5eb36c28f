// Health during a deployment: waiting until every replica is healthy (or failing with its exit code and last logs),
// and one health reading of a replica, our cheap probe through its published port or the engine's HEALTHCHECK.
import type Docker from 'dockerode';
import type { HealthState, Service } from '../../protocol';
import { ServiceFailure } from './deployment-record';
import { grpcHealthProbe, httpProbe, tcpProbe } from './health-probe';
import { createLimiter, type Limiter } from './limiter';
import { tailLogs } from './log-stream';
import type { Workspace } from './workspace';

/** Host-side probes in flight at once, whatever the number of services: the rest queue. */
export const MAX_PROBES_IN_FLIGHT = 8;

/**
 * How long a wait sleeps between two readings: 250 ms with one service waited on, 10 ms more for each further one,
 * at most 2 s, so 100 services waiting at once read each replica every 2 s instead of flooding the engine and the
 * probes (each reading is an inspect and a probe per replica).
 */
export function probeIntervalMs(servicesWaiting: number): number {
  return Math.min(2000, 250 + 10 * Math.max(0, servicesWaiting - 1));
}

/** Where a replica's readiness comes from. */
export type ReadinessProbe =
  | { kind: 'http'; hostPort: number; path: string; host?: string }
  | { kind: 'tcp'; hostPort: number; host?: string }
  | { kind: 'grpc'; hostPort: number; host?: string }
  /** The engine's HEALTHCHECK status (no published port to probe, or a health command only the container can run). */
  | { kind: 'engine' }
  /** Nothing to probe: running for a second counts. */
  | { kind: 'running' };

/** The name recorded in `service_started` events for the probe that said healthy. */
export type ReadinessSource = 'host-http' | 'host-tcp' | 'host-grpc' | 'engine-healthcheck' | 'running';

/**
 * Which probe decides a replica's readiness. Kyozo's own host-side probe through the published port (HTTP on a known
 * health route, gRPC health, else TCP) whenever there is one, even when the image has a HEALTHCHECK: generated
 * HEALTHCHECKs run every 30 s, and an exec per container every few seconds overloads a small machine at 100
 * services. A health command (compose, kyozo.yaml, the project's own Dockerfile) is the engine's to run; without a
 * published port the engine's HEALTHCHECK decides, or the process running when there is none. A replica behind a
 * gateway publishes nothing: given its `address` on the project network (reachable from the host with a local Linux
 * engine), the same probe goes there, and the engine's verdict still counts once it has one.
 */
export function readinessProbe(
  service: Service,
  bindings: Record<string, { HostPort?: string }[] | null | undefined>,
  engineCheck: boolean,
  address?: string,
): ReadinessProbe {
  const hc = service.healthCheck;
  if (hc?.kind === 'command' && engineCheck) return { kind: 'engine' };
  const mainPort = hc?.port ?? service.ports.find((p) => p.protocol === 'tcp')?.container;
  const published = mainPort ? Number(bindings[`${mainPort}/tcp`]?.[0]?.HostPort ?? 0) : 0;
  const direct = !published && mainPort && address ? { host: address } : {};
  const hostPort = published || (direct.host ? mainPort! : 0);
  if (!hostPort) return engineCheck ? { kind: 'engine' } : { kind: 'running' };
  if (hc?.kind === 'http' && hc.path) return { kind: 'http', hostPort, path: hc.path, ...direct };
  if (hc?.kind === 'grpc') return { kind: 'grpc', hostPort, ...direct };
  return { kind: 'tcp', hostPort, ...direct };
}

function sourceOf(probe: ReadinessProbe): ReadinessSource {
  if (probe.kind === 'engine') return 'engine-healthcheck';
  if (probe.kind === 'running') return 'running';
  return `host-${probe.kind}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function describeProbe(service: Service): string {
  const hc = service.healthCheck;
  if (hc?.kind === 'http') return `HTTP GET ${hc.path} on port ${hc.port ?? service.ports[0]?.container}`;
  if (hc?.kind === 'command') return `health command ${hc.command?.join(' ')}`;
  if (hc?.kind === 'grpc') return `gRPC health check on port ${hc.port ?? service.ports[0]?.container}`;
  return service.ports[0] ? `TCP port ${service.ports[0].container}` : 'process running';
}

export class HealthWatch {
  /** Probe results of the last two seconds, so a status right after a wait does not probe again. */
  private readonly recentProbes = new Map<string, { health: HealthState; at: number }>();
  /** Bounds the host-side probes in flight across every wait and status read of this process. */
  readonly probes: Limiter = createLimiter(MAX_PROBES_IN_FLIGHT);
  /** Services being waited on now; stretches the interval between readings. */
  private waiting = 0;

  constructor(
    private readonly docker: Docker,
    private readonly timeoutMs: number,
  ) {}

  /**
   * The exit code of a container caught crashing. Inspected while the engine has already restarted it, the state
   * reads running with code 0; with the restart policy now off, that run ends by itself a moment later with the
   * real code. One that keeps running is stopped.
   */
  private async exitCodeOfCrashLoop(
    container: Docker.Container,
    st: Docker.ContainerInspectInfo['State'],
  ): Promise<number> {
    if (!st.Running && !st.Restarting) return st.ExitCode;
    const timer = new AbortController();
    const waited = await Promise.race([
      container
        .wait({ condition: 'not-running' })
        .then((r: { StatusCode?: number }) => r.StatusCode)
        .catch(() => undefined),
      sleep(3000, timer.signal).then(() => undefined),
    ]);
    timer.abort();
    if (waited !== undefined) return waited;
    await container.stop({ t: 1 }).catch(() => undefined);
    const after = await container.inspect().catch(() => undefined);
    return after?.State.ExitCode ?? st.ExitCode;
  }

  /**
   * Waits until every replica is healthy (or running, when nothing can be probed); throws with the exit code and last
   * logs. Returns which probes said healthy.
   */
  async waitHealthy(ws: Workspace, service: Service, ids: string[], signal?: AbortSignal): Promise<ReadinessSource[]> {
    this.waiting++;
    try {
      return await this.waitAll(ws, service, ids, signal);
    } finally {
      this.waiting--;
    }
  }

  private async waitAll(
    ws: Workspace,
    service: Service,
    ids: string[],
    signal?: AbortSignal,
  ): Promise<ReadinessSource[]> {
    const deadline = Date.now() + this.timeoutMs;
    const pending = new Set(ids);
    const runningSince = new Map<string, number>();
    const sources = new Set<ReadinessSource>();
    while (pending.size) {
      if (signal?.aborted) throw new Error('interrupted');
      for (const id of [...pending]) {
        const info = await this.docker.getContainer(id).inspect();
        const st = info.State;
        if (!st.Running || st.Restarting || info.RestartCount > 0) {
          if (st.Status === 'created') continue;
          // Keep the container for its logs and exit code, but end the restart loop.
          const container = this.docker.getContainer(id);
          await container.update({ RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } }).catch(() => undefined);
          const exitCode = await this.exitCodeOfCrashLoop(container, st);
          const logs = await tailLogs(this.docker, id, 30);
          throw new ServiceFailure(
            service.id,
            `${service.name} exited with code ${exitCode} right after starting${logs.length ? `; last logs:\n${logs.join('\n')}` : ''}`,
            { exitCode, logTail: logs },
          );
        }
        const { health, source } = await this.read(service, info);
        if (health === 'healthy' || health === 'none') {
          if (health === 'none') {
            const since = runningSince.get(id) ?? Date.now();
            runningSince.set(id, since);
            if (Date.now() - since < 1000) continue; // running without a check: must survive a second
          }
          pending.delete(id);
          sources.add(source);
        } else if (health === 'unhealthy' && info.State.Health) {
          throw new ServiceFailure(
            service.id,
            `${service.name} reported unhealthy: ${info.State.Health.Log?.at(-1)?.Output?.trim() ?? ''}`,
            { health: 'unhealthy' },
          );
        }
      }
      if (!pending.size) break;
      if (Date.now() > deadline) {
        const logs = await tailLogs(this.docker, [...pending][0]!, 30);
        ws.events.append('health_check_failed', {
          serviceId: service.id,
          message: `${service.name} not healthy after ${this.timeoutMs / 1000} s`,
          details: { logTail: logs },
        });
        throw new ServiceFailure(
          service.id,
          `${service.name} did not become healthy within ${this.timeoutMs / 1000} s (${describeProbe(service)}); last logs:\n${logs.join('\n')}`,
          { logTail: logs },
        );
      }
      await sleep(probeIntervalMs(this.waiting), signal);
    }
    return [...sources];
  }

  /**
   * One health reading: the engine's verdict once its HEALTHCHECK has one (healthy, or unhealthy, which fails a wait
   * at once), else, while it is still starting or absent, our probe through the published port (see readinessProbe).
   */
  async probeContainer(service: Service, info: Docker.ContainerInspectInfo): Promise<HealthState> {
    return (await this.read(service, info)).health;
  }

  private async read(
    service: Service,
    info: Docker.ContainerInspectInfo,
  ): Promise<{ health: HealthState; source: ReadinessSource }> {
    const h = info.State.Health?.Status;
    if (!info.State.Running) return { health: 'unhealthy', source: 'running' };
    if (h === 'healthy' || h === 'unhealthy') return { health: h, source: 'engine-healthcheck' };
    const address = Object.values(info.NetworkSettings?.Networks ?? {})[0]?.IPAddress || undefined;
    const probe = readinessProbe(service, info.NetworkSettings?.Ports ?? {}, h !== undefined, address);
    const source = sourceOf(probe);
    if (probe.kind === 'engine') return { health: 'starting', source };
    if (probe.kind === 'running') return { health: 'none', source };
    const recent = this.recentProbes.get(info.Id);
    if (
      recent &&
      Date.now() - recent.at < 2000 &&
      recent.health === 'healthy' &&
      Date.parse(info.State.StartedAt) < recent.at
    )
      return { health: recent.health, source };
    const ok = await this.probes(() =>
      probe.kind === 'http'
        ? httpProbe(probe.hostPort, probe.path, undefined, probe.host)
        : probe.kind === 'grpc'
          ? grpcHealthProbe(probe.hostPort, undefined, undefined, probe.host)
          : tcpProbe(probe.hostPort, undefined, undefined, probe.host),
    );
    const health: HealthState = ok ? 'healthy' : 'starting';
    this.recentProbes.set(info.Id, { health, at: Date.now() });
    return { health, source };
  }
}
