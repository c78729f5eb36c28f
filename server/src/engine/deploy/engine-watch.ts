// Follows the engine's container events of one workspace: each change asks for a (debounced) status refresh of the
// services it concerns, and a HEALTHCHECK verdict is handed over as it happens. Watching changes nothing in the engine.
import type Docker from 'dockerode';
import { Label } from './labels';

type Destroyable = { destroy(): void };

/** A burst of events is read once, 200 ms after its last event, and never later than 500 ms after its first. */
export const REFRESH_DEBOUNCE_MS = 200;
export const REFRESH_MAX_DELAY_MS = 500;

export interface EngineWatchHandlers {
  /**
   * Something changed: called after a burst of events with the ids of the services whose containers it concerned,
   * and once at the start with `undefined` (every service).
   */
  refresh(serviceIds?: string[]): void;
  /** A replica's HEALTHCHECK said healthy or unhealthy. */
  health?(serviceId: string, healthy: boolean, status: string): void;
}

export function watchEngine(docker: Docker, project: string, handlers: EngineWatchHandlers): { dispose(): void } {
  let disposed = false;
  let stream: NodeJS.ReadableStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  let burstStart = 0;
  let pending: Set<string> | undefined = undefined;
  let everything = false;
  const fire = () => {
    timer = undefined;
    burstStart = 0;
    const ids = everything ? undefined : [...(pending ?? [])];
    pending = undefined;
    everything = false;
    if (!disposed && (ids === undefined || ids.length)) handlers.refresh(ids);
  };
  const schedule = (serviceId: string | undefined) => {
    if (serviceId === undefined) everything = true;
    else (pending ??= new Set()).add(serviceId);
    const now = Date.now();
    burstStart ||= now;
    clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, Math.min(REFRESH_DEBOUNCE_MS, burstStart + REFRESH_MAX_DELAY_MS - now)));
  };
  const onLine = (line: string) => {
    let ev: { status?: string; Actor?: { Attributes?: Record<string, string> } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      schedule(undefined); // a line cut by the stream: read everything
      return;
    }
    const serviceId = ev.Actor?.Attributes?.[Label.service];
    if (ev.status?.startsWith('health_status') && serviceId) {
      handlers.health?.(serviceId, ev.status.endsWith('healthy') && !ev.status.endsWith('unhealthy'), ev.status);
    }
    // Every event counts, a HEALTHCHECK's exec events too: a gateway re-reads its replicas' health on them.
    schedule(serviceId);
  };
  docker.getEvents({ filters: { label: [`${Label.workspace}=${project}`], type: ['container'] } }).then(
    (s) => {
      stream = s;
      if (disposed) (s as unknown as Destroyable).destroy();
      let rest = '';
      s.on('data', (d: Buffer) => {
        const parts = (rest + d.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) if (line.trim()) onLine(line);
      });
    },
    () => undefined,
  );
  schedule(undefined);
  return {
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
      if (stream) (stream as unknown as Destroyable).destroy();
    },
  };
}
