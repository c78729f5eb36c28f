// Host ports on 127.0.0.1 for published container ports: stable across restarts (persisted in the
// state folder), and a port taken by another program is replaced by a free one and reported.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import type { StateStore } from './state-store';

const RANGE_START = 41000;
const RANGE_SIZE = 8000;

export interface PortRequest {
  serviceId: string;
  replica: number;
  container: number;
  protocol: 'tcp' | 'udp';
  /** Host port the user asked for (compose `8080:80`, kyozo.yaml). */
  requested?: number;
}

export interface PortAssignment extends PortRequest {
  host: number;
  /** Set when the requested or previously allocated port was taken by something else. */
  conflict?: string;
}

export function portKey(r: Pick<PortRequest, 'serviceId' | 'replica' | 'container' | 'protocol'>): string {
  return `${r.serviceId}/${r.replica}/${r.container}/${r.protocol}`;
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Assigns host ports. `ownedByUs` are ports our own containers of this workspace publish right now:
 * those count as free for the same key (a restart keeps its port).
 */
export async function allocatePorts(
  store: StateStore,
  requests: PortRequest[],
  ownedByUs: Map<number, string>,
): Promise<PortAssignment[]> {
  const state = store.read();
  const taken = new Set<number>(Object.values(state.ports));
  const out: PortAssignment[] = [];
  const changes: Record<string, number> = {};
  for (const r of requests) {
    const key = portKey(r);
    const previous = state.ports[key];
    const wanted = r.requested ?? previous;
    const usable = async (p: number) => ownedByUs.get(p) === key || (!ownedByUs.has(p) && (await isPortFree(p)));
    if (wanted !== undefined && (await usable(wanted))) {
      out.push({ ...r, host: wanted });
      changes[key] = wanted;
      continue;
    }
    const start = RANGE_START + (parseInt(createHash('sha1').update(key).digest('hex').slice(0, 8), 16) % RANGE_SIZE);
    let host = 0;
    for (let i = 0; i < RANGE_SIZE; i++) {
      const p = RANGE_START + ((start - RANGE_START + i) % RANGE_SIZE);
      if (taken.has(p) && state.ports[key] !== p) continue;
      if (Object.values(changes).includes(p)) continue;
      if (await usable(p)) {
        host = p;
        break;
      }
    }
    if (!host)
      throw new Error(
        `no free host port in ${RANGE_START}-${RANGE_START + RANGE_SIZE - 1} for ${r.serviceId}:${r.container}; free some ports and retry`,
      );
    const conflict =
      wanted !== undefined
        ? `host port ${wanted} for ${r.serviceId}:${r.container} is in use by another program; using ${host} instead`
        : undefined;
    out.push({ ...r, host, conflict });
    changes[key] = host;
    taken.add(host);
  }
  store.update((s) => Object.assign(s.ports, changes));
  return out;
}
