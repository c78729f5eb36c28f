// The orchestrator's public contract: the CLI and the language server use only this.
import type { DeploymentEvent, Runtime, ServiceState, ServiceStatus, Topology } from '../../protocol';
import type { AutoscalerOptions } from './autoscaler';
import type { Builder, BuilderChoice } from './builder';

export type { Runtime } from '../../protocol';

export interface OrchestratorOptions {
  /** Docker Engine address; defaults to DOCKER_HOST, then the local socket. `unix:///path` or `tcp://host:port`. */
  dockerHost?: string;
  /** Base images for generated Dockerfiles, per runtime (settings, `--base-image node=...`). */
  baseImages?: Partial<Record<Runtime, string>>;
  /** Default limits when the topology gives none (512 MiB, 0.5 CPU). */
  defaults?: { memoryMb?: number; cpus?: number };
  /** Where credentials, port allocations and the event log live; outside the repository. */
  stateDir?: string;
  /** Compose project / workspace label; defaults to the topology's name. */
  project?: string;
  /** How long `up`/`scale`/`restart` wait for a service to become healthy (default 90 s). */
  healthTimeoutMs?: number;
  /** The engine's builder for images (`--builder`, KYOZO_BUILDER, `kyozo.build.builder`); `auto` by default. */
  builder?: BuilderChoice;
  /**
   * Containers created and started (`up`, within a wave), stopped, restarted or removed at once (default 6): never
   * one after another, never all 100 at once on a 2-core machine.
   */
  parallelism?: number;
  /**
   * The nginx image of the gateway that balances a scaled service (`kyozo.images.gateway`, `--gateway-image`,
   * KYOZO_GATEWAY_IMAGE; default nginx:1.27-alpine).
   */
  gatewayImage?: string;
}

export interface DeployProgress {
  serviceId: string;
  state: ServiceState | 'waiting' | 'healthy' | 'stopping';
  elapsedMs: number;
  message?: string;
  /** How far a use case over several services (stopAll) is, 0..100, when it knows. */
  percentage?: number;
}

export interface StopAllOptions {
  onProgress?: (p: DeployProgress) => void;
  /** Services not yet begun are left running; those being stopped finish. */
  signal?: AbortSignal;
}

export interface UpOptions {
  /** Deploy only these services (and what they depend on). */
  services?: string[];
  /** Image (id or reference) per service id, run instead of building: pulled from a registry, or promoted. */
  images?: Record<string, string>;
  /** Recorded on the deployment_started event (a promotion names both environments). */
  details?: Record<string, unknown>;
  /** The deployment_started event's message. */
  message?: string;
  onProgress?: (p: DeployProgress) => void;
  signal?: AbortSignal;
}

export interface LogOptions {
  follow?: boolean;
  tail?: number;
  signal?: AbortSignal;
}

export interface StatusOptions {
  /** Sample CPU and memory from the stats API (about a second per call; default true). */
  stats?: boolean;
  /** Only these services (ids); all by default. */
  services?: string[];
}

export interface EngineReachability {
  reachable: boolean;
  host: string;
  /** How to fix it, when unreachable. */
  message?: string;
}

export interface Orchestrator {
  ping(): Promise<EngineReachability>;
  /** The builder images are built with: the chosen one, or for `auto` what the engine has (classic when it is away). */
  builder(): Promise<Builder>;
  up(topology: Topology, options?: UpOptions): Promise<ServiceStatus[]>;
  down(topology: Topology, options?: { volumes?: boolean }): Promise<void>;
  start(topology: Topology, serviceId: string): Promise<ServiceStatus>;
  stop(topology: Topology, serviceId: string): Promise<ServiceStatus>;
  restart(topology: Topology, serviceId: string): Promise<ServiceStatus>;
  remove(topology: Topology, serviceId: string): Promise<void>;
  /** `reason` (the autoscaler's "cpu 92% > 70% for 30s") is recorded with the service_scaled event. */
  scale(topology: Topology, serviceId: string, replicas: number, options?: { reason?: string }): Promise<ServiceStatus>;
  /**
   * Runs the autoscaler (autoscaler.ts) for the deployed services of the topology that have `scaling`, until disposed:
   * the language server and `kyozo up --watch` do, beside watch().
   */
  autoscale(topology: () => Topology | undefined, options?: AutoscalerOptions): { dispose(): void };
  /** Stops every service with a running container, one after another; statuses after. */
  stopAll(topology: Topology, options?: StopAllOptions): Promise<ServiceStatus[]>;
  /**
   * Cleans up after an interrupted deployment (a container created but never started, a deployment record whose
   * process is gone): removes those containers, records the deployment as failed; returns the names removed.
   */
  repair(topology: Topology): Promise<string[]>;
  /** Rebuilt from the engine's labelled containers: nothing is kept only in memory. A read: it changes nothing. */
  status(topology: Topology, options?: StatusOptions): Promise<ServiceStatus[]>;
  logs(topology: Topology, serviceId: string, options?: LogOptions): AsyncIterable<string>;
  events(topology: Topology, serviceId?: string): Promise<DeploymentEvent[]>;
  /**
   * Follows the engine's event stream; calls back with fresh statuses on any change of this workspace: of every
   * service at first, then (`partial`) of the services the events concerned.
   */
  watch(
    topology: () => Topology,
    onStatus: (statuses: ServiceStatus[], partial?: boolean) => void,
    onEvent?: (e: DeploymentEvent) => void,
  ): { dispose(): void };
}
