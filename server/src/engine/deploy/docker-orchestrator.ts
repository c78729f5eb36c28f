// The orchestrator over the Docker Engine API. Every answer comes from the engine: containers are
// found again by their labels, so nothing lives only in this process and a killed CLI loses nothing.
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { DeploymentEvent, HealthState, PublishedPort, ReplicaStatus, Service, ServiceState, ServiceStatus, Topology } from '../../protocol';
import { createDockerClient, engineAddress, EngineUnreachableError, pingEngine } from './docker-client';
import { EventLog } from './event-log';
import { httpProbe, tcpProbe } from './health-probe';
import { BuildError, ensureServiceImage, ImageUnavailableError } from './image-builder';
import { configHash, Label, projectName } from './labels';
import type {
  DeployProgress, EngineReachability, LogOptions, Orchestrator, OrchestratorOptions, StopAllOptions, UpOptions,
} from './orchestrator';
import { allocatePorts, portKey, type PortAssignment } from './port-allocator';
import { validateReplicas } from './replica-count';
import { ServiceIndex } from './service-index';
import { serviceEnvironment } from './service-env';
import { resolveStateDir, StateStore } from './state-store';
import { runtimeOf } from './dockerfile-generator';

const COMPOSE_VERSION = '1.29.2';
const POLL_MS = 100;

interface Workspace {
  topology: Topology;
  project: string;
  network: string;
  store: StateStore;
  events: EventLog;
}

export class ServiceFailure extends Error {
  constructor(readonly serviceId: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
  }
}

/** Services Kyozo can run: something to build or an image; never terraform folders. */
export function deployable(service: Service): boolean {
  if (service.type === 'infrastructure' || service.type === 'compose_stack') return false;
  return Boolean(service.image || service.build || runtimeOf(service));
}

export function findService(topology: Topology, ref: string): Service {
  return ServiceIndex.of(topology).require(ref);
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DockerOrchestrator implements Orchestrator {
  readonly docker: Docker;
  readonly host: string;
  private readonly memoryMb: number;
  private readonly cpus: number;
  private readonly healthTimeoutMs: number;
  /** Probe results of the last two seconds, so a status right after a wait does not probe again. */
  private readonly recentProbes = new Map<string, { health: HealthState; at: number }>();

  constructor(private readonly options: OrchestratorOptions = {}) {
    this.host = engineAddress(options.dockerHost);
    this.docker = createDockerClient(options.dockerHost);
    this.memoryMb = options.defaults?.memoryMb ?? 512;
    this.cpus = options.defaults?.cpus ?? 0.5;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 90_000;
  }

  ping(): Promise<EngineReachability> {
    return pingEngine(this.docker, this.host);
  }

  private async requireEngine(): Promise<void> {
    const r = await this.ping();
    if (!r.reachable) throw new EngineUnreachableError(this.host, r.message ?? 'no answer');
  }

  workspace(topology: Topology): Workspace {
    const project = projectName(this.options.project ?? topology.name);
    const dir = resolveStateDir(topology.root, project, this.options.stateDir);
    return { topology, project, network: `${project}_default`, store: new StateStore(dir), events: new EventLog(dir, project) };
  }

  /** Absolute path of the workspace's state folder (credentials, ports, events). */
  stateDir(topology: Topology): string {
    return this.workspace(topology).store.dir;
  }

  private async containers(ws: Workspace, serviceId?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${Label.workspace}=${ws.project}`];
    if (serviceId) label.push(`${Label.service}=${serviceId}`);
    const list = await this.docker.listContainers({ all: true, filters: { label } });
    return list.sort((a, b) => Number(a.Labels[Label.replica] ?? 0) - Number(b.Labels[Label.replica] ?? 0));
  }

  /**
   * Makes the engine's state consistent after an interrupted run: containers created but never started
   * by a deployment whose process is gone are removed, the interrupted deployment is recorded as failed,
   * and (during `up`) containers of services no longer in the topology are removed.
   */
  async reconcile(ws: Workspace, removeOrphans: boolean): Promise<string[]> {
    const removed: string[] = [];
    const all = ws.events.read();
    const open = new Map<string, DeploymentEvent>();
    for (const e of all) {
      const dep = e.details?.deployment as string | undefined;
      if (!dep) continue;
      if (e.type === 'deployment_started') open.set(dep, e);
      else if (e.type === 'deployment_completed' || e.type === 'deployment_failed') open.delete(dep);
    }
    const dead = new Set<string>();
    for (const [dep, e] of open) {
      const pid = Number(e.details?.pid);
      if (!pid || !pidAlive(pid)) {
        dead.add(dep);
        ws.events.append('deployment_failed', {
          message: 'deployment interrupted (the process running it ended); reconciled',
          durationMs: Date.now() - Date.parse(e.at),
          details: { deployment: dep, interrupted: true },
        });
      }
    }
    const ids = new Set(ws.topology.services.map((s) => s.id));
    for (const c of await this.containers(ws)) {
      const dep = c.Labels[Label.deployment];
      const neverStarted = c.State === 'created' && (!dep || dead.has(dep) || !open.has(dep));
      const orphan = removeOrphans && !ids.has(c.Labels[Label.service] ?? '');
      if (!neverStarted && !orphan) continue;
      // A never-started container is removed without force: if a live deployment started it since the
      // listing above, the engine refuses (409) instead of killing the new replica.
      const gone = await this.docker.getContainer(c.Id).remove({ force: orphan }).then(() => true, () => false);
      if (gone) removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
    }
    return removed;
  }

  private readonly networks = new Map<string, Promise<void>>();

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
    const named = async () => (await this.docker.listNetworks({ filters: { name: [ws.network] } })).filter((n) => n.Name === ws.network);
    if ((await named()).length === 0) {
      try {
        await this.docker.createNetwork({
          Name: ws.network,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [Label.workspace]: ws.project, [Label.composeProject]: ws.project, [Label.composeNetwork]: 'default', [Label.composeVersion]: COMPOSE_VERSION },
        });
      } catch (e) {
        if (!/already exists/.test((e as Error).message)) throw e;
      }
    }
    // The engine's duplicate check is not atomic: if two processes raced, keep the oldest network only.
    const all = (await named()).sort((a, b) => (a.Created ?? '').localeCompare(b.Created ?? ''));
    for (const extra of all.slice(1)) await this.docker.getNetwork(extra.Id).remove().catch(() => undefined);
  }

  private async ensureVolumes(ws: Workspace, service: Service): Promise<{ Type: 'volume'; Source: string; Target: string }[]> {
    const mounts: { Type: 'volume'; Source: string; Target: string }[] = [];
    for (const [i, v] of (service.volumes ?? []).entries()) {
      if (v.source && (v.source.startsWith('.') || v.source.startsWith('/'))) continue; // bind mounts are not created from the topology
      const volume = `${ws.project}_${(v.source ?? `${service.name}-data${i ? `-${i}` : ''}`).replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
      await this.docker.createVolume({ Name: volume, Labels: { [Label.workspace]: ws.project, [Label.composeProject]: ws.project, 'com.docker.compose.volume': volume.slice(ws.project.length + 1) } });
      mounts.push({ Type: 'volume', Source: volume, Target: v.target });
    }
    return mounts;
  }

  private containerSpec(ws: Workspace, service: Service, image: string, imageUser: string, replica: number, ports: PortAssignment[], env: Record<string, string>, mounts: { Type: 'volume'; Source: string; Target: string }[], deployment: string) {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of ports) {
      const key = `${p.container}/${p.protocol}`;
      exposed[key] = {};
      bindings[key] = [{ HostIp: '127.0.0.1', HostPort: String(p.host) }];
    }
    const hc = service.healthCheck;
    const healthcheck = hc?.kind === 'command' && hc.command?.length
      ? {
          Test: hc.command[0] === 'CMD' || hc.command[0] === 'CMD-SHELL' || hc.command[0] === 'NONE' ? hc.command : hc.command.length === 1 ? ['CMD-SHELL', hc.command[0]] : ['CMD', ...hc.command],
          Interval: (hc.intervalSeconds ?? 2) * 1e9,
          Timeout: (hc.timeoutSeconds ?? 5) * 1e9,
          Retries: hc.retries ?? 5,
        }
      : undefined;
    const overrideStart = service.start && (service.start.source === 'kyozo.yaml' || service.start.source === 'compose');
    const cmd = overrideStart ? (service.start?.argv?.length ? service.start.argv : ['sh', '-c', service.start!.command]) : undefined;
    const nonRoot = imageUser !== '' && !/^(0|root)(:|$)/.test(imageUser);
    const config = {
      Image: image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`).sort(),
      Cmd: cmd,
      ExposedPorts: exposed,
      Healthcheck: healthcheck,
      HostConfig: {
        PortBindings: bindings,
        Memory: Math.round((service.resources?.memoryMb ?? this.memoryMb) * 1024 * 1024),
        NanoCpus: Math.round((service.resources?.cpus ?? this.cpus) * 1e9),
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
        Privileged: false,
        // A tiny init as PID 1 forwards signals and reaps zombies: `stop` is prompt even for processes
        // (busybox httpd, shells) that install no SIGTERM handler.
        Init: true,
        SecurityOpt: ['no-new-privileges:true'],
        // A non-root process needs no capabilities; images that start as root (databases dropping to
        // their own user) keep the few they need for that, minus the ones no service should use.
        CapDrop: nonRoot ? ['ALL'] : ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SYS_CHROOT', 'SETFCAP', 'SETPCAP'],
        Mounts: mounts,
        NetworkMode: ws.network,
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
    };
    const hash = configHash(config);
    return {
      hash,
      options: {
        ...config,
        name: `${ws.project}_${service.name}_${replica}`,
        Labels: {
          [Label.workspace]: ws.project,
          [Label.root]: ws.topology.root,
          [Label.service]: service.id,
          [Label.folder]: service.folder,
          [Label.replica]: String(replica),
          [Label.deployment]: deployment,
          [Label.probe]: JSON.stringify(hc && hc.kind !== 'command' ? { kind: hc.kind, path: hc.path, port: hc.port } : hc ? { kind: 'command' } : { kind: 'tcp' }),
          [Label.composeProject]: ws.project,
          [Label.composeService]: service.name,
          [Label.composeNumber]: String(replica),
          [Label.composeOneoff]: 'False',
          [Label.composeConfigHash]: hash,
          [Label.composeVersion]: COMPOSE_VERSION,
          [Label.composeWorkingDir]: ws.topology.root,
        },
        NetworkingConfig: { EndpointsConfig: { [ws.network]: { Aliases: [service.name] } } },
      } as Docker.ContainerCreateOptions,
    };
  }

  /** Creates/starts/removes the replicas of one service so it matches the topology and the desired count. */
  private async applyService(ws: Workspace, service: Service, image: string, deployment: string, onMessage: (m: string) => void, signal?: AbortSignal): Promise<{ ids: string[]; imageId: string }> {
    const desired = ws.store.desiredReplicas(service.id) ?? Math.max(1, service.replicas || 1);
    const all = await this.containers(ws);
    const existing = all.filter((c) => c.Labels[Label.service] === service.id);
    const owned = new Map<number, string>();
    for (const c of all) {
      for (const p of c.Ports ?? []) {
        if (p.PublicPort) owned.set(p.PublicPort, portKey({ serviceId: c.Labels[Label.service] ?? '', replica: Number(c.Labels[Label.replica] ?? 1), container: p.PrivatePort, protocol: p.Type === 'udp' ? 'udp' : 'tcp' }));
      }
    }
    const imageInfo = await this.docker.getImage(image).inspect();
    const env = serviceEnvironment(ws.topology, service, ws.store);
    const mounts = await this.ensureVolumes(ws, service);
    const ids: string[] = [];
    for (let replica = 1; replica <= desired; replica++) {
      if (signal?.aborted) throw new Error('interrupted');
      const requests = service.ports.map((p) => ({ serviceId: service.id, replica, container: p.container, protocol: p.protocol, requested: replica === 1 ? p.host : undefined }));
      const unique = requests.filter((r, i) => requests.findIndex((x) => x.container === r.container && x.protocol === r.protocol) === i);
      const ports = await allocatePorts(ws.store, unique, owned);
      for (const p of ports) {
        if (p.conflict) {
          onMessage(p.conflict);
          ws.events.append('health_changed', { serviceId: service.id, message: p.conflict, details: { portConflict: { container: p.container, requested: p.requested, host: p.host } } });
        }
      }
      const spec = this.containerSpec(ws, service, imageInfo.Id, imageInfo.Config?.User ?? '', replica, ports, env, mounts, deployment);
      const current = existing.find((c) => Number(c.Labels[Label.replica]) === replica);
      if (current && current.Labels[Label.composeConfigHash] === spec.hash) {
        if (current.State !== 'running') await this.docker.getContainer(current.Id).start().catch((e: Error) => { if (!/already started/.test(e.message)) throw e; });
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
    for (const c of existing) {
      if (Number(c.Labels[Label.replica]) > desired) await this.docker.getContainer(c.Id).remove({ force: true });
    }
    return { ids, imageId: imageInfo.Id };
  }

  /**
   * The exit code of a container caught crashing. Inspected while the engine has already restarted it, the state
   * reads running with code 0; with the restart policy now off, that run ends by itself a moment later with the
   * real code. One that keeps running is stopped.
   */
  private async exitCodeOfCrashLoop(container: Docker.Container, st: Docker.ContainerInspectInfo['State']): Promise<number> {
    if (!st.Running && !st.Restarting) return st.ExitCode;
    const timer = new AbortController();
    const waited = await Promise.race([
      container.wait({ condition: 'not-running' }).then((r: { StatusCode?: number }) => r.StatusCode).catch(() => undefined),
      sleep(3000, timer.signal).then(() => undefined),
    ]);
    timer.abort();
    if (waited !== undefined) return waited;
    await container.stop({ t: 1 }).catch(() => undefined);
    const after = await container.inspect().catch(() => undefined);
    return after?.State.ExitCode ?? st.ExitCode;
  }

  /** Waits until every replica is healthy (or running, when nothing can be probed); throws with the exit code and last logs. */
  private async waitHealthy(ws: Workspace, service: Service, ids: string[], signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.healthTimeoutMs;
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
          const logs = await this.tailLogs(id, 30);
          throw new ServiceFailure(service.id, `${service.name} exited with code ${exitCode} right after starting${logs.length ? `; last logs:\n${logs.join('\n')}` : ''}`, { exitCode, logTail: logs });
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
          throw new ServiceFailure(service.id, `${service.name} reported unhealthy: ${info.State.Health.Log?.at(-1)?.Output?.trim() ?? ''}`, { health: 'unhealthy' });
        }
      }
      if (!pending.size) break;
      if (Date.now() > deadline) {
        const logs = await this.tailLogs([...pending][0]!, 30);
        ws.events.append('health_check_failed', { serviceId: service.id, message: `${service.name} not healthy after ${this.healthTimeoutMs / 1000} s`, details: { logTail: logs } });
        throw new ServiceFailure(service.id, `${service.name} did not become healthy within ${this.healthTimeoutMs / 1000} s (${describeProbe(service)}); last logs:\n${logs.join('\n')}`, { logTail: logs });
      }
      await sleep(POLL_MS, signal);
    }
  }

  /** One health reading: the engine's HEALTHCHECK status, else our probe through the published port. */
  private async probeContainer(service: Service, info: Docker.ContainerInspectInfo): Promise<HealthState> {
    if (!info.State.Running) return 'unhealthy';
    const h = info.State.Health?.Status;
    if (h) return h === 'healthy' ? 'healthy' : h === 'unhealthy' ? 'unhealthy' : 'starting';
    const recent = this.recentProbes.get(info.Id);
    if (recent && Date.now() - recent.at < 2000 && recent.health === 'healthy' && Date.parse(info.State.StartedAt) < recent.at) return recent.health;
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
    return (await tcpProbe(host)) ? 'healthy' : 'starting';
  }

  private async tailLogs(id: string, n: number): Promise<string[]> {
    try {
      const buf = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: n, follow: false })) as unknown as Buffer;
      return demuxBuffer(buf).split('\n').filter((l) => l.length > 0).slice(-n);
    } catch {
      return [];
    }
  }

  async up(topology: Topology, options: UpOptions = {}): Promise<ServiceStatus[]> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const t0 = Date.now();
    await this.reconcile(ws, !options.services?.length);
    const selected = selectServices(topology, options.services);
    const deployment = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    ws.events.append('deployment_started', { details: { deployment, pid: process.pid, services: selected.map((s) => s.id) } });
    const progress = (serviceId: string, started: number, state: DeployProgress['state'], message?: string) =>
      options.onProgress?.({ serviceId, state, elapsedMs: Date.now() - started, message });
    try {
      // The network is created while images are checked or built; containers wait for it.
      const network = this.ensureNetwork(ws);
      network.catch(() => undefined);
      const waveOf = new Map<string, number>();
      topology.order.forEach((wave, i) => wave.forEach((id) => waveOf.set(id, i)));
      const tasks = new Map<string, Promise<void>>();
      const failures: ServiceFailure[] = [];
      const run = async (service: Service): Promise<void> => {
        const started = Date.now();
        progress(service.id, started, 'building');
        try {
          const img = await ensureServiceImage(this.docker, topology, ws.project, service, this.options.baseImages ?? {}, (line) => progress(service.id, started, 'building', line), options.signal);
          const deps = topology.edges
            .filter((e) => e.from === service.id && e.to !== service.id && tasks.has(e.to) && (waveOf.get(e.to) ?? -1) < (waveOf.get(service.id) ?? 0))
            .map((e) => e.to)
            .filter((id, i, a) => a.indexOf(id) === i);
          if (deps.length) {
            progress(service.id, started, 'waiting', `waiting for ${deps.join(', ')} to be healthy`);
            const results = await Promise.allSettled(deps.map((d) => tasks.get(d)));
            const failedDeps = deps.filter((_, i) => results[i]!.status === 'rejected');
            if (failedDeps.length) throw new ServiceFailure(service.id, `not started: dependency ${failedDeps.join(', ')} failed`, { dependencies: failedDeps });
          }
          if (options.signal?.aborted) throw new Error('interrupted');
          progress(service.id, started, 'starting');
          await network;
          const { ids, imageId } = await this.applyService(ws, service, img.image, deployment, (m) => progress(service.id, started, 'starting', m), options.signal);
          await this.waitHealthy(ws, service, ids, options.signal);
          ws.store.rememberDeployedImage(service.id, imageId, this.options.baseImages ?? {});
          const durationMs = Date.now() - started;
          ws.events.append('service_started', { serviceId: service.id, durationMs, details: { deployment, replicas: ids.length, image: img.image, built: img.built, buildMs: img.durationMs } });
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
        ws.events.append('deployment_failed', {
          serviceId: first.serviceId,
          durationMs: Date.now() - t0,
          message: first.message.split('\n')[0],
          details: { deployment, ...first.details, failed: failures.map((f) => ({ serviceId: f.serviceId, message: f.message.split('\n')[0] })) },
        });
        const err = new DeploymentError(failures);
        throw err;
      }
      ws.events.append('deployment_completed', { durationMs: Date.now() - t0, details: { deployment, services: selected.map((s) => s.id) } });
    } catch (err) {
      if (!(err instanceof DeploymentError)) {
        ws.events.append('deployment_failed', { durationMs: Date.now() - t0, message: (err as Error).message, details: { deployment } });
      }
      throw err;
    }
    return this.status(topology, { stats: false });
  }

  async down(topology: Topology, options: { volumes?: boolean } = {}): Promise<void> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const byService = new Map<string, number>();
    for (const c of await this.containers(ws)) {
      await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      const sid = c.Labels[Label.service] ?? '';
      byService.set(sid, (byService.get(sid) ?? 0) + 1);
    }
    for (const [serviceId, n] of byService) ws.events.append('service_stopped', { serviceId, message: 'removed by down', details: { removed: n } });
    for (const n of await this.docker.listNetworks({ filters: { label: [`${Label.workspace}=${ws.project}`] } })) {
      await this.docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
    if (options.volumes) {
      const { Volumes } = await this.docker.listVolumes({ filters: { label: [`${Label.workspace}=${ws.project}`] } });
      for (const v of Volumes ?? []) await this.docker.getVolume(v.Name).remove().catch(() => undefined);
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
    for (const c of list) if (c.State !== 'running') await this.docker.getContainer(c.Id).start();
    await this.waitHealthy(ws, service, list.map((c) => c.Id));
    ws.events.append('service_started', { serviceId: service.id, durationMs: Date.now() - t0, details: { replicas: list.length } });
    return this.serviceStatus(topology, service.id);
  }

  async stop(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const t0 = Date.now();
    const list = await this.containers(ws, service.id);
    await Promise.all(list.filter((c) => c.State === 'running' || c.State === 'restarting').map((c) => this.docker.getContainer(c.Id).stop({ t: 10 }).catch(() => undefined)));
    ws.events.append('service_stopped', { serviceId: service.id, durationMs: Date.now() - t0, details: { replicas: list.length } });
    return this.serviceStatus(topology, service.id);
  }

  async stopAll(topology: Topology, options: StopAllOptions = {}): Promise<ServiceStatus[]> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const t0 = Date.now();
    const live = new Set((await this.containers(ws))
      .filter((c) => c.State === 'running' || c.State === 'restarting')
      .map((c) => c.Labels[Label.service]));
    const running = topology.services.filter((s) => deployable(s) && live.has(s.id));
    for (const [i, s] of running.entries()) {
      if (options.signal?.aborted) break;
      const percentage = Math.round((i / running.length) * 100);
      options.onProgress?.({ serviceId: s.id, state: 'stopping', elapsedMs: Date.now() - t0, message: s.name, percentage });
      await this.stop(topology, s.id);
    }
    return this.status(topology, { stats: false });
  }

  async restart(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const t0 = Date.now();
    const list = await this.containers(ws, service.id);
    if (!list.length) return this.start(topology, service.id);
    await Promise.all(list.map((c) => this.docker.getContainer(c.Id).restart({ t: 10 })));
    await this.waitHealthy(ws, service, list.map((c) => c.Id));
    ws.events.append('service_started', { serviceId: service.id, durationMs: Date.now() - t0, message: 'restarted', details: { restart: true, replicas: list.length } });
    return this.serviceStatus(topology, service.id);
  }

  async remove(topology: Topology, serviceId: string): Promise<void> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const list = await this.containers(ws, service.id);
    await Promise.all(list.map((c) => this.docker.getContainer(c.Id).remove({ force: true })));
    ws.events.append('service_stopped', { serviceId: service.id, message: 'removed', details: { removed: list.length } });
  }

  async scale(topology: Topology, serviceId: string, replicas: number): Promise<ServiceStatus> {
    validateReplicas(replicas, `scale ${serviceId}`);
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const t0 = Date.now();
    const before = (await this.containers(ws, service.id)).length;
    ws.store.setDesiredReplicas(service.id, replicas);
    if (replicas === 0) {
      for (const c of await this.containers(ws, service.id)) await this.docker.getContainer(c.Id).remove({ force: true });
    } else {
      // Scaling creates containers, so it is recorded as a deployment with this process's pid, like `up`:
      // reconcile() (run by `up`, `kyozo ps` and repair(), in this process or another one) then knows the fresh
      // 'created' replicas belong to a live deployment and leaves them alone.
      const deployment = `scale-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      ws.events.append('deployment_started', { serviceId: service.id, details: { deployment, pid: process.pid, services: [service.id], scale: { from: before, to: replicas } } });
      try {
        await this.ensureNetwork(ws);
        const image = await this.imageToScale(ws, topology, service);
        const { ids } = await this.applyService(ws, service, image, deployment, () => undefined);
        await this.waitHealthy(ws, service, ids);
      } catch (err) {
        const failure = toFailure(service.id, err);
        ws.events.append('deployment_failed', { serviceId: service.id, durationMs: Date.now() - t0, message: failure.message.split('\n')[0], details: { deployment, ...failure.details } });
        throw err;
      }
      ws.events.append('deployment_completed', { serviceId: service.id, durationMs: Date.now() - t0, details: { deployment, services: [service.id] } });
    }
    ws.events.append('service_scaled', { serviceId: service.id, durationMs: Date.now() - t0, details: { from: before, to: replicas } });
    return this.serviceStatus(topology, service.id);
  }

  /**
   * A scale runs more of what is deployed, never a rebuild: the image the replicas run, else the one `up` last started.
   * Only a service `up` never deployed is built, with the base images remembered for it over this process's own.
   */
  private async imageToScale(ws: Workspace, topology: Topology, service: Service): Promise<string> {
    const present = (id: string | undefined) => (id ? this.docker.getImage(id).inspect().then(() => id, () => undefined) : undefined);
    const replicas = await this.containers(ws, service.id);
    const deployed = ws.store.deployedImage(service.id);
    const image = (await present(replicas[0]?.ImageID)) ?? (await present(deployed.image));
    if (image) return image;
    const baseImages = { ...this.options.baseImages, ...deployed.baseImages };
    return (await ensureServiceImage(this.docker, topology, ws.project, service, baseImages, () => undefined)).image;
  }

  private async serviceStatus(topology: Topology, serviceId: string): Promise<ServiceStatus> {
    const all = await this.status(topology, { stats: false });
    return all.find((s) => s.serviceId === serviceId)!;
  }

  async repair(topology: Topology): Promise<string[]> {
    await this.requireEngine();
    return this.reconcile(this.workspace(topology), false);
  }

  async status(topology: Topology, options: { stats?: boolean } = {}): Promise<ServiceStatus[]> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const containers = await this.containers(ws);
    return Promise.all(topology.services.filter(deployable).map(async (service): Promise<ServiceStatus> => {
      const mine = containers.filter((c) => c.Labels[Label.service] === service.id);
      const desired = ws.store.desiredReplicas(service.id) ?? Math.max(1, service.replicas || 1);
      if (!mine.length) {
        return { serviceId: service.id, name: service.name, state: 'not-deployed', health: 'none', replicas: { running: 0, desired }, ports: [], containers: [] };
      }
      const infos = await Promise.all(mine.map((c) => this.docker.getContainer(c.Id).inspect().catch(() => undefined)));
      const samples = options.stats !== false
        ? await Promise.all(infos.map((i) => (i?.State.Running ? this.stats(i.Id) : undefined)))
        : [];
      const replicas: ReplicaStatus[] = [];
      let cpu = 0;
      let mem = 0;
      for (const [index, info] of infos.entries()) {
        if (!info) continue;
        const health = await this.probeContainer(service, info);
        replicas.push({
          containerId: info.Id,
          name: info.Name.replace(/^\//, ''),
          state: info.State.Status,
          health: info.State.Running ? health : 'none',
          startedAt: info.State.Running ? info.State.StartedAt : undefined,
          exitCode: info.State.Running && !info.State.Restarting ? undefined : info.State.ExitCode,
        });
        const sample = samples[index];
        if (sample) {
          cpu += sample.cpuPercent;
          mem += sample.memoryBytes;
        }
      }
      const running = replicas.filter((r) => r.state === 'running');
      const healths = running.map((r) => r.health);
      const health: HealthState = !running.length ? 'none'
        : healths.includes('unhealthy') ? 'unhealthy'
        : healths.includes('starting') ? 'starting'
        : healths.every((h) => h === 'none') ? 'none' : 'healthy';
      const crashed = replicas.find((r) => r.state === 'restarting' || (r.state === 'exited' && r.exitCode !== 0 && r.exitCode !== 137 && r.exitCode !== 143));
      const state: ServiceState = crashed ? 'error'
        : !running.length ? 'stopped'
        : health === 'unhealthy' ? 'unhealthy'
        : health === 'starting' ? 'starting' : 'running';
      const first = infos.find((i) => i?.State.Running) ?? infos[0];
      const ports: PublishedPort[] = [];
      const published = (first?.NetworkSettings?.Ports ?? first?.HostConfig?.PortBindings ?? {}) as Record<string, { HostPort?: string }[] | null>;
      for (const [key, binds] of Object.entries(published)) {
        const [port, proto] = key.split('/');
        const host = Number(binds?.[0]?.HostPort ?? 0);
        if (!host) continue;
        ports.push({ container: Number(port), host, protocol: proto === 'udp' ? 'udp' : 'tcp', url: proto === 'udp' ? undefined : `http://127.0.0.1:${host}` });
      }
      let message: string | undefined;
      if (crashed) {
        const logs = await this.tailLogs(crashed.containerId, 10);
        message = `exited with code ${crashed.exitCode ?? '?'}${logs.length ? `: ${logs.slice(-3).join(' | ')}` : ''}`;
      }
      const startedAt = running.map((r) => r.startedAt!).sort()[0];
      return {
        serviceId: service.id,
        name: service.name,
        state,
        health,
        replicas: { running: running.length, desired },
        ports: ports.sort((a, b) => a.container - b.container),
        containers: replicas,
        startedAt,
        cpuPercent: options.stats !== false && running.length ? Math.round(cpu * 10) / 10 : undefined,
        memoryBytes: options.stats !== false && running.length ? mem : undefined,
        message,
      };
    }));
  }

  /** CPU and memory from the stats API (one sample, with the engine's previous reading for the CPU delta). */
  private async stats(id: string): Promise<{ cpuPercent: number; memoryBytes: number }> {
    try {
      const s = (await this.docker.getContainer(id).stats({ stream: false })) as unknown as Docker.ContainerStats;
      const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
      const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
      const cpus = s.cpu_stats.online_cpus ?? s.cpu_stats.cpu_usage.percpu_usage?.length ?? 1;
      const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
      const cache = (s.memory_stats.stats as Record<string, number> | undefined)?.cache ?? 0;
      return { cpuPercent, memoryBytes: Math.max(0, (s.memory_stats.usage ?? 0) - cache) };
    } catch {
      return { cpuPercent: 0, memoryBytes: 0 };
    }
  }

  async *logs(topology: Topology, serviceId: string, options: LogOptions = {}): AsyncIterable<string> {
    await this.requireEngine();
    const ws = this.workspace(topology);
    const service = findService(topology, serviceId);
    const list = await this.containers(ws, service.id);
    if (!list.length) throw new Error(`${service.name} has no containers; run \`kyozo up\` first`);
    const prefix = list.length > 1;
    if (!options.follow) {
      for (const c of list) {
        const buf = (await this.docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: options.tail ?? 200, follow: false })) as unknown as Buffer;
        const name = `${service.name}-${c.Labels[Label.replica]}`;
        for (const line of demuxBuffer(buf).split('\n')) if (line) yield prefix ? `${name} | ${line}` : line;
      }
      return;
    }
    const out = new PassThrough();
    const streams: NodeJS.ReadableStream[] = [];
    let open = list.length;
    for (const c of list) {
      const stream = (await this.docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: options.tail ?? 200, follow: true })) as NodeJS.ReadableStream;
      streams.push(stream);
      const name = `${service.name}-${c.Labels[Label.replica]}`;
      const sink = new PassThrough();
      let rest = '';
      sink.on('data', (d: Buffer) => {
        const parts = (rest + d.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) out.write(`${prefix ? `${name} | ` : ''}${line}\n`);
      });
      this.docker.modem.demuxStream(stream, sink, sink);
      stream.on('end', () => { if (--open === 0) out.end(); });
    }
    const stop = () => {
      for (const s of streams) (s as unknown as { destroy(): void }).destroy();
      out.end();
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    let rest = '';
    for await (const chunk of out) {
      const parts = (rest + (chunk as Buffer).toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) yield line;
    }
  }

  async events(topology: Topology, serviceId?: string): Promise<DeploymentEvent[]> {
    const ws = this.workspace(topology);
    const id = serviceId ? findService(topology, serviceId).id : undefined;
    return ws.events.read(id);
  }

  watch(topology: () => Topology, onStatus: (statuses: ServiceStatus[]) => void, onEvent?: (e: DeploymentEvent) => void): { dispose(): void } {
    let disposed = false;
    let stream: NodeJS.ReadableStream | undefined;
    let timer: NodeJS.Timeout | undefined;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (disposed) return;
        this.status(topology(), { stats: false }).then((s) => { if (!disposed) onStatus(s); }, () => undefined);
      }, 200);
    };
    const ws = this.workspace(topology());
    this.docker.getEvents({ filters: { label: [`${Label.workspace}=${ws.project}`], type: ['container'] } }).then((s) => {
      stream = s;
      if (disposed) (s as unknown as { destroy(): void }).destroy();
      let rest = '';
      s.on('data', (d: Buffer) => {
        const parts = (rest + d.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) {
          if (!line.trim()) continue;
          try {
            const ev = JSON.parse(line) as { status?: string; Actor?: { Attributes?: Record<string, string> } };
            const serviceId = ev.Actor?.Attributes?.[Label.service];
            if (ev.status?.startsWith('health_status') && serviceId) {
              const healthy = ev.status.endsWith('healthy') && !ev.status.endsWith('unhealthy');
              const e = this.workspace(topology()).events.append(healthy ? 'health_changed' : 'health_check_failed', { serviceId, message: ev.status, details: { health: healthy ? 'healthy' : 'unhealthy' } });
              onEvent?.(e);
            }
          } catch {
            // partial line
          }
        }
        refresh();
      });
    }, () => undefined);
    refresh();
    return {
      dispose: () => {
        disposed = true;
        clearTimeout(timer);
        if (stream) (stream as unknown as { destroy(): void }).destroy();
      },
    };
  }
}

export class DeploymentError extends Error {
  constructor(readonly failures: ServiceFailure[]) {
    super(failures.map((f) => `${f.serviceId}: ${f.message}`).join('\n'));
  }
}

function toFailure(serviceId: string, err: unknown): ServiceFailure {
  if (err instanceof ServiceFailure) return err;
  if (err instanceof BuildError) return new ServiceFailure(serviceId, err.message, { step: err.step, logTail: err.logTail });
  if (err instanceof ImageUnavailableError) return new ServiceFailure(serviceId, err.message, { image: err.image, reason: err.reason });
  return new ServiceFailure(serviceId, (err as Error).message ?? String(err));
}

function describeProbe(service: Service): string {
  const hc = service.healthCheck;
  if (hc?.kind === 'http') return `HTTP GET ${hc.path} on port ${hc.port ?? service.ports[0]?.container}`;
  if (hc?.kind === 'command') return `health command ${hc.command?.join(' ')}`;
  return service.ports[0] ? `TCP port ${service.ports[0].container}` : 'process running';
}

/** The requested services plus everything they depend on (transitively), in topology order. */
export function selectServices(topology: Topology, refs?: string[]): Service[] {
  const all = topology.services.filter(deployable);
  if (!refs?.length) return all;
  const want = new Set<string>();
  const add = (id: string) => {
    if (want.has(id)) return;
    want.add(id);
    for (const e of topology.edges) if (e.from === id) add(e.to);
  };
  for (const r of refs) add(findService(topology, r).id);
  return all.filter((s) => want.has(s.id));
}

/** Docker's multiplexed log format (8-byte frame headers) to text; plain text passes through. */
export function demuxBuffer(buf: Buffer | string): string {
  if (typeof buf === 'string') return buf;
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0) && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : out;
}
