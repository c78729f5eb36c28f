// The orchestrator over the Docker Engine API. Every answer comes from the engine: containers are
// found again by their labels, so nothing lives only in this process and a killed CLI loses nothing.
import type Docker from 'dockerode';
import type { DeploymentEvent, Service, ServiceStatus, Topology } from '../../protocol';
import { COMPOSE_VERSION, containerSpec, type DefaultLimits, type VolumeMount } from './container-spec';
import { DeploymentError, DeploymentRecord, ServiceFailure, toFailure } from './deployment-record';
import { createDockerClient, engineAddress, EngineUnreachableError, pingEngine } from './docker-client';
import { watchEngine } from './engine-watch';
import { Autoscaler, type AutoscalerOptions } from './autoscaler';
import { cpuCounters, cpuPercentBetween, cpuPercentOfStats, type CpuCounters } from './cpu-sampler';
import { DEFAULT_GATEWAY_IMAGE, Gateways } from './gateway';
import { needsGateway } from './gateway-config';
import { HealthWatch } from './health-wait';
import { createLimiter, mapLimited, type Limiter } from './limiter';
import { parseBuilderChoice, type Builder } from './builder';
import { engineHasBuildkit, ensureServiceImage } from './image-builder';
import { Label } from './labels';
import { serviceLogs, tailLogs } from './log-stream';
import type {
  DeployProgress,
  EngineReachability,
  LogOptions,
  Orchestrator,
  OrchestratorOptions,
  StatusOptions,
  StopAllOptions,
  UpOptions,
} from './orchestrator';
import { allocatePorts, portKey } from './port-allocator';
import { reconcile } from './reconcile';
import { validateReplicas } from './replica-count';
import { serviceEnvironment } from './service-env';
import { awaitedDependencies, deployable, findService, selectServices } from './service-selection';
import { crashedReplica, notDeployed, replicaStatus, summarizeService, type ReplicaReading } from './service-status';
import { openWorkspace, workspaceContainers, type Workspace } from './workspace';

// Re-exported: callers knew these from here before the split.
export { deployable, findService, selectServices } from './service-selection';
export { DeploymentError, ServiceFailure } from './deployment-record';
export { demuxBuffer } from './log-stream';

/** Containers handled at once by up/stop/down/restart: measured on 2 cores with 100 services, see docs/deploy.md. */
export const DEFAULT_PARALLELISM = 6;
/** How long a full status read may reuse a container's inspect while the engine's list shows it unchanged. */
const INSPECT_REUSE_MS = 10_000;

export class DockerOrchestrator implements Orchestrator {
  readonly docker: Docker;
  readonly host: string;
  private readonly limits: DefaultLimits;
  private readonly health: HealthWatch;
  /** Bounds the containers started, stopped, restarted and removed at once (options.parallelism, default 6). */
  readonly engineCalls: Limiter;
  /** The nginx gateways of scaled services (gateway.ts). */
  readonly gateways: Gateways;

  constructor(private readonly options: OrchestratorOptions = {}) {
    this.engineCalls = createLimiter(options.parallelism ?? DEFAULT_PARALLELISM);
    this.host = engineAddress(options.dockerHost);
    this.docker = createDockerClient(options.dockerHost);
    this.limits = { memoryMb: options.defaults?.memoryMb ?? 512, cpus: options.defaults?.cpus ?? 0.5 };
    this.health = new HealthWatch(this.docker, options.healthTimeoutMs ?? 90_000);
    const gatewayImage = options.gatewayImage || process.env.KYOZO_GATEWAY_IMAGE || DEFAULT_GATEWAY_IMAGE;
    this.gateways = new Gateways(this.docker, gatewayImage, (service, info) =>
      this.health.probeContainer(service, info),
    );
  }

  /** Replicas a service should run: what `scale` (or the autoscaler) last set, else the topology's, within `scaling`. */
  private desiredReplicas(ws: Workspace, service: Service): number {
    const stored = ws.store.desiredReplicas(service.id);
    if (stored === 0) return 0;
    const n = stored ?? Math.max(1, service.replicas || 1, service.scaling?.min ?? 1);
    return service.scaling ? Math.min(Math.max(n, service.scaling.min), service.scaling.max) : n;
  }

  ping(): Promise<EngineReachability> {
    return pingEngine(this.docker, this.host);
  }

  private resolvedBuilder?: Builder;

  async builder(): Promise<Builder> {
    if (this.resolvedBuilder) return this.resolvedBuilder;
    const choice =
      parseBuilderChoice(this.options.builder, 'the builder setting (kyozo.build.builder)') ??
      parseBuilderChoice(process.env.KYOZO_BUILDER, 'KYOZO_BUILDER') ??
      'auto';
    if (choice !== 'auto') return (this.resolvedBuilder = choice);
    // Asked once per engine answer: an engine that is away now is asked again next time.
    const version = await this.docker.version().catch(() => undefined);
    if (!version) return 'classic';
    return (this.resolvedBuilder = engineHasBuildkit(version) ? 'buildkit' : 'classic');
  }

  private async requireEngine(): Promise<void> {
    const r = await this.ping();
    if (!r.reachable) throw new EngineUnreachableError(this.host, r.message ?? 'no answer');
  }

  workspace(topology: Topology): Workspace {
    return openWorkspace(topology, this.options);
  }

  /** Absolute path of the workspace's state folder (credentials, ports, events). */
  stateDir(topology: Topology): string {
    return this.workspace(topology).store.dir;
  }

  private containers(ws: Workspace, serviceId?: string): Promise<Docker.ContainerInfo[]> {
    return workspaceContainers(this.docker, ws, serviceId);
  }

  /** See reconcile.ts: only `up` and repair() run it. */
  reconcile(ws: Workspace, removeOrphans: boolean): Promise<string[]> {
    return reconcile(this.docker, ws, removeOrphans, this.engineCalls);
  }

  private readonly networks = new Map<string, Promise<void>>();
  /**
   * The last inspect of each container, with the list's state and health it was read at. A full status read reuses it
   * while the engine's list still shows the same state and health (10 s at most): with 100 services that is one list
   * call instead of 101 calls. Reads of named services (after an engine event, or an action of ours) always inspect.
   */
  private readonly inspected = new Map<string, { key: string; at: number; info: Docker.ContainerInspectInfo }>();
  /**
   * The last stats reading of each running container, for status reads (sampleOf): its CPU and memory, and its CPU
   * counters, from which the next reading's CPU share is taken.
   */
  private readonly samples = new Map<string, { at: number; value: ResourceSample; counters: CpuCounters }>();
  /** Readings being taken, so reads at the same moment share one. */
  private readonly sampling = new Map<string, Promise<ResourceSample>>();
  // Stats calls mostly wait for the engine's next collection, so many at once cost little; bounded all the same.
  private readonly statsCalls = createLimiter(128);

  private async inspect(c: Docker.ContainerInfo, fresh: boolean): Promise<Docker.ContainerInspectInfo | undefined> {
    const key = `${c.State}|${/\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '')?.[1] ?? ''}`;
    const cached = this.inspected.get(c.Id);
    if (!fresh && cached && cached.key === key && Date.now() - cached.at < INSPECT_REUSE_MS) return cached.info;
    const info = await this.docker
      .getContainer(c.Id)
      .inspect()
      .catch(() => undefined);
    if (info) this.inspected.set(c.Id, { key, at: Date.now(), info });
    else this.inspected.delete(c.Id);
    return info;
  }

  /** One network per workspace; concurrent callers in this process share one creation. */
  private ensureNetwork(ws: Workspace): Promise<void> {
    let pending = this.networks.get(ws.network);
    if (!pending) {
      pending = this.createNetwork(ws).finally(() => this.networks.delete(ws.network));
      this.networks.set(ws.network, pending);
    }
    return pending;
  }

  private async createNetwork(ws: Workspace): Promise<void> {
    const named = async () =>
      (await this.docker.listNetworks({ filters: { name: [ws.network] } })).filter((n) => n.Name === ws.network);
    if ((await named()).length === 0) {
      try {
        await this.docker.createNetwork({
          Name: ws.network,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: {
            [Label.workspace]: ws.project,
            [Label.composeProject]: ws.project,
            [Label.composeNetwork]: 'default',
            [Label.composeVersion]: COMPOSE_VERSION,
          },
        });
      } catch (e) {
        if (!/already exists/.test((e as Error).message)) throw e;
      }
    }
    // The engine's duplicate check is not atomic: if two processes raced, keep the oldest network only.
    const all = (await named()).sort((a, b) => (a.Created ?? '').localeCompare(b.Created ?? ''));
    for (const extra of all.slice(1))
      await this.docker
        .getNetwork(extra.Id)
        .remove()
        .catch(() => undefined);
  }

  private async ensureVolumes(ws: Workspace, service: Service): Promise<VolumeMount[]> {
    const mounts: VolumeMount[] = [];
    for (const [i, v] of (service.volumes ?? []).entries()) {
      if (v.source && (v.source.startsWith('.') || v.source.startsWith('/'))) continue; // bind mounts are not created from the topology
      const volume = `${ws.project}_${(v.source ?? `${service.name}-data${i ? `-${i}` : ''}`).replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
      await this.docker.createVolume({
        Name: volume,
        Labels: {
          [Label.workspace]: ws.project,
          [Label.composeProject]: ws.project,
          'com.docker.compose.volume': volume.slice(ws.project.length + 1),
        },
      });
      mounts.push({ Type: 'volume', Source: volume, Target: v.target });
    }
    return mounts;
  }

  /** Creates/starts/removes the replicas of one service so it matches the topology and the desired count. */
  private async applyService(
    ws: Workspace,
    service: Service,
    image: string,
    deployment: string,
    onMessage: (m: string) => void,
    signal?: AbortSignal,
  ): Promise<{ ids: string[]; imageId: string; gateway: boolean }> {
    const desired = this.desiredReplicas(ws, service);
    const all = await this.containers(ws);
    const existing = all.filter((c) => c.Labels[Label.service] === service.id);
    // Behind a gateway the replicas publish no TCP port: the gateway publishes the service's (gateway.ts).
    const gateway = needsGateway(
      service,
      desired,
      all.some((c) => c.Labels[Label.gateway] === service.id),
    );
    const owned = new Map<number, string>();
    for (const c of all) {
      for (const p of c.Ports ?? []) {
        if (p.PublicPort)
          owned.set(
            p.PublicPort,
            portKey({
              serviceId: c.Labels[Label.service] ?? '',
              replica: Number(c.Labels[Label.replica] ?? 1),
              container: p.PrivatePort,
              protocol: p.Type === 'udp' ? 'udp' : 'tcp',
            }),
          );
      }
    }
    const imageInfo = await this.docker.getImage(image).inspect();
    const env = serviceEnvironment(ws.topology, service, ws.store);
    const mounts = await this.ensureVolumes(ws, service);
    const ids: string[] = [];
    for (let replica = 1; replica <= desired; replica++) {
      if (signal?.aborted) throw new Error('interrupted');
      const requests = service.ports
        .filter((p) => !gateway || p.protocol === 'udp')
        .map((p) => ({
          serviceId: service.id,
          replica,
          container: p.container,
          protocol: p.protocol,
          requested: replica === 1 ? p.host : undefined,
        }));
      const unique = requests.filter(
        (r, i) => requests.findIndex((x) => x.container === r.container && x.protocol === r.protocol) === i,
      );
      const ports = await allocatePorts(ws.store, unique, owned);
      for (const p of ports) {
        if (p.conflict) {
          onMessage(p.conflict);
          ws.events.append('health_changed', {
            serviceId: service.id,
            message: p.conflict,
            details: { portConflict: { container: p.container, requested: p.requested, host: p.host } },
          });
        }
      }
      const inputs = {
        image: imageInfo.Id,
        imageUser: imageInfo.Config?.User ?? '',
        replica,
        ports,
        env,
        mounts,
        deployment,
      };
      const spec = containerSpec(ws, service, inputs, this.limits);
      const current = existing.find((c) => Number(c.Labels[Label.replica]) === replica);
      if (current && current.Labels[Label.composeConfigHash] === spec.hash) {
        if (current.State !== 'running')
          await this.docker
            .getContainer(current.Id)
            .start()
            .catch((e: Error) => {
              if (!/already started/.test(e.message)) throw e;
            });
        ids.push(current.Id);
        continue;
      }
      if (current) await this.docker.getContainer(current.Id).remove({ force: true });
      const created = await this.docker.createContainer(spec.options);
      if (signal?.aborted) {
        await created.remove({ force: true }).catch(() => undefined);
        throw new Error('interrupted');
      }
      await created.start();
      ids.push(created.id);
    }
    const leaving = existing.filter((c) => Number(c.Labels[Label.replica]) > desired);
    // Behind a gateway, replicas leave its upstream (and its old workers finish their requests) before they are removed.
    if (gateway && leaving.length && all.some((c) => c.Labels[Label.gateway] === service.id)) {
      await this.gateways.sync(ws, service, new Set(leaving.map((c) => c.Id))).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const c of leaving) await this.docker.getContainer(c.Id).remove({ force: true });
    return { ids, imageId: imageInfo.Id, gateway };
  }

  private tailLogs(id: string, n: number): Promise<string[]> {
    return tailLogs(this.docker, id, n);
  }

  async up(topology: Topology, options: UpOptions = {}): Promise<ServiceStatus[]> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    await this.reconcile(ws, !options.services?.length);
    const selected = selectServices(topology, options.services);
    ws.store.setStopped(
      selected.map((s) => s.id),
      false,
    );
    const record = DeploymentRecord.start(ws.events, {
      services: selected.map((s) => s.id),
      details: options.details,
      message: options.message,
    });
    const deployment = record.id;
    const progress = (serviceId: string, started: number, state: DeployProgress['state'], message?: string) =>
      options.onProgress?.({ serviceId, state, elapsedMs: Date.now() - started, message });
    try {
      // The network is created while images are checked or built; containers wait for it.
      const network = this.ensureNetwork(ws);
      network.catch(() => undefined);
      const deploying = new Set(selected.map((s) => s.id));
      const tasks = new Map<string, Promise<void>>();
      const failures: ServiceFailure[] = [];
      const run = async (service: Service): Promise<void> => {
        const started = Date.now();
        progress(service.id, started, 'building');
        try {
          // Given images (pulled from the registry, promoted from another environment) run as they are, unbuilt.
          const given = options.images?.[service.id];
          const img = given
            ? { image: given, built: false, durationMs: 0 }
            : await ensureServiceImage(
                this.docker,
                topology,
                ws.imageProject,
                service,
                this.options.baseImages ?? {},
                (line) => progress(service.id, started, 'building', line),
                options.signal,
                await this.builder(),
              );
          const deps = awaitedDependencies(topology, service.id, deploying);
          if (deps.length) {
            progress(service.id, started, 'waiting', `waiting for ${deps.join(', ')} to be healthy`);
            const results = await Promise.allSettled(deps.map((d) => tasks.get(d)));
            const failedDeps = deps.filter((_, i) => results[i]!.status === 'rejected');
            if (failedDeps.length)
              throw new ServiceFailure(service.id, `not started: dependency ${failedDeps.join(', ')} failed`, {
                dependencies: failedDeps,
              });
          }
          if (options.signal?.aborted) throw new Error('interrupted');
          progress(service.id, started, 'starting');
          await network;
          // Creating and starting is bounded across the wave; the health wait is not (its probes are, see health-wait.ts).
          const { ids, imageId, gateway } = await this.engineCalls(() =>
            this.applyService(
              ws,
              service,
              img.image,
              deployment,
              (m) => progress(service.id, started, 'starting', m),
              options.signal,
            ),
          );
          const readiness = await this.health.waitHealthy(ws, service, ids, options.signal);
          if (gateway) await this.gateways.sync(ws, service);
          ws.store.rememberDeployedImage(service.id, imageId, this.options.baseImages ?? {});
          const durationMs = Date.now() - started;
          ws.events.append('service_started', {
            serviceId: service.id,
            durationMs,
            details: {
              deployment,
              replicas: ids.length,
              image: img.image,
              built: img.built,
              buildMs: img.durationMs,
              readiness,
            },
          });
          progress(service.id, started, 'healthy');
        } catch (err) {
          const failure = toFailure(service.id, err);
          failures.push(failure);
          progress(service.id, started, 'error', failure.message);
          throw failure;
        }
      };
      for (const s of selected) tasks.set(s.id, Promise.resolve());
      for (const s of selected) tasks.set(s.id, run(s));
      await Promise.allSettled([...tasks.values(), network]);
      if (failures.length) {
        const first = failures.find((f) => !f.details.dependencies) ?? failures[0]!;
        record.failed(first, {
          failed: failures.map((f) => ({ serviceId: f.serviceId, message: f.message.split('\n')[0] })),
        });
        throw new DeploymentError(failures);
      }
      record.completed();
    } catch (err) {
      if (!(err instanceof DeploymentError)) record.aborted(err as Error);
      throw err;
    }
    return this.status(topology, { stats: false });
  }

  async down(topology: Topology, options: { volumes?: boolean } = {}): Promise<void> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const byService = new Map<string, number>();
    await mapLimited(this.engineCalls, await this.containers(ws), async (c) => {
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
      const sid = c.Labels[Label.service];
      if (sid) byService.set(sid, (byService.get(sid) ?? 0) + 1);
    });
    for (const [serviceId, n] of byService)
      ws.events.append('service_stopped', { serviceId, message: 'removed by down', details: { removed: n } });
    for (const n of await this.docker.listNetworks({ filters: { label: [`${Label.workspace}=${ws.project}`] } })) {
      await this.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    }
    if (options.volumes) {
      const { Volumes } = await this.docker.listVolumes({ filters: { label: [`${Label.workspace}=${ws.project}`] } });
      for (const v of Volumes ?? [])
        await this.docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined);
    }
  }

  async start(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const list = await this.containers(ws, service.id);
    if (!list.length) {
      await this.up(topology, { services: [service.id] });
      return this.serviceStatus(topology, service.id);
    }
    const t0 = Date.now();
    ws.store.setStopped([service.id], false);
    await mapLimited(
      this.engineCalls,
      list.filter((c) => c.State !== 'running'),
      (c) => this.docker.getContainer(c.Id).start(),
    );
    await this.health.waitHealthy(
      ws,
      service,
      list.map((c) => c.Id),
    );
    await this.gateways.refresh(ws, service);
    ws.events.append('service_started', {
      serviceId: service.id,
      durationMs: Date.now() - t0,
      details: { replicas: list.length },
    });
    return this.serviceStatus(topology, service.id);
  }

  async stop(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const t0 = Date.now();
    const list = await this.containers(ws, service.id);
    // Recorded first: the engine's events of the stop find the service stopped by Kyozo, not killed.
    ws.store.setStopped([service.id], true);
    await mapLimited(
      this.engineCalls,
      list.filter((c) => c.State === 'running' || c.State === 'restarting'),
      (c) =>
        this.docker
          .getContainer(c.Id)
          .stop({ t: 10 })
          .catch(() => undefined),
    );
    await this.gateways.refresh(ws, service).catch(() => undefined);
    ws.events.append('service_stopped', {
      serviceId: service.id,
      durationMs: Date.now() - t0,
      details: { replicas: list.length },
    });
    return this.serviceStatus(topology, service.id);
  }

  async stopAll(topology: Topology, options: StopAllOptions = {}): Promise<ServiceStatus[]> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const t0 = Date.now();
    const live = new Set(
      (await this.containers(ws))
        .filter((c) => c.State === 'running' || c.State === 'restarting')
        .map((c) => c.Labels[Label.service]),
    );
    const running = topology.services.filter((s) => deployable(s) && live.has(s.id));
    // Services stop in parallel, `parallelism` at a time (their containers then queue on engineCalls): progress says
    // when each one begins, and an aborted signal stops only services not yet begun.
    const services = createLimiter(this.engineCalls.concurrency);
    let begun = 0;
    await mapLimited(services, running, async (s) => {
      if (options.signal?.aborted) return;
      const percentage = Math.round((begun++ / running.length) * 100);
      options.onProgress?.({
        serviceId: s.id,
        state: 'stopping',
        elapsedMs: Date.now() - t0,
        message: s.name,
        percentage,
      });
      await this.stop(topology, s.id);
    });
    return this.status(topology, { stats: false });
  }

  async restart(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const t0 = Date.now();
    const list = await this.containers(ws, service.id);
    if (!list.length) return this.start(topology, service.id);
    ws.store.setStopped([service.id], true);
    await mapLimited(this.engineCalls, list, (c) => this.docker.getContainer(c.Id).restart({ t: 10 }));
    ws.store.setStopped([service.id], false);
    await this.health.waitHealthy(
      ws,
      service,
      list.map((c) => c.Id),
    );
    await this.gateways.refresh(ws, service);
    ws.events.append('service_started', {
      serviceId: service.id,
      durationMs: Date.now() - t0,
      message: 'restarted',
      details: { restart: true, replicas: list.length },
    });
    return this.serviceStatus(topology, service.id);
  }

  async remove(topology: Topology, serviceId: string): Promise<void> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const list = await this.containers(ws, service.id);
    await mapLimited(this.engineCalls, list, (c) => this.docker.getContainer(c.Id).remove({ force: true }));
    await this.gateways.remove(ws, service.id);
    ws.events.append('service_stopped', {
      serviceId: service.id,
      message: 'removed',
      details: { removed: list.length },
    });
  }

  async scale(
    topology: Topology,
    serviceId: string,
    replicas: number,
    options: { reason?: string } = {},
  ): Promise<ServiceStatus> {
    validateReplicas(replicas, `scale ${serviceId}`);
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const t0 = Date.now();
    const before = (await this.containers(ws, service.id)).length;
    ws.store.setDesiredReplicas(service.id, replicas);
    if (replicas === 0) {
      await mapLimited(this.engineCalls, await this.containers(ws, service.id), (c) =>
        this.docker.getContainer(c.Id).remove({ force: true }),
      );
    } else {
      // Scaling creates containers, so it is recorded as a deployment with this process's pid, like `up`:
      // reconcile() (run by `up`, `kyozo ps` and repair(), in this process or another one) then knows the fresh
      // 'created' replicas belong to a live deployment and leaves them alone.
      const scale = { from: before, to: replicas };
      const record = DeploymentRecord.start(ws.events, {
        kind: 'scale',
        serviceId: service.id,
        services: [service.id],
        details: { scale },
      });
      try {
        await this.ensureNetwork(ws);
        const image = await this.imageToScale(ws, topology, service);
        const { ids, gateway } = await this.applyService(ws, service, image, record.id, () => undefined);
        await this.health.waitHealthy(ws, service, ids);
        if (gateway) await this.gateways.sync(ws, service);
      } catch (err) {
        record.failed(toFailure(service.id, err));
        throw err;
      }
      record.completed();
    }
    if (replicas === 0) await this.gateways.refresh(ws, service).catch(() => undefined);
    ws.events.append('service_scaled', {
      serviceId: service.id,
      durationMs: Date.now() - t0,
      message: options.reason,
      details: { from: before, to: replicas, ...(options.reason ? { reason: options.reason } : {}) },
    });
    return this.serviceStatus(topology, service.id);
  }

  autoscale(topology: () => Topology | undefined, options: AutoscalerOptions = {}): { dispose(): void } {
    return new Autoscaler(this, topology, options).start();
  }

  /**
   * A scale runs more of what is deployed, never a rebuild: the image the replicas run, else the one `up` last started.
   * Only a service `up` never deployed is built, with the base images remembered for it over this process's own.
   */
  private async imageToScale(ws: Workspace, topology: Topology, service: Service): Promise<string> {
    const present = (id: string | undefined) =>
      id
        ? this.docker
            .getImage(id)
            .inspect()
            .then(
              () => id,
              () => undefined,
            )
        : undefined;
    const replicas = await this.containers(ws, service.id);
    const deployed = ws.store.deployedImage(service.id);
    const image = (await present(replicas[0]?.ImageID)) ?? (await present(deployed.image));
    if (image) return image;
    const baseImages = { ...this.options.baseImages, ...deployed.baseImages };
    const builder = await this.builder();
    return (
      await ensureServiceImage(
        this.docker,
        topology,
        ws.imageProject,
        service,
        baseImages,
        () => undefined,
        undefined,
        builder,
      )
    ).image;
  }

  private async serviceStatus(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    const [status] = await this.status(topology, { stats: false, services: [serviceId] });
    return status!;
  }

  async repair(topology: Topology): Promise<string[]> {
    await this.requireEngine();
    return this.reconcile(this.workspace(topology), false);
  }

  async status(topology: Topology, options: StatusOptions = {}): Promise<ServiceStatus[]> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const containers = await this.containers(ws);
    const sample = options.stats !== false;
    const only = options.services && new Set(options.services);
    const services = topology.services.filter((s) => deployable(s) && (!only || only.has(s.id)));
    const stopped = ws.store.stoppedServices();
    const fresh = only !== undefined;
    if (!only)
      for (const seen of [this.inspected, this.samples])
        for (const id of seen.keys()) if (!containers.some((c) => c.Id === id)) seen.delete(id);
    return Promise.all(
      services.map(async (service): Promise<ServiceStatus> => {
        const mine = containers.filter((c) => c.Labels[Label.service] === service.id);
        const desired = this.desiredReplicas(ws, service);
        if (!mine.length) return notDeployed(service, desired);
        const infos = await Promise.all(mine.map((c) => this.inspect(c, fresh)));
        const readings = await Promise.all(
          infos
            .filter((i) => i !== undefined)
            .map(async (info): Promise<ReplicaReading> => ({
              info,
              sample: sample && info.State.Running ? await this.sampleOf(info.Id) : undefined,
              health: await this.health.probeContainer(service, info),
            })),
        );
        const stoppedByKyozo = stopped.has(service.id);
        const crashed = crashedReplica(readings.map(replicaStatus), stoppedByKyozo);
        const crashLogs = crashed ? await this.tailLogs(crashed.containerId, 10) : undefined;
        const summary = summarizeService(service, desired, readings, { stats: sample, crashLogs, stoppedByKyozo });
        // Behind a gateway, the service's URL is the gateway's.
        const gateway = containers.find((c) => c.Labels[Label.gateway] === service.id && c.State === 'running');
        if (gateway) summary.ports = gatewayPublished(gateway, summary.ports);
        return summary;
      }),
    );
  }

  /**
   * A container's CPU and memory for a status read: a reading under 2 s old as it is; one under 30 s old too, while a
   * new one is taken in the background (the next read gets it); otherwise a new reading, waited for. The readings of
   * a read are taken at once (up to 128), never one after another.
   */
  private sampleOf(id: string): Promise<ResourceSample> {
    const cached = this.samples.get(id);
    const age = cached ? Date.now() - cached.at : Infinity;
    if (cached && age < SAMPLE_FRESH_MS) return Promise.resolve(cached.value);
    let next = this.sampling.get(id);
    if (!next) {
      next = this.statsCalls(() => this.stats(id)).finally(() => this.sampling.delete(id));
      this.sampling.set(id, next);
    }
    return cached && age < SAMPLE_STALE_MS ? Promise.resolve(cached.value) : next;
  }

  /**
   * CPU and memory from the stats API. The engine answers at its next collection (once a second). Without an earlier
   * reading of the container (or one over a minute old) the answer holds two collections and the CPU delta between
   * them; after that, a one-shot answer (API 1.41) holds one, and the delta is taken from this client's previous one.
   */
  private async stats(id: string): Promise<ResourceSample> {
    try {
      const known = this.samples.get(id);
      const previous = known && Date.now() - known.at < 60_000 ? known.counters : undefined;
      const s = (await this.docker
        .getContainer(id)
        .stats(
          (previous ? { stream: false, 'one-shot': true } : { stream: false }) as { stream: false },
        )) as unknown as Docker.ContainerStats;
      const cpuPercent = previous ? cpuPercentBetween(previous, s) : cpuPercentOfStats(s);
      const cache = (s.memory_stats.stats as Record<string, number> | undefined)?.cache ?? 0;
      const value = { cpuPercent, memoryBytes: Math.max(0, (s.memory_stats.usage ?? 0) - cache) };
      this.samples.set(id, { at: Date.now(), value, counters: cpuCounters(s) });
      return value;
    } catch {
      return { cpuPercent: 0, memoryBytes: 0 };
    }
  }

  /** Brings every gateway of the workspace up to date with its replicas (a watch calls it on each engine event). */
  /** `only`: the services events concerned; each refresh looks its gateway up, one engine call per service. */
  private refreshGateways(topology: Topology, only?: string[]): void {
    const ws = this.workspace(topology);
    for (const service of topology.services.filter((s) => deployable(s) && (!only || only.includes(s.id))))
      this.gateways.refresh(ws, service).catch(() => undefined); // a rejected config is recorded as an event
  }

  async *logs(topology: Topology, serviceId: string, options: LogOptions = {}): AsyncIterable<string> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const list = await this.containers(ws, service.id);
    if (!list.length) throw new Error(`${service.name} has no containers; run \`kyozo up\` first`);
    yield* serviceLogs(this.docker, service.name, list, options);
  }

  async events(topology: Topology, serviceId?: string): Promise<DeploymentEvent[]> {
    const ws = this.workspace(topology);
    const id = serviceId ? findService(topology, serviceId).id : undefined;
    return ws.events.read(id);
  }

  watch(
    topology: () => Topology,
    onStatus: (statuses: ServiceStatus[], partial?: boolean) => void,
    onEvent?: (e: DeploymentEvent) => void,
  ): { dispose(): void } {
    let disposed = false;
    // A refresh is a status() read: it never reconciles, so a watcher cannot remove another process's replicas. It
    // reads only the services the events concerned (one inspect per replica, not one per replica of all 100).
    const refresh = (services?: string[]) => {
      this.refreshGateways(topology(), services);
      return this.status(topology(), { stats: false, services }).then(
        (s) => {
          if (!disposed) onStatus(s, services !== undefined);
        },
        () => undefined,
      );
    };
    const health = (serviceId: string, healthy: boolean, status: string) => {
      try {
        const type = healthy ? 'health_changed' : 'health_check_failed';
        const e = this.workspace(topology()).events.append(type, {
          serviceId,
          message: status,
          details: { health: healthy ? 'healthy' : 'unhealthy' },
        });
        onEvent?.(e);
      } catch {
        // the event log is unwritable for now; the status refresh still shows the health
      }
    };
    const watcher = watchEngine(this.docker, this.workspace(topology()).project, {
      refresh: (services) => void refresh(services),
      health,
    });
    return {
      dispose: () => {
        disposed = true;
        watcher.dispose();
      },
    };
  }
}

/** The gateway's published TCP ports, with the replicas' UDP ones (the gateway does not proxy UDP). */
function gatewayPublished(gateway: Docker.ContainerInfo, replicaPorts: ServiceStatus['ports']): ServiceStatus['ports'] {
  const tcp = (gateway.Ports ?? [])
    .filter((p) => p.PublicPort && p.Type === 'tcp')
    .map((p) => ({
      container: p.PrivatePort,
      host: p.PublicPort,
      protocol: 'tcp' as const,
      url: `http://127.0.0.1:${p.PublicPort}`,
    }));
  const unique = tcp.filter((p, i) => tcp.findIndex((q) => q.container === p.container) === i);
  return [...unique, ...replicaPorts.filter((p) => p.protocol === 'udp')].sort((a, b) => a.container - b.container);
}

/** CPU and memory of one container at one reading. */
interface ResourceSample {
  cpuPercent: number;
  memoryBytes: number;
}

const SAMPLE_FRESH_MS = 2000;
const SAMPLE_STALE_MS = 30_000;
