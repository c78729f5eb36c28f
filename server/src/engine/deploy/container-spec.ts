// What a replica's container is, as plain data: the engine's create options and the compose config hash that tells
// whether a running container still matches. Pure, so it is tested without an engine.
import type Docker from 'dockerode';
import type { Service, Topology } from '../../protocol';
import { configHash, Label } from './labels';
import type { PortAssignment } from './port-allocator';

/** The compose version our labels claim, so `docker compose ps` lists what Kyozo runs. */
export const COMPOSE_VERSION = '1.29.2';

export interface SpecWorkspace {
  topology: Topology;
  project: string;
  network: string;
}

export interface VolumeMount {
  Type: 'volume';
  Source: string;
  Target: string;
}

export interface ReplicaInputs {
  /** Image id (not a tag, so a retag never changes a running replica's hash). */
  image: string;
  /** The image's USER: a non-root one runs with no capabilities. */
  imageUser: string;
  replica: number;
  ports: PortAssignment[];
  env: Record<string, string>;
  mounts: VolumeMount[];
  deployment: string;
}

/** Limits for services whose topology gives none. */
export interface DefaultLimits {
  memoryMb: number;
  cpus: number;
}

export interface ContainerSpec {
  hash: string;
  options: Docker.ContainerCreateOptions;
}

/** A HEALTHCHECK's Test as the engine wants it: CMD/CMD-SHELL/NONE kept, one string a shell line, argv a CMD. */
function healthTest(command: string[]): string[] {
  if (command[0] === 'CMD' || command[0] === 'CMD-SHELL' || command[0] === 'NONE') return command;
  return command.length === 1 ? ['CMD-SHELL', command[0]!] : ['CMD', ...command];
}

/** What the probe label records, so a status read in any process probes the same way. */
function probeLabel(hc: Service['healthCheck']): string {
  if (!hc) return JSON.stringify({ kind: 'tcp' });
  return JSON.stringify(hc.kind !== 'command' ? { kind: hc.kind, path: hc.path, port: hc.port } : { kind: 'command' });
}

export function containerSpec(
  ws: SpecWorkspace,
  service: Service,
  replica: ReplicaInputs,
  limits: DefaultLimits,
): ContainerSpec {
  const { image, imageUser, ports, env, mounts, deployment } = replica;
  const index = replica.replica;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const key = `${p.container}/${p.protocol}`;
    exposed[key] = {};
    bindings[key] = [{ HostIp: '127.0.0.1', HostPort: String(p.host) }];
  }
  const hc = service.healthCheck;
  const healthcheck =
    hc?.kind === 'command' && hc.command?.length
      ? {
          Test: healthTest(hc.command),
          // Every 10 s unless written down (an exec every 2 s per container overloads a small machine at 100
          // services); failures in the first 30 s do not count.
          Interval: (hc.intervalSeconds ?? 10) * 1e9,
          Timeout: (hc.timeoutSeconds ?? 5) * 1e9,
          StartPeriod: 30e9,
          Retries: hc.retries ?? 5,
        }
      : undefined;
  const overrideStart = service.start && (service.start.source === 'kyozo.yaml' || service.start.source === 'compose');
  let cmd: string[] | undefined;
  if (overrideStart) cmd = service.start?.argv?.length ? service.start.argv : ['sh', '-c', service.start!.command];
  const nonRoot = imageUser !== '' && !/^(0|root)(:|$)/.test(imageUser);
  const config = {
    Image: image,
    Env: Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .sort(),
    Cmd: cmd,
    ExposedPorts: exposed,
    Healthcheck: healthcheck,
    HostConfig: {
      PortBindings: bindings,
      Memory: Math.round((service.resources?.memoryMb ?? limits.memoryMb) * 1024 * 1024),
      NanoCpus: Math.round((service.resources?.cpus ?? limits.cpus) * 1e9),
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
      name: `${ws.project}_${service.name}_${index}`,
      Labels: {
        [Label.workspace]: ws.project,
        [Label.root]: ws.topology.root,
        [Label.service]: service.id,
        [Label.folder]: service.folder,
        [Label.replica]: String(index),
        [Label.deployment]: deployment,
        [Label.probe]: probeLabel(hc),
        [Label.composeProject]: ws.project,
        [Label.composeService]: service.name,
        [Label.composeNumber]: String(index),
        [Label.composeOneoff]: 'False',
        [Label.composeConfigHash]: hash,
        [Label.composeVersion]: COMPOSE_VERSION,
        [Label.composeWorkingDir]: ws.topology.root,
      },
      NetworkingConfig: { EndpointsConfig: { [ws.network]: { Aliases: [service.name] } } },
    } as Docker.ContainerCreateOptions,
  };
}
