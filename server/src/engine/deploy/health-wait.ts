// Health during a deployment: waiting until every replica is healthy (or failing with its exit code and last logs),
// and one health reading of a replica, the engine's HEALTHCHECK or our probe through its published port.
import type Docker from 'dockerode';
import type { HealthState, Service } from '../../protocol';
import { ServiceFailure } from './deployment-record';
import { grpcHealthProbe, httpProbe, tcpProbe } from './health-probe';
import { tailLogs } from './log-stream';
import type { Workspace } from './workspace';

const POLL_MS = 100;

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

  /** Waits until every replica is healthy (or running, when nothing can be probed); throws with the exit code and last logs. */
  async waitHealthy(ws: Workspace, service: Service, ids: string[], signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const pending = new Set(ids);
    const runningSince = new Map<string, number>();
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
        const health = await this.probeContainer(service, info);
        if (health === 'healthy' || health === 'none') {
          if (health === 'none') {
            const since = runningSince.get(id) ?? Date.now();
            runningSince.set(id, since);
            if (Date.now() - since < 1000) continue; // running without a check: must survive a second
          }
          pending.delete(id);
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
      await sleep(POLL_MS, signal);
    }
  }

  /** One health reading: the engine's HEALTHCHECK status, else our probe through the published port. */
  async probeContainer(service: Service, info: Docker.ContainerInspectInfo): Promise<HealthState> {
    if (!info.State.Running) return 'unhealthy';
    const h = info.State.Health?.Status;
    if (h) return h === 'healthy' ? 'healthy' : h === 'unhealthy' ? 'unhealthy' : 'starting';
    const recent = this.recentProbes.get(info.Id);
    if (
      recent &&
      Date.now() - recent.at < 2000 &&
      recent.health === 'healthy' &&
      Date.parse(info.State.StartedAt) < recent.at
    )
      return recent.health;
    const health = await this.probePorts(service, info);
    this.recentProbes.set(info.Id, { health, at: Date.now() });
    return health;
  }

  private async probePorts(service: Service, info: Docker.ContainerInspectInfo): Promise<HealthState> {
    const hc = service.healthCheck;
    const bindings = info.NetworkSettings?.Ports ?? {};
    const portOf = (container: number) => Number(bindings[`${container}/tcp`]?.[0]?.HostPort ?? 0);
    const mainPort = hc?.port ?? service.ports.find((p) => p.protocol === 'tcp')?.container;
    if (!mainPort) return 'none';
    const host = portOf(mainPort);
    if (!host) return 'none';
    if (hc?.kind === 'http' && hc.path) return (await httpProbe(host, hc.path)) ? 'healthy' : 'starting';
    if (hc?.kind === 'grpc') return (await grpcHealthProbe(host)) ? 'healthy' : 'starting';
    return (await tcpProbe(host)) ? 'healthy' : 'starting';
  }
}
