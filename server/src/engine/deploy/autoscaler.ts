// The autoscaler of kyozo.yaml `scaling: { min, max, target_cpu, cooldown }`: a pure decision over CPU readings
// (decideScale, tested without an engine) and a loop that samples the replicas' CPU from the stats API and scales
// through the orchestrator, which records each decision as a `service_scaled` event with its reason. The language
// server runs it for the services it deployed; `kyozo up --watch` runs it for command-line users.
import type Docker from 'dockerode';
import type { Scaling, Service, Topology } from '../../protocol';
import { CpuSampler } from './cpu-sampler';
import { Label } from './labels';
import { deployable } from './service-selection';
import { workspaceContainers, type Workspace } from './workspace';

/** Default time CPU must stay beyond a threshold before a decision, and between two decisions. */
export const DEFAULT_WINDOW_MS = 30_000;
export const DEFAULT_COOLDOWN_MS = 30_000;
/** Below this fraction of the target, replicas are removed: between it and the target nothing changes. */
export const SCALE_IN_FRACTION = 0.5;

export interface ScalingPolicy {
  min: number;
  max: number;
  /** Percent of each replica's CPU limit. */
  targetCpu: number;
  windowMs: number;
  cooldownMs: number;
}

/** One reading: the average CPU across the running replicas, in percent of their limit. */
export interface CpuSample {
  at: number;
  cpu: number;
}

export interface ScaleDecision {
  replicas: number;
  reason: string;
}

/** The policy of a service's `scaling`; `overrides` (tests, settings) shorten the window or the cooldown. */
export function policyOf(scaling: Scaling, overrides: { windowMs?: number; cooldownMs?: number } = {}): ScalingPolicy {
  return {
    min: scaling.min,
    max: Math.max(scaling.max, scaling.min),
    targetCpu: scaling.targetCpu,
    windowMs: overrides.windowMs ?? DEFAULT_WINDOW_MS,
    cooldownMs:
      overrides.cooldownMs ??
      (scaling.cooldownSeconds !== undefined ? scaling.cooldownSeconds * 1000 : DEFAULT_COOLDOWN_MS),
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * What to scale to now, or nothing; never within the cooldown of the last decision. Outside [min, max] the count is
 * brought back at once. Otherwise, once readings cover the whole window since the last decision: out when every reading
 * of the window is above the target (to ceil(replicas × cpu / target), at least one more), in when every one is
 * below half the target (to ceil(replicas × cpu / target), at least one fewer); in between, nothing (hysteresis).
 */
export function decideScale(input: {
  now: number;
  replicas: number;
  samples: CpuSample[];
  policy: ScalingPolicy;
  lastScaledAt?: number;
}): ScaleDecision | undefined {
  const { now, replicas, policy } = input;
  const last = input.lastScaledAt;
  if (last !== undefined && now - last < policy.cooldownMs) return undefined;
  if (replicas < policy.min) return { replicas: policy.min, reason: `${replicas} replicas is below min ${policy.min}` };
  if (replicas > policy.max) return { replicas: policy.max, reason: `${replicas} replicas is above max ${policy.max}` };
  const since = input.samples.filter((s) => (last === undefined || s.at > last) && s.at <= now);
  if (!since.length || now - since[0]!.at < policy.windowMs) return undefined;
  const window = since.filter((s) => s.at >= now - policy.windowMs);
  if (!window.length) return undefined;
  const avg = window.reduce((sum, s) => sum + s.cpu, 0) / window.length;
  const shown = Math.round(avg);
  const span = seconds(policy.windowMs);
  const proportional = Math.ceil((replicas * avg) / policy.targetCpu);
  if (window.every((s) => s.cpu > policy.targetCpu) && replicas < policy.max) {
    return {
      replicas: Math.min(policy.max, Math.max(replicas + 1, proportional)),
      reason: `cpu ${shown}% > ${policy.targetCpu}% for ${span}`,
    };
  }
  const low = policy.targetCpu * SCALE_IN_FRACTION;
  if (window.every((s) => s.cpu < low) && replicas > policy.min) {
    return {
      replicas: Math.max(policy.min, Math.min(replicas - 1, proportional)),
      reason: `cpu ${shown}% < ${Math.round(low)}% for ${span}`,
    };
  }
  return undefined;
}

/** What the loop needs from the orchestrator (DockerOrchestrator has all of it). */
export interface AutoscalerTarget {
  readonly docker: Docker;
  workspace(topology: Topology): Workspace;
  scale(topology: Topology, serviceId: string, replicas: number, options?: { reason?: string }): Promise<unknown>;
}

export interface AutoscalerOptions {
  /** Between two readings (default 5 s). */
  intervalMs?: number;
  /** Overrides every service's window and cooldown (tests; default 30 s each, cooldown from `scaling.cooldown`). */
  windowMs?: number;
  cooldownMs?: number;
  /** Each decision, after its scale finished (or failed, with the error). */
  onDecision?: (serviceId: string, decision: ScaleDecision, error?: Error) => void;
}

interface ServiceMemory {
  samples: CpuSample[];
  lastScaledAt?: number;
}

/** Samples every deployed service that has `scaling` each interval and scales it when decideScale says so. */
export class Autoscaler {
  private readonly sampler: CpuSampler;
  private readonly memory = new Map<string, ServiceMemory>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private disposed = false;

  constructor(
    private readonly target: AutoscalerTarget,
    private readonly topology: () => Topology | undefined,
    private readonly options: AutoscalerOptions = {},
  ) {
    this.sampler = new CpuSampler(target.docker, Math.min(1000, (options.intervalMs ?? 5000) / 2));
  }

  start(): { dispose(): void } {
    const interval = this.options.intervalMs ?? 5000;
    const loop = () => {
      if (this.disposed) return;
      this.running = this.tick()
        .catch(() => undefined)
        .finally(() => {
          if (!this.disposed) this.timer = setTimeout(loop, interval);
        });
    };
    this.timer = setTimeout(loop, 0);
    return { dispose: () => this.dispose() };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }

  /** Resolves once a tick in progress (and its scale) has finished. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** One round: a reading per scaled service, and the scales decided (services in parallel). */
  async tick(): Promise<void> {
    const topology = this.topology();
    if (!topology) return;
    const ws = this.target.workspace(topology);
    const scaled = topology.services.filter((s) => s.scaling && deployable(s));
    if (!scaled.length) return;
    const containers = await workspaceContainers(this.target.docker, ws);
    await Promise.all(
      scaled.map((service) =>
        this.tickService(
          topology,
          service,
          containers.filter((c) => c.Labels[Label.service] === service.id),
        ),
      ),
    );
  }

  private async tickService(topology: Topology, service: Service, replicas: Docker.ContainerInfo[]): Promise<void> {
    const running = replicas.filter((c) => c.State === 'running').map((c) => c.Id);
    if (this.disposed || !running.length) return; // not deployed, or stopped: nothing to scale
    const memory = this.memory.get(service.id) ?? { samples: [] };
    this.memory.set(service.id, memory);
    const readings = (await this.sampler.sample(running)).filter((v): v is number => v !== undefined);
    const now = Date.now();
    if (readings.length) memory.samples.push({ at: now, cpu: readings.reduce((a, b) => a + b, 0) / readings.length });
    const policy = policyOf(service.scaling!, this.options);
    memory.samples = memory.samples.filter((s) => s.at >= now - 2 * policy.windowMs - 10_000);
    const decision = decideScale({
      now,
      replicas: replicas.length,
      samples: memory.samples,
      policy,
      lastScaledAt: memory.lastScaledAt,
    });
    if (!decision || this.disposed) return;
    try {
      await this.target.scale(topology, service.id, decision.replicas, { reason: decision.reason });
      this.options.onDecision?.(service.id, decision);
    } catch (e) {
      this.options.onDecision?.(service.id, decision, e as Error);
    } finally {
      // Readings from before the change describe the old replica count: the next decision waits for a new window.
      memory.lastScaledAt = Date.now();
      memory.samples = [];
    }
  }
}
