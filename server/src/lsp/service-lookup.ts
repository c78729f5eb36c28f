// Finding the service a file, a compose entry or a hostname refers to, over plain Topology data.
import type { Service, ServiceStatus, Topology } from '../protocol';
import { ServiceIndex } from '../engine';

/** What every feature reads: one workspace folder's topology, its live status, and where it lives. */
export interface FeatureContext {
  topology: Topology;
  statuses: ReadonlyMap<string, ServiceStatus>;
  /** `file:` URI of the topology root, without a trailing slash. */
  rootUri: string;
  /** Docker engine reachable (CodeLens offers Deploy only then, hovers say why not). */
  engineReachable?: boolean;
}

export function uriOf(ctx: FeatureContext, rel: string, line?: number): string {
  const path = rel === '.' || rel === '' ? '' : '/' + rel.split('/').map(encodeURIComponent).join('/');
  return `${ctx.rootUri}${path}${line ? `#L${line}` : ''}`;
}

export function serviceById(t: Topology, id: string): Service | undefined {
  return ServiceIndex.of(t).byId(id);
}

export function serviceForFile(t: Topology, rel: string): Service | undefined {
  return ServiceIndex.of(t).forFile(rel);
}

export function serviceByName(t: Topology, name: string): Service | undefined {
  return ServiceIndex.of(t).byName(name);
}

export function serviceForCompose(t: Topology, composeRel: string, name: string, build?: string): Service | undefined {
  return ServiceIndex.of(t).forCompose(composeRel, name, build);
}

/** Hostnames an env value names: URL hosts (`postgres://db:5432`) or a bare host (`DB_HOST=db`, `db:6379`). */
export function hostsInValue(name: string, value: string): { host: string; index: number }[] {
  const out: { host: string; index: number }[] = [];
  const url = /([a-z][a-z0-9+.-]*):\/\/(?:[^@/\s]*@)?([A-Za-z0-9_.-]+)/gi;
  let m: RegExpExecArray | null;
  while ((m = url.exec(value))) out.push({ host: m[2], index: m.index + m[0].length - m[2].length });
  if (out.length === 0) {
    const bare = /^([A-Za-z][A-Za-z0-9_-]*)(?::(\d+))?$/.exec(value.trim());
    if (bare && (bare[2] !== undefined || /(HOST|SERVER|ADDR|ADDRESS)$/i.test(name)))
      out.push({ host: bare[1], index: value.indexOf(bare[1]) });
  }
  return out;
}

/** Hosts that are never another service. */
export function isExternalHost(host: string): boolean {
  return (
    host.includes('.') || host === 'localhost' || host === 'host' || /^\d/.test(host) || host === 'host.docker.internal'
  );
}

export function dependenciesOf(t: Topology, id: string) {
  return t.edges.filter((e) => e.from === id);
}

export function dependentsOf(t: Topology, id: string) {
  return t.edges.filter((e) => e.to === id);
}
