// A deployment as the event log records it, shared by `up` and `scale`: started (with this process's pid, so a
// reconcile in any process can tell a live deployment from an interrupted one), then completed or failed.
import { randomBytes } from 'node:crypto';
import type { DeploymentEvent } from '../../protocol';
import type { EventLog } from './event-log';
import { BuildError, ImageUnavailableError } from './image-builder';

export class ServiceFailure extends Error {
  constructor(
    readonly serviceId: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class DeploymentError extends Error {
  constructor(readonly failures: ServiceFailure[]) {
    super(failures.map((f) => `${f.serviceId}: ${f.message}`).join('\n'));
  }
}

/** Any error of one service's deployment, with the details the event log and the CLI show (build step, log tail). */
export function toFailure(serviceId: string, err: unknown): ServiceFailure {
  if (err instanceof ServiceFailure) return err;
  if (err instanceof BuildError) {
    return new ServiceFailure(serviceId, err.message, { step: err.step, logTail: err.logTail });
  }
  if (err instanceof ImageUnavailableError) {
    return new ServiceFailure(serviceId, err.message, { image: err.image, reason: err.reason });
  }
  return new ServiceFailure(serviceId, (err as Error).message ?? String(err));
}

export interface DeploymentStart {
  /** Prefix of the id (`scale`), so the log tells what started it. */
  kind?: string;
  serviceId?: string;
  services: string[];
  details?: Record<string, unknown>;
  /** What the event log shows for it (a promotion names both environments). */
  message?: string;
}

export class DeploymentRecord {
  private readonly t0 = Date.now();

  private constructor(
    private readonly events: EventLog,
    readonly id: string,
    private readonly services: string[],
    private readonly serviceId?: string,
  ) {}

  static start(events: EventLog, start: DeploymentStart): DeploymentRecord {
    const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const id = start.kind ? `${start.kind}-${suffix}` : suffix;
    const details = { deployment: id, pid: process.pid, services: start.services, ...start.details };
    events.append('deployment_started', { serviceId: start.serviceId, message: start.message, details });
    return new DeploymentRecord(events, id, start.services, start.serviceId);
  }

  elapsedMs(): number {
    return Date.now() - this.t0;
  }

  completed(): void {
    const details = { deployment: this.id, services: this.services };
    this.events.append('deployment_completed', { serviceId: this.serviceId, durationMs: this.elapsedMs(), details });
  }

  /** A service failed: the event names it, with its first message line and details (and `extra`). */
  failed(failure: ServiceFailure, extra: Record<string, unknown> = {}): void {
    this.events.append('deployment_failed', {
      serviceId: failure.serviceId,
      durationMs: this.elapsedMs(),
      message: failure.message.split('\n')[0],
      details: { deployment: this.id, ...failure.details, ...extra },
    });
  }

  /** Ended by something other than a service (interrupted, the engine gone). */
  aborted(err: Error): void {
    const details = { deployment: this.id };
    this.events.append('deployment_failed', { durationMs: this.elapsedMs(), message: err.message, details });
  }
}

/** Deployments started and neither completed nor failed, by id, with their start event. */
export function openDeployments(events: DeploymentEvent[]): Map<string, DeploymentEvent> {
  const open = new Map<string, DeploymentEvent>();
  for (const e of events) {
    const dep = e.details?.deployment as string | undefined;
    if (!dep) continue;
    if (e.type === 'deployment_started') open.set(dep, e);
    else if (e.type === 'deployment_completed' || e.type === 'deployment_failed') open.delete(dep);
  }
  return open;
}
