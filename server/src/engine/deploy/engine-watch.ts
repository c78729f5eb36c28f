// Follows the engine's container events of one workspace: each change asks for a (debounced) status refresh, and
// a HEALTHCHECK verdict is handed over as it happens. Watching changes nothing in the engine.
import type Docker from 'dockerode';
import { Label } from './labels';

type Destroyable = { destroy(): void };

export interface EngineWatchHandlers {
  /** Something changed: called once 200 ms after the last of a burst of events, and once at the start. */
  refresh(): void;
  /** A replica's HEALTHCHECK said healthy or unhealthy. */
  health?(serviceId: string, healthy: boolean, status: string): void;
}

export function watchEngine(docker: Docker, project: string, handlers: EngineWatchHandlers): { dispose(): void } {
  let disposed = false;
  let stream: NodeJS.ReadableStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!disposed) handlers.refresh();
    }, 200);
  };
  const onLine = (line: string) => {
    let ev: { status?: string; Actor?: { Attributes?: Record<string, string> } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return; // a line cut by the stream; the refresh below still happens
    }
    const serviceId = ev.Actor?.Attributes?.[Label.service];
    if (ev.status?.startsWith('health_status') && serviceId) {
      handlers.health?.(serviceId, ev.status.endsWith('healthy') && !ev.status.endsWith('unhealthy'), ev.status);
    }
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
        refresh();
      });
    },
    () => undefined,
  );
  refresh();
  return {
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
      if (stream) (stream as unknown as Destroyable).destroy();
    },
  };
}
