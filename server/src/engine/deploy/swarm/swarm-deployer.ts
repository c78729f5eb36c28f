// `kyozo up|down|ps --target swarm`: the workspace's topology as Docker Swarm services on the manager DOCKER_HOST
// names (dockerode's createService/update, never the docker CLI). Images are built or found as for `kyozo up`; Swarm
// runs them by tag, so on one node the local images serve, and more nodes need them in a registry. State lives in the
// swarm: services are found again by their labels.
import type Docker from 'dockerode';
import type { Service, ServiceStatus, Topology } from '../../../protocol';
import type { DefaultLimits, VolumeMount } from '../container-spec';
import { DeploymentError, DeploymentRecord, ServiceFailure, toFailure } from '../deployment-record';
import { createDockerClient, engineAddress, EngineUnreachableError, pingEngine } from '../docker-client';
import { DEFAULT_PARALLELISM } from '../docker-orchestrator';
import { httpProbe, tcpProbe } from '../health-probe';
import { engineHasBuildkit, ensureServiceImage } from '../image-builder';
import { Label } from '../labels';
import { createLimiter, mapLimited, type Limiter } from '../limiter';
import type { OrchestratorOptions, UpOptions } from '../orchestrator';
import { serviceEnvironment } from '../service-env';
import { awaitedDependencies, deployable, selectServices } from '../service-selection';
import { openWorkspace, type Workspace } from '../workspace';
import { requireSwarmManager } from './swarm-manager';
import { ensureSwarmNetwork, swarmNetworkName } from './swarm-network';
import {
  SWARM_HASH_LABEL,
  SWARM_TASK_HASH_LABEL,
  swarmServiceName,
  swarmServiceSpec,
  type SwarmServiceSpec,
} from './swarm-spec';
import { currentTasks, failedTask, swarmServiceStatus, taskPorts, type SwarmTask } from './swarm-status';

export interface SwarmOptions extends OrchestratorOptions {
  /**
   * How a service name resolves on the overlay network. `dnsrr` (the default) to the tasks' own addresses, which works
   * on any kernel; `vip` to one virtual IP that the kernel's IPVS balances, Swarm's own default, which needs the ip_vs
   * module on every node (this machine's kernel has none: a VIP accepted no connection here).
   */
  endpointMode?: 'vip' | 'dnsrr';
  /** Health command interval below the 10 s minimum, for tests only. */
  healthIntervalSeconds?: number;
}

export interface SwarmUpOptions extends UpOptions {
  /** Things the user should know that are not failures (no overlay network, images that exist on one node only). */
  onWarning?: (message: string) => void;
}

/** A failed task counts against a service this many times before `up` gives up on it (the restart policy's tries). */
const FAILED_TASKS_TO_GIVE_UP = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SwarmDeployer {
  readonly docker: Docker;
  readonly host: string;
  /** Bounds the service creations and updates in flight (options.parallelism, default 6). */
  readonly engineCalls: Limiter;
  private readonly limits: DefaultLimits;
  private readonly timeoutMs: number;

  constructor(private readonly options: SwarmOptions = {}) {
    this.host = engineAddress(options.dockerHost);
    this.docker = createDockerClient(options.dockerHost);
    this.engineCalls = createLimiter(options.parallelism ?? DEFAULT_PARALLELISM);
    this.limits = { memoryMb: options.defaults?.memoryMb ?? 512, cpus: options.defaults?.cpus ?? 0.5 };
    this.timeoutMs = options.healthTimeoutMs ?? 120_000;
  }

  private async requireManager(): Promise<{ nodes: number; nodeId: string }> {
    const r = await pingEngine(this.docker, this.host);
    if (!r.reachable) throw new EngineUnreachableError(this.host, r.message ?? 'no answer');
    return requireSwarmManager(this.docker, this.host);
  }

  private workspace(topology: Topology): Workspace {
    return openWorkspace(topology, this.options);
  }

  /** The workspace's services in the swarm, by topology service id. */
  private async services(project: string): Promise<Map<string, Docker.Service>> {
    const list = await this.docker.listServices({ filters: { label: [`${Label.workspace}=${project}`] } });
    return new Map(list.map((s) => [s.Spec?.Labels?.[Label.service] ?? '', s]));
  }

  private async tasks(serviceId: string): Promise<SwarmTask[]> {
    return (await this.docker.listTasks({ filters: { service: [serviceId] } })) as SwarmTask[];
  }

  /** Node id → the address its host-mode ports answer on (127.0.0.1 for a node advertised on loopback). */
  private async nodeAddresses(): Promise<(id: string | undefined) => string> {
    const nodes = (await this.docker.listNodes().catch(() => [])) as { ID: string; Status?: { Addr?: string } }[];
    const byId = new Map(nodes.map((n) => [n.ID, n.Status?.Addr || '127.0.0.1']));
    return (id) => (id && byId.get(id)) || '127.0.0.1';
  }

  async up(topology: Topology, options: SwarmUpOptions = {}): Promise<ServiceStatus[]> {
    const { nodes, nodeId } = await this.requireManager();
    const ws = this.workspace(topology);
    const selected = selectServices(topology, options.services);
    const warn = options.onWarning ?? (() => undefined);
    const network = await ensureSwarmNetwork(this.docker, ws.project);
    if (network.warning) warn(network.warning);
    const version = await this.docker.version().catch(() => undefined);
    const builder = version && engineHasBuildkit(version) ? 'buildkit' : 'classic';
    const record = DeploymentRecord.start(ws.events, {
      kind: 'swarm',
      services: selected.map((s) => s.id),
      details: { target: 'swarm', nodes },
    });
    const progress = (
      id: string,
      t0: number,
      state: 'building' | 'waiting' | 'starting' | 'healthy' | 'error',
      m?: string,
    ) => options.onProgress?.({ serviceId: id, state, elapsedMs: Date.now() - t0, message: m });
    const deploying = new Set(selected.map((s) => s.id));
    const runs = new Map<string, Promise<void>>();
    const failures: ServiceFailure[] = [];
    let warnedImages = false;
    const run = async (service: Service): Promise<void> => {
      const t0 = Date.now();
      try {
        progress(service.id, t0, 'building');
        const img = await ensureServiceImage(
          this.docker,
          topology,
          ws.project,
          service,
          this.options.baseImages ?? {},
          (line) => progress(service.id, t0, 'building', line),
          options.signal,
          builder,
        );
        // Swarm runs images by tag; one built here exists on this node only, so its tasks are kept here.
        const localOnly = nodes > 1 && img.image.startsWith(`kyozo-${ws.project}/`);
        if (localOnly && !warnedImages) {
          warnedImages = true;
          warn(
            `the swarm has ${nodes} nodes, and images built here exist on this node only (Swarm runs images by ` +
              'tag; elsewhere a task fails with "No such image"), so services built here are placed on this node. ' +
              'Spreading them needs their images in a registry every node pulls from, which the Swarm target does ' +
              'not do yet.',
          );
        }
        const deps = awaitedDependencies(topology, service.id, deploying);
        if (deps.length) {
          progress(service.id, t0, 'waiting', `waiting for ${deps.join(', ')} to be healthy`);
          const results = await Promise.allSettled(deps.map((d) => runs.get(d)));
          const failed = deps.filter((_, i) => results[i]!.status === 'rejected');
          if (failed.length)
            throw new ServiceFailure(service.id, `not started: dependency ${failed.join(', ')} failed`, {
              dependencies: failed,
            });
        }
        if (options.signal?.aborted) throw new Error('interrupted');
        progress(service.id, t0, 'starting');
        const replicas = ws.store.desiredReplicas(service.id) ?? Math.max(1, service.replicas || 1);
        const spec = swarmServiceSpec(
          { topology, project: ws.project, network: network.name },
          service,
          {
            image: img.image,
            replicas,
            env: serviceEnvironment(topology, service, ws.store),
            mounts: this.volumes(ws.project, service),
            endpointMode: this.options.endpointMode ?? 'dnsrr',
            constraints: localOnly && nodeId ? [`node.id==${nodeId}`] : undefined,
            healthIntervalSeconds: this.options.healthIntervalSeconds,
          },
          this.limits,
        );
        const applied = await this.engineCalls(() => this.apply(spec));
        await this.converge(service, applied, replicas, options.signal);
        ws.events.append('service_started', {
          serviceId: service.id,
          durationMs: Date.now() - t0,
          message: applied.kind === 'rolling' ? 'rolling update completed' : undefined,
          details: { deployment: record.id, target: 'swarm', replicas, image: img.image, change: applied.kind },
        });
        progress(service.id, t0, 'healthy', applied.kind === 'rolling' ? 'rolling update completed' : undefined);
      } catch (err) {
        const failure = toFailure(service.id, err);
        failures.push(failure);
        progress(service.id, t0, 'error', failure.message);
        throw failure;
      }
    };
    for (const s of selected) runs.set(s.id, Promise.resolve());
    for (const s of selected) runs.set(s.id, run(s));
    await Promise.allSettled(runs.values());
    if (failures.length) {
      const first = failures.find((f) => !f.details.dependencies) ?? failures[0]!;
      record.failed(first, {
        failed: failures.map((f) => ({ serviceId: f.serviceId, message: f.message.split('\n')[0] })),
      });
      throw new DeploymentError(failures);
    }
    record.completed();
    return this.status(topology);
  }

  /** Named volumes as Swarm creates them on each node that runs a task (local driver). */
  private volumes(project: string, service: Service): VolumeMount[] {
    const mounts: VolumeMount[] = [];
    for (const [i, v] of (service.volumes ?? []).entries()) {
      if (v.source && (v.source.startsWith('.') || v.source.startsWith('/'))) continue;
      const name = (v.source ?? `${service.name}-data${i ? `-${i}` : ''}`).replace(/[^a-zA-Z0-9_.-]/g, '-');
      mounts.push({ Type: 'volume', Source: `${project}_${name}`, Target: v.target });
    }
    return mounts;
  }

  /**
   * Creates the service, or updates it when its spec changed: a new task template is a rolling update (one task at
   * a time, the new one started and healthy before the old one stops, rolled back on failure); a replica count alone
   * only adds or removes tasks.
   */
  private async apply(spec: SwarmServiceSpec): Promise<Applied> {
    const name = spec.spec.Name!;
    const existing = (await this.docker.listServices({ filters: { name: [name] } })).find((s) => s.Spec?.Name === name);
    if (!existing) {
      const created = (await this.docker.createService(spec.spec)) as unknown as { id?: string; ID?: string };
      return { kind: 'created', id: created.id ?? created.ID ?? name };
    }
    const labels = existing.Spec?.Labels ?? {};
    if (labels[SWARM_HASH_LABEL] === spec.hash) return { kind: 'unchanged', id: existing.ID };
    const rolling = labels[SWARM_TASK_HASH_LABEL] !== spec.taskHash;
    await this.docker
      .getService(existing.ID)
      .update({ _query: { version: existing.Version?.Index }, _body: spec.spec } as unknown as object);
    return { kind: rolling ? 'rolling' : 'scaled', id: existing.ID, previousUpdate: existing.UpdateStatus?.StartedAt };
  }

  /**
   * Waits until the service runs the desired number of current tasks (each healthy: Swarm keeps a task with a
   * HEALTHCHECK `starting` until it is) and, for a rolling update, until Swarm says it completed. From a local engine
   * Kyozo also probes each task's host-mode port, as `kyozo up` does, so a service without a HEALTHCHECK is not
   * called ready before it answers.
   */
  private async converge(service: Service, applied: Applied, replicas: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const local =
      this.host.startsWith('unix:') || this.host.startsWith('/') || /\/\/(127\.0\.0\.1|localhost)[:/]/.test(this.host);
    let lastError = '';
    for (;;) {
      if (signal?.aborted) throw new Error('interrupted');
      if (applied.kind === 'rolling') {
        const info = (await this.docker.getService(applied.id).inspect()) as Docker.Service;
        const u = info.UpdateStatus;
        const ours = u && u.StartedAt !== applied.previousUpdate;
        if (ours && (u.State === 'rollback_completed' || u.State === 'rollback_paused' || u.State === 'paused'))
          throw new ServiceFailure(
            service.id,
            `the rolling update of ${service.name} was ${u.State === 'paused' ? 'paused' : 'rolled back'} by Swarm: ${u.Message ?? ''}`.trim(),
            { update: u.State },
          );
        if (!ours || u.State !== 'completed') {
          if (Date.now() > deadline)
            throw new ServiceFailure(
              service.id,
              `the rolling update of ${service.name} did not complete within ${this.timeoutMs / 1000} s`,
            );
          await sleep(500);
          continue;
        }
      }
      const tasks = await this.tasks(applied.id);
      const current = currentTasks(tasks).filter((t) => !failedTask(t));
      const running = current.filter((t) => t.Status?.State === 'running');
      const failures = tasks.filter(failedTask);
      const rejected = failures.find((t) => t.Status?.State === 'rejected');
      if (failures.length) lastError = failures.at(-1)?.Status?.Err ?? lastError;
      if (rejected || (failures.length >= FAILED_TASKS_TO_GIVE_UP && running.length < replicas))
        throw new ServiceFailure(
          service.id,
          `${service.name}: Swarm ${rejected ? 'rejected' : `saw ${failures.length} tasks fail`} (${lastError || 'no error given'})`,
          { tasks: failures.length },
        );
      if (running.length === replicas && current.length === replicas) {
        if (!local || (await this.tasksAnswer(service, running))) return;
      }
      if (Date.now() > deadline)
        throw new ServiceFailure(
          service.id,
          `${service.name}: ${running.length} of ${replicas} tasks running after ${this.timeoutMs / 1000} s${lastError ? ` (last task error: ${lastError})` : ''}`,
        );
      await sleep(500);
    }
  }

  /** Every task's first TCP port answers on 127.0.0.1 (HTTP when the service has an HTTP health path). */
  private async tasksAnswer(service: Service, running: SwarmTask[]): Promise<boolean> {
    const hc = service.healthCheck;
    const main = hc?.port ?? service.ports.find((p) => p.protocol === 'tcp')?.container;
    if (!main) return true;
    for (const t of running) {
      const port = taskPorts(t, '127.0.0.1').find((p) => p.container === main && p.protocol === 'tcp');
      if (!port) continue;
      const ok = hc?.kind === 'http' && hc.path ? await httpProbe(port.host, hc.path) : await tcpProbe(port.host);
      if (!ok) return false;
    }
    return true;
  }

  /** Removes the workspace's services, waits for their tasks to go, then removes the overlay network. */
  async down(topology: Topology): Promise<string[]> {
    await this.requireManager();
    const ws = this.workspace(topology);
    const services = [...(await this.services(ws.project)).entries()];
    await mapLimited(this.engineCalls, services, async ([serviceId, s]) => {
      await this.docker
        .getService(s.ID)
        .remove()
        .catch((e: Error) => {
          if (!/not found/i.test(e.message)) throw e;
        });
      ws.events.append('service_stopped', { serviceId, message: 'removed by down --target swarm' });
    });
    // A network is removable once no task is attached to it (tasks take a moment to stop after their service goes),
    // and the manager removes it asynchronously: wait until it is no longer listed.
    const name = swarmNetworkName(ws.project);
    const end = Date.now() + 60_000;
    let lastError: Error | undefined;
    for (;;) {
      const net = (await this.docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
      if (!net) break;
      await this.docker
        .getNetwork(net.Id)
        .remove()
        .catch((e: Error) => {
          if (!/not found/i.test(e.message)) lastError = e;
        });
      if (Date.now() > end)
        throw new Error(`could not remove the network ${name}: ${lastError?.message ?? 'still listed after 60 s'}`, {
          cause: lastError,
        });
      await sleep(500);
    }
    return services.map(([, s]) => s.Spec?.Name ?? s.ID);
  }

  async status(topology: Topology): Promise<ServiceStatus[]> {
    await this.requireManager();
    const ws = this.workspace(topology);
    const services = await this.services(ws.project);
    const address = await this.nodeAddresses();
    return Promise.all(
      topology.services.filter(deployable).map(async (service): Promise<ServiceStatus> => {
        const s = services.get(service.id);
        const desired = s?.Spec?.Mode?.Replicated?.Replicas ?? 0;
        if (!s)
          return {
            serviceId: service.id,
            name: service.name,
            state: 'not-deployed',
            health: 'none',
            replicas: { running: 0, desired: Math.max(1, service.replicas || 1) },
            ports: [],
            containers: [],
          };
        return swarmServiceStatus(
          service,
          swarmServiceName(ws.project, service),
          desired,
          await this.tasks(s.ID),
          address,
        );
      }),
    );
  }
}

type Applied =
  | { kind: 'created' | 'unchanged'; id: string; previousUpdate?: undefined }
  | { kind: 'rolling' | 'scaled'; id: string; previousUpdate?: string };
