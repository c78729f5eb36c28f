// The load-balancing gateway of a scaled service: one nginx container on the project network that publishes the
// service's host ports and balances over its healthy replicas (least connections). When replicas come and go the
// upstream list is regenerated, written into the container (putArchive: works on any engine, no bind mount), checked
// with `nginx -t` and loaded with `nginx -s reload`, which lets old workers finish their requests: nothing is dropped.
import type Docker from 'dockerode';
import * as tar from 'tar-stream'; // a config file as a tar stream in memory for putArchive, without a temp folder
import type { HealthState, Service } from '../../protocol';
import { COMPOSE_VERSION } from './container-spec';
import {
  GATEWAY_CONF,
  GATEWAY_DIR,
  GATEWAY_NEXT_CONF,
  GATEWAY_USER,
  gatewayConfig,
  gatewayPorts,
  upstreamReplicas,
  type UpstreamReplica,
} from './gateway-config';
import { tcpProbe } from './health-probe';
import { pullImage } from './image-builder';
import { Label } from './labels';
import { demuxBuffer, tailLogs } from './log-stream';
import { allocatePorts, portKey } from './port-allocator';
import { workspaceContainers, type Workspace } from './workspace';

export const DEFAULT_GATEWAY_IMAGE = 'nginx:1.27-alpine';

/** The gateway could not be created or reconfigured; the message says why and what to do. */
export class GatewayError extends Error {}

/** What a sync left in place: the gateway container, its host ports and the replicas that take traffic. */
export interface GatewayState {
  containerId: string;
  hostPorts: { container: number; host: number }[];
  upstream: string[];
}

const GATEWAY_UID = Number(GATEWAY_USER.split(':')[0]);

function configArchive(name: string, text: string): tar.Pack {
  const pack = tar.pack();
  const base = GATEWAY_DIR.replace(/^\/tmp\//, '');
  const owner = { uid: GATEWAY_UID, gid: GATEWAY_UID, mtime: new Date() };
  pack.entry({ name: `${base}/`, type: 'directory', mode: 0o755, ...owner });
  pack.entry({ name: `${base}/${name}`, mode: 0o644, ...owner }, text);
  pack.finalize();
  return pack;
}

async function writeConfig(container: Docker.Container, path: string, text: string): Promise<void> {
  await container.putArchive(
    configArchive(path.slice(GATEWAY_DIR.length + 1), text) as unknown as NodeJS.ReadableStream,
    {
      path: '/tmp',
    },
  );
}

/** Runs `cmd` in the container (as its own non-root user) and returns its exit code and output. */
async function execIn(container: Docker.Container, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  let info = await exec.inspect();
  for (let i = 0; info.Running && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    info = await exec.inspect();
  }
  return { exitCode: info.ExitCode ?? -1, output: demuxBuffer(Buffer.concat(chunks)).trim() };
}

function imagePresent(docker: Docker, image: string): Promise<boolean> {
  return docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

export class Gateways {
  /** Syncs of one gateway run one after another; a sync asked for while one runs is run once after it. */
  private readonly queues = new Map<string, Promise<GatewayState | undefined>>();
  /** The configuration each gateway container runs, so an unchanged upstream is not reloaded. */
  private readonly applied = new Map<string, string>();

  /**
   * `probe`: a replica's health as the orchestrator reads it (the engine's verdict once it has one, else Kyozo's own
   * probe), so a replica that answers joins before a slow HEALTHCHECK's first run; the engine's status alone without.
   */
  constructor(
    private readonly docker: Docker,
    readonly image: string,
    private readonly probe?: (service: Service, info: Docker.ContainerInspectInfo) => Promise<HealthState>,
  ) {}

  /** The gateway container of a service, if it has one. */
  async find(ws: Workspace, serviceId: string): Promise<Docker.ContainerInfo | undefined> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${Label.workspace}=${ws.project}`, `${Label.gateway}=${serviceId}`] },
    });
    return list[0];
  }

  /**
   * Creates the gateway when missing, or brings its upstream up to date with the replicas running now. Throws a
   * GatewayError when nginx rejects the new configuration (the running one stays) or the gateway cannot start.
   */
  /** `leaving`: ids of replicas about to be removed, taken out of the upstream first (a scale-in drains them). */
  sync(ws: Workspace, service: Service, leaving?: ReadonlySet<string>): Promise<GatewayState | undefined> {
    const key = `${ws.project}/${service.id}`;
    const previous = this.queues.get(key) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.syncNow(ws, service, true, leaving));
    this.queues.set(key, next);
    void next
      .finally(() => {
        if (this.queues.get(key) === next) this.queues.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** Like sync, for a service that may have no gateway: nothing is created, an existing one is updated. */
  refresh(ws: Workspace, service: Service): Promise<GatewayState | undefined> {
    const key = `${ws.project}/${service.id}`;
    const previous = this.queues.get(key) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.syncNow(ws, service, false));
    this.queues.set(key, next);
    void next
      .finally(() => {
        if (this.queues.get(key) === next) this.queues.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** Removes a service's gateway (`rm`); `down` removes it with every other container of the workspace. */
  async remove(ws: Workspace, serviceId: string): Promise<boolean> {
    const gw = await this.find(ws, serviceId);
    if (!gw) return false;
    await this.docker
      .getContainer(gw.Id)
      .remove({ force: true })
      .catch(() => undefined);
    this.applied.delete(gw.Id);
    return true;
  }

  /** The replicas of a service with their address on the project network and their health. */
  private async replicas(ws: Workspace, service: Service, leaving?: ReadonlySet<string>): Promise<UpstreamReplica[]> {
    const list = (await workspaceContainers(this.docker, ws, service.id)).filter(
      (c) => c.State === 'running' && !leaving?.has(c.Id),
    );
    const infos = await Promise.all(
      list.map((c) =>
        this.docker
          .getContainer(c.Id)
          .inspect()
          .catch(() => undefined),
      ),
    );
    const live = infos.filter((i): i is Docker.ContainerInspectInfo =>
      Boolean(i?.State.Running && !i.State.Restarting),
    );
    return Promise.all(
      live.map(async (i) => {
        const status = this.probe ? await this.probe(service, i) : (i.State.Health?.Status ?? 'none');
        let health: UpstreamReplica['health'] = 'starting';
        if (status === 'healthy' || status === 'none') health = 'healthy';
        if (status === 'unhealthy') health = 'unhealthy';
        return {
          name: i.Name.replace(/^\//, ''),
          ip: i.NetworkSettings.Networks?.[ws.network]?.IPAddress ?? '',
          health,
        };
      }),
    );
  }

  private async syncNow(
    ws: Workspace,
    service: Service,
    create: boolean,
    leaving?: ReadonlySet<string>,
  ): Promise<GatewayState | undefined> {
    const existing = await this.find(ws, service.id);
    if (!existing && !create) return undefined;
    const all = await this.replicas(ws, service, leaving);
    const upstream = upstreamReplicas(all);
    const conf = gatewayConfig({ serviceName: service.name, ports: gatewayPorts(service.ports), replicas: upstream });
    let id: string;
    if (!existing) id = await this.create(ws, service, conf);
    else {
      id = existing.Id;
      const container = this.docker.getContainer(id);
      if (existing.State !== 'running') {
        await writeConfig(container, GATEWAY_CONF, conf);
        await container.start().catch((e: Error) => {
          if (!/already started/.test(e.message)) throw e;
        });
        await this.waitListening(service, id);
        this.applied.set(id, conf);
      } else if (this.applied.get(id) !== conf) {
        await this.reload(ws, service, container, conf);
      }
    }
    const before = this.lastUpstream.get(id);
    const names = upstream.map((r) => r.name);
    if (before === undefined || before.join(',') !== names.join(',')) {
      this.lastUpstream.set(id, names);
      const left = all.filter((r) => !names.includes(r.name)).map((r) => `${r.name} (${r.health})`);
      ws.events.append('health_changed', {
        serviceId: service.id,
        message: `gateway: ${names.length} of ${all.length} replicas take traffic${left.length ? `; left out: ${left.join(', ')}` : ''}`,
        details: { gateway: { upstream: names, leftOut: left } },
      });
    }
    const info = await this.docker.getContainer(id).inspect();
    const hostPorts = Object.entries(info.NetworkSettings.Ports ?? {}).flatMap(([key, binds]) => {
      const host = Number(binds?.[0]?.HostPort ?? 0);
      return host ? [{ container: Number(key.split('/')[0]), host }] : [];
    });
    return { containerId: id, hostPorts, upstream: names };
  }

  private readonly lastUpstream = new Map<string, string[]>();

  /**
   * Writes `conf` beside the live configuration, has nginx check it (`nginx -t`), then makes it live and reloads
   * (old workers finish their requests). A configuration nginx rejects is not applied: GatewayError with its reasons.
   */
  async reload(ws: Workspace, service: Service, container: Docker.Container, conf: string): Promise<void> {
    await writeConfig(container, GATEWAY_NEXT_CONF, conf);
    const check = await execIn(container, ['nginx', '-t', '-c', GATEWAY_NEXT_CONF]);
    if (check.exitCode !== 0) {
      const message = `the gateway of ${service.name} kept its running configuration: nginx rejected the new one (${check.output.split('\n').slice(-3).join(' | ')})`;
      ws.events.append('health_changed', {
        serviceId: service.id,
        message,
        details: { gateway: { rejected: check.output } },
      });
      throw new GatewayError(message);
    }
    await writeConfig(container, GATEWAY_CONF, conf);
    const reload = await execIn(container, ['nginx', '-s', 'reload', '-c', GATEWAY_CONF]);
    if (reload.exitCode !== 0)
      throw new GatewayError(`the gateway of ${service.name} did not reload: ${reload.output}`);
    this.applied.set(container.id, conf);
  }

  private async ensureImage(): Promise<void> {
    if (await imagePresent(this.docker, this.image)) return;
    try {
      await pullImage(this.docker, this.image, () => undefined, 60_000);
    } catch (e) {
      throw new GatewayError(
        `the gateway image ${this.image} is not on the engine and could not be pulled (${(e as Error).message}); ` +
          'load an nginx image (`docker load`) and name it in the kyozo.images.gateway setting, `--gateway-image` ' +
          'or KYOZO_GATEWAY_IMAGE',
      );
    }
  }

  private async create(ws: Workspace, service: Service, conf: string): Promise<string> {
    await this.ensureImage();
    const ports = gatewayPorts(service.ports);
    // The ports our containers publish now, by the key each was allocated under: the gateway takes replica 1's key,
    // so the service's URL is the same whether one replica or the gateway publishes it.
    const owned = new Map<number, string>();
    for (const c of await workspaceContainers(this.docker, ws)) {
      for (const p of c.Ports ?? []) {
        if (!p.PublicPort) continue;
        const serviceId = c.Labels[Label.gateway] ?? c.Labels[Label.service] ?? '';
        const replica = c.Labels[Label.gateway] ? 1 : Number(c.Labels[Label.replica] ?? 1);
        const protocol = p.Type === 'udp' ? 'udp' : 'tcp';
        owned.set(p.PublicPort, portKey({ serviceId, replica, container: p.PrivatePort, protocol }));
      }
    }
    // The engine refuses a port another container reserved between our check and our start (another workspace, or a
    // container created and not yet started): that port is avoided and the next free one taken, three times at most.
    for (let attempt = 1; ; attempt++) {
      const assigned = await allocatePorts(
        ws.store,
        ports.map((container) => ({
          serviceId: service.id,
          replica: 1,
          container,
          protocol: 'tcp' as const,
          requested: service.ports.find((p) => p.container === container && p.protocol === 'tcp')?.host,
        })),
        owned,
      );
      for (const p of assigned)
        if (p.conflict) ws.events.append('health_changed', { serviceId: service.id, message: p.conflict });
      const exposed: Record<string, object> = {};
      const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
      for (const p of assigned) {
        exposed[`${p.container}/tcp`] = {};
        bindings[`${p.container}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(p.host) }];
      }
      const name = `${service.name}-gateway`;
      const container = await this.docker.createContainer({
        name: `${ws.project}_${service.name}_gateway`,
        Image: this.image,
        // nginx itself, not the image's entrypoint script: nothing edits the configuration but Kyozo.
        Entrypoint: ['nginx', '-c', GATEWAY_CONF, '-g', 'daemon off;'],
        Cmd: [],
        User: GATEWAY_USER,
        ExposedPorts: exposed,
        Labels: {
          [Label.workspace]: ws.project,
          [Label.root]: ws.topology.root,
          [Label.gateway]: service.id,
          [Label.folder]: service.folder,
          [Label.composeProject]: ws.project,
          [Label.composeService]: name,
          [Label.composeNumber]: '1',
          [Label.composeOneoff]: 'False',
          [Label.composeVersion]: COMPOSE_VERSION,
          [Label.composeWorkingDir]: ws.topology.root,
        },
        HostConfig: {
          PortBindings: bindings,
          NetworkMode: ws.network,
          RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
          Privileged: false,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges:true'],
          Memory: 128 * 1024 * 1024,
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        },
        NetworkingConfig: { EndpointsConfig: { [ws.network]: { Aliases: [name] } } },
      });
      try {
        await writeConfig(container, GATEWAY_CONF, conf);
        await container.start();
      } catch (e) {
        const taken = /:(\d+) failed: port is already allocated/.exec((e as Error).message);
        await container.remove({ force: true }).catch(() => undefined);
        if (!taken || attempt >= 3) throw e;
        owned.set(Number(taken[1]), 'allocated by the engine to another container');
        continue;
      }
      await this.waitListening(service, container.id);
      this.applied.set(container.id, conf);
      return container.id;
    }
  }

  /** Until nginx accepts connections on the first published port; a gateway that exits says why. */
  private async waitListening(service: Service, id: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const info = await this.docker.getContainer(id).inspect();
      if (!info.State.Running) {
        const logs = await tailLogs(this.docker, id, 10);
        throw new GatewayError(
          `the gateway of ${service.name} (${this.image}) exited with code ${info.State.ExitCode}: ${logs.join(' | ')}`,
        );
      }
      const host = Number(Object.values(info.NetworkSettings.Ports ?? {})[0]?.[0]?.HostPort ?? 0);
      if (host && (await tcpProbe(host, 100, 1000))) return;
      if (Date.now() > deadline)
        throw new GatewayError(`the gateway of ${service.name} did not listen on 127.0.0.1:${host} within 15 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
