// What a Swarm service is, as plain data: the topology's service as the engine's ServiceSpec (replicas, health-gated
// rolling updates, resources, restart policy, labels, env, health check, host-mode ports, the workspace network).
// Pure, so it is tested without an engine; swarm-deployer.ts hands it to dockerode's createService/update.
import type Docker from 'dockerode';
import type { Service, Topology } from '../../../protocol';
import { configHash, Label } from '../labels';
import type { DefaultLimits, VolumeMount } from '../container-spec';

/** The label `docker stack` uses for a stack's services: `docker stack ps <project>` lists what Kyozo runs. */
export const STACK_NAMESPACE_LABEL = 'com.docker.stack.namespace';
/** The hash of the spec Kyozo last applied, so an unchanged service is not updated (and not restarted). */
export const SWARM_HASH_LABEL = 'dev.kyozo.swarm-hash';
/** The hash of the task template alone: when it changed, an update replaces tasks (a rolling update). */
export const SWARM_TASK_HASH_LABEL = 'dev.kyozo.swarm-task-hash';

const SECOND = 1e9;

/**
 * How long Swarm watches a freshly updated task for a failure before it counts as updated (UpdateConfig.Monitor).
 * A task with a HEALTHCHECK is only `running` once healthy, so the update is health-gated before this starts.
 */
export const UPDATE_MONITOR_SECONDS = 10;

/**
 * Health commands run every 10 s or more (with a 30 s start period): an exec per task every 2 s kept a 2-core machine
 * over load 100 at 100 services. Readiness during `up` also comes from Kyozo's own host-side probe.
 */
export const MIN_HEALTH_INTERVAL_SECONDS = 10;

export interface SwarmWorkspace {
  topology: Topology;
  project: string;
  /** The overlay network, or undefined when it could not be created (host-mode ports only, see swarm-network.ts). */
  network?: string;
}

export interface SwarmServiceInputs {
  /** An image tag present on the node (Swarm resolves tags, not ids; other nodes need it in a registry). */
  image: string;
  replicas: number;
  env: Record<string, string>;
  mounts: VolumeMount[];
  /**
   * `dnsrr`: the service name resolves to its tasks' addresses; `vip`: to one virtual IP balanced by the kernel's IPVS
   * (Swarm's default, which needs the ip_vs module on every node).
   */
  endpointMode: 'vip' | 'dnsrr';
  /** Placement constraints, e.g. `node.id==<id>` for an image that exists on one node only. */
  constraints?: string[];
  /** A health check interval below the minimum, only for tests that must not wait 10 s per task. */
  healthIntervalSeconds?: number;
}

export interface SwarmServiceSpec {
  hash: string;
  taskHash: string;
  /** `start-first` unless a fixed host port forces `stop-first` (one host port cannot be bound twice on a node). */
  order: 'start-first' | 'stop-first';
  spec: Docker.CreateServiceOptions;
}

export function swarmServiceName(project: string, service: Service): string {
  return `${project}_${service.name}`;
}

/** The health check's Test as the engine wants it: CMD/CMD-SHELL/NONE kept, one string a shell line, argv a CMD. */
function healthTest(command: string[]): string[] {
  if (command[0] === 'CMD' || command[0] === 'CMD-SHELL' || command[0] === 'NONE') return command;
  return command.length === 1 ? ['CMD-SHELL', command[0]!] : ['CMD', ...command];
}

/**
 * A health command given by the topology (compose, kyozo.yaml, the Dockerfile's HEALTHCHECK) runs in every task;
 * without one the image's own HEALTHCHECK applies (Kyozo's generated images have one), else none.
 */
function healthCheck(service: Service, minInterval: number): Docker.HealthConfig | undefined {
  const hc = service.healthCheck;
  if (hc?.kind !== 'command' || !hc.command?.length) return undefined;
  const interval = Math.max(minInterval, hc.intervalSeconds ?? MIN_HEALTH_INTERVAL_SECONDS);
  return {
    Test: healthTest(hc.command),
    Interval: interval * SECOND,
    Timeout: (hc.timeoutSeconds ?? 5) * SECOND,
    StartPeriod: 30 * SECOND,
    Retries: hc.retries ?? 3,
  };
}

/** Host-mode ports: a requested host port is published as is; otherwise the engine picks one per task. */
function endpointPorts(service: Service): Docker.PortConfig[] {
  const seen = new Set<string>();
  const ports: Docker.PortConfig[] = [];
  for (const p of service.ports) {
    const key = `${p.container}/${p.protocol}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ports.push({
      Protocol: p.protocol === 'udp' ? 'udp' : 'tcp',
      TargetPort: p.container,
      ...(p.host ? { PublishedPort: p.host } : {}),
      PublishMode: 'host',
    });
  }
  return ports;
}

export function swarmServiceSpec(
  ws: SwarmWorkspace,
  service: Service,
  inputs: SwarmServiceInputs,
  limits: DefaultLimits,
): SwarmServiceSpec {
  const ports = endpointPorts(service);
  // Two tasks cannot bind one host port on one node: a fixed port replaces each task after stopping the old one.
  const order = ports.some((p) => p.PublishedPort) ? 'stop-first' : 'start-first';
  const overrideStart = service.start && (service.start.source === 'kyozo.yaml' || service.start.source === 'compose');
  let command: string[] | undefined;
  if (overrideStart) command = service.start?.argv?.length ? service.start.argv : ['sh', '-c', service.start!.command];
  const labels = {
    [Label.workspace]: ws.project,
    [Label.root]: ws.topology.root,
    [Label.service]: service.id,
    [Label.folder]: service.folder,
    [STACK_NAMESPACE_LABEL]: ws.project,
  };
  const monitor = UPDATE_MONITOR_SECONDS * SECOND;
  const body = {
    Name: swarmServiceName(ws.project, service),
    TaskTemplate: {
      ContainerSpec: {
        Image: inputs.image,
        Labels: labels,
        ...(command ? { Command: command } : {}),
        Env: Object.entries(inputs.env)
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
        // A tiny init as PID 1 forwards signals and reaps zombies, as for Kyozo's containers.
        Init: true,
        StopGracePeriod: 10 * SECOND,
        HealthCheck: healthCheck(service, inputs.healthIntervalSeconds ?? MIN_HEALTH_INTERVAL_SECONDS),
        Mounts: inputs.mounts,
      },
      Resources: {
        Limits: {
          MemoryBytes: Math.round((service.resources?.memoryMb ?? limits.memoryMb) * 1024 * 1024),
          NanoCPUs: Math.round((service.resources?.cpus ?? limits.cpus) * 1e9),
        },
      },
      RestartPolicy: { Condition: 'on-failure', Delay: 5 * SECOND, MaxAttempts: 5, Window: 60 * SECOND },
      ...(inputs.constraints?.length ? { Placement: { Constraints: inputs.constraints } } : {}),
      ...(ws.network ? { Networks: [{ Target: ws.network, Aliases: [service.name] }] } : {}),
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } },
    },
    Mode: { Replicated: { Replicas: inputs.replicas } },
    UpdateConfig: {
      Parallelism: 1,
      Delay: 0,
      FailureAction: 'rollback',
      Monitor: monitor,
      MaxFailureRatio: 0,
      Order: order,
    },
    RollbackConfig: {
      Parallelism: 1,
      Delay: 0,
      FailureAction: 'pause',
      Monitor: monitor,
      MaxFailureRatio: 0,
      Order: order,
    },
    EndpointSpec: { Mode: inputs.endpointMode, Ports: ports },
  };
  const hash = configHash(body);
  const taskHash = configHash(body.TaskTemplate);
  return {
    hash,
    taskHash,
    order,
    spec: { ...body, Labels: { ...labels, [SWARM_HASH_LABEL]: hash, [SWARM_TASK_HASH_LABEL]: taskHash } },
  };
}
