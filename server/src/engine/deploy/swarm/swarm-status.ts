// A Swarm service's status from what the manager says of it and its tasks, in the same shape `kyozo ps` prints for
// containers. Pure: the deployer lists the services and tasks and hands them here.
import type {
  HealthState,
  PublishedPort,
  ReplicaStatus,
  Service,
  ServiceState,
  ServiceStatus,
} from '../../../protocol';

/** The parts of a task (GET /tasks) read here. */
export interface SwarmTask {
  ID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  CreatedAt?: string;
  Status?: {
    State?: string;
    Timestamp?: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { Protocol?: string; TargetPort?: number; PublishedPort?: number }[] };
  };
}

/** A task that ended without being asked to. */
export function failedTask(t: SwarmTask): boolean {
  return t.Status?.State === 'failed' || t.Status?.State === 'rejected';
}

/** Tasks the manager wants running (the current ones; the history keeps a few replaced ones). */
export function currentTasks(tasks: SwarmTask[]): SwarmTask[] {
  return tasks.filter((t) => t.DesiredState === 'running');
}

/** The host-mode ports of a task, with the node address they answer on. */
export function taskPorts(task: SwarmTask, nodeAddress: string): PublishedPort[] {
  const out: PublishedPort[] = [];
  const seen = new Set<string>();
  for (const p of task.Status?.PortStatus?.Ports ?? []) {
    if (!p.PublishedPort || !p.TargetPort) continue;
    const udp = p.Protocol === 'udp';
    const key = `${p.TargetPort}/${udp ? 'udp' : 'tcp'}`;
    if (seen.has(key)) continue; // the engine lists a host-mode port once per address family
    seen.add(key);
    out.push({
      container: p.TargetPort,
      host: p.PublishedPort,
      protocol: udp ? 'udp' : 'tcp',
      url: udp ? undefined : `http://${nodeAddress}:${p.PublishedPort}`,
    });
  }
  return out.sort((a, b) => a.container - b.container);
}

function replica(serviceName: string, t: SwarmTask): ReplicaStatus {
  const state = t.Status?.State ?? 'new';
  return {
    containerId: t.Status?.ContainerStatus?.ContainerID ?? t.ID,
    name: `${serviceName}.${t.Slot ?? 0}`,
    state,
    health: state === 'running' ? 'healthy' : state === 'starting' ? 'starting' : 'none',
    startedAt: state === 'running' ? t.Status?.Timestamp : undefined,
    exitCode: t.Status?.ContainerStatus?.ExitCode || undefined,
  };
}

/**
 * A task is `running` only once its HEALTHCHECK (when it has one) said healthy, and Swarm replaces one that turns
 * unhealthy, so running tasks count as healthy; failed tasks while fewer than desired run make the service red.
 */
export function swarmServiceStatus(
  service: Service,
  swarmName: string,
  desired: number,
  tasks: SwarmTask[],
  nodeAddress: (nodeId: string | undefined) => string,
): ServiceStatus {
  const current = currentTasks(tasks);
  const running = current.filter((t) => t.Status?.State === 'running');
  const starting = current.filter((t) => t.Status?.State !== 'running');
  const failed = tasks
    .filter(failedTask)
    .sort((a, b) => (b.Status?.Timestamp ?? '').localeCompare(a.Status?.Timestamp ?? ''))[0];
  const short = running.length < desired;
  let state: ServiceState;
  let health: HealthState;
  if (desired === 0) [state, health] = ['stopped', 'none'];
  else if (short && failed) [state, health] = ['error', 'unhealthy'];
  else if (short || starting.length) [state, health] = ['starting', 'starting'];
  else [state, health] = ['running', 'healthy'];
  const first = running[0];
  return {
    serviceId: service.id,
    name: service.name,
    state,
    health,
    replicas: { running: running.length, desired },
    ports: first ? taskPorts(first, nodeAddress(first.NodeID)) : [],
    containers: current.map((t) => replica(swarmName, t)),
    startedAt: running.map((t) => t.Status?.Timestamp ?? '').sort()[0] || undefined,
    message:
      short && failed
        ? `task ${failed.Status?.State}: ${failed.Status?.Err ?? failed.Status?.Message ?? ''}`
        : undefined,
  };
}
