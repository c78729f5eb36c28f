// A service's status from what the engine said of its replicas: state, health, published ports, CPU and memory.
// Pure: the adapter reads the engine (inspect, probes, stats, logs) and hands the readings here.
import type Docker from 'dockerode';
import type { HealthState, PublishedPort, ReplicaStatus, Service, ServiceState, ServiceStatus } from '../../protocol';

export interface ReplicaReading {
  info: Docker.ContainerInspectInfo;
  /** The probe's verdict (the engine's HEALTHCHECK, else ours through the published port). */
  health: HealthState;
  sample?: { cpuPercent: number; memoryBytes: number };
}

export function notDeployed(service: Service, desired: number): ServiceStatus {
  return {
    serviceId: service.id,
    name: service.name,
    state: 'not-deployed',
    health: 'none',
    replicas: { running: 0, desired },
    ports: [],
    containers: [],
  };
}

export function replicaStatus(r: ReplicaReading): ReplicaStatus {
  const { info } = r;
  return {
    containerId: info.Id,
    name: info.Name.replace(/^\//, ''),
    state: info.State.Status,
    health: info.State.Running ? r.health : 'none',
    startedAt: info.State.Running ? info.State.StartedAt : undefined,
    exitCode: info.State.Running && !info.State.Restarting ? undefined : info.State.ExitCode,
  };
}

/**
 * A replica restarting, or one that exited with a code other than a stop's (0, 143 SIGTERM, and 137 SIGKILL when
 * `stoppedByKyozo`: a stop that outlived its grace period). A SIGKILL Kyozo did not send (`docker kill`, the OOM
 * killer) is a crash.
 */
export function crashedReplica(replicas: ReplicaStatus[], stoppedByKyozo = true): ReplicaStatus | undefined {
  const stopCodes = stoppedByKyozo ? [0, 137, 143] : [0, 143];
  const crashed = (r: ReplicaStatus) => r.state === 'exited' && !stopCodes.includes(r.exitCode ?? 0);
  return replicas.find((r) => r.state === 'restarting' || crashed(r));
}

function serviceHealth(running: ReplicaStatus[]): HealthState {
  const healths = running.map((r) => r.health);
  if (!running.length) return 'none';
  if (healths.includes('unhealthy')) return 'unhealthy';
  if (healths.includes('starting')) return 'starting';
  return healths.every((h) => h === 'none') ? 'none' : 'healthy';
}

function serviceState(crashed: boolean, running: number, health: HealthState): ServiceState {
  if (crashed) return 'error';
  if (!running) return 'stopped';
  if (health === 'unhealthy') return 'unhealthy';
  return health === 'starting' ? 'starting' : 'running';
}

/** The host ports of the first running replica (all replicas publish the same container ports). */
function publishedPorts(first: Docker.ContainerInspectInfo | undefined): PublishedPort[] {
  const ports: PublishedPort[] = [];
  const bindings = first?.NetworkSettings?.Ports ?? first?.HostConfig?.PortBindings ?? {};
  for (const [key, binds] of Object.entries(bindings as Record<string, { HostPort?: string }[] | null>)) {
    const [port, proto] = key.split('/');
    const host = Number(binds?.[0]?.HostPort ?? 0);
    if (!host) continue;
    const udp = proto === 'udp';
    const url = udp ? undefined : `http://127.0.0.1:${host}`;
    ports.push({ container: Number(port), host, protocol: udp ? 'udp' : 'tcp', url });
  }
  return ports.sort((a, b) => a.container - b.container);
}

/**
 * The status of a deployed service. `stats`: CPU and memory were sampled; `crashLogs`: the last lines of the
 * crashed replica (see crashedReplica), for the message.
 */
export function summarizeService(
  service: Service,
  desired: number,
  readings: ReplicaReading[],
  options: { stats: boolean; crashLogs?: string[]; stoppedByKyozo?: boolean },
): ServiceStatus {
  const replicas = readings.map(replicaStatus);
  let cpu = 0;
  let mem = 0;
  for (const r of readings) {
    cpu += r.sample?.cpuPercent ?? 0;
    mem += r.sample?.memoryBytes ?? 0;
  }
  const running = replicas.filter((r) => r.state === 'running');
  const health = serviceHealth(running);
  const crashed = crashedReplica(replicas, options.stoppedByKyozo);
  const first = readings.find((r) => r.info.State.Running)?.info ?? readings[0]?.info;
  const logs = options.crashLogs ?? [];
  const how =
    crashed?.exitCode === 137
      ? 'was killed outside Kyozo (SIGKILL, exit code 137: docker kill, the OOM killer, or a docker stop it ignored)'
      : `exited with code ${crashed?.exitCode ?? '?'}`;
  const message = crashed ? `${how}${logs.length ? `: ${logs.slice(-3).join(' | ')}` : ''}` : undefined;
  const sampled = options.stats && running.length > 0;
  return {
    serviceId: service.id,
    name: service.name,
    state: serviceState(Boolean(crashed), running.length, health),
    health,
    replicas: { running: running.length, desired },
    ports: publishedPorts(first),
    containers: replicas,
    startedAt: running.map((r) => r.startedAt!).sort()[0],
    cpuPercent: sampled ? Math.round(cpu * 10) / 10 : undefined,
    memoryBytes: sampled ? mem : undefined,
    message,
  };
}
