// Finding the service a file, a compose entry or a hostname refers to, over plain Topology data.
import { posix } from 'node:path';
import type { Service, ServiceStatus, Topology } from '../protocol';

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

interface TopologyIndex { byIndicator: Map<string, Service>; byFolder: Map<string, Service>; byDockerfile: Map<string, Service>; byName: Map<string, Service>; byId: Map<string, Service> }
const indexes = new WeakMap<Topology, TopologyIndex>();

/** Lookups stay O(1) on large topologies: one index per topology object, built on first use. */
function indexOf(t: Topology): TopologyIndex {
  let ix = indexes.get(t);
  if (ix) return ix;
  ix = { byIndicator: new Map(), byFolder: new Map(), byDockerfile: new Map(), byName: new Map(), byId: new Map() };
  for (const s of t.services) {
    ix.byId.set(s.id, s);
    if (!ix.byName.has(s.name)) ix.byName.set(s.name, s);
    if (s.id.includes('#')) continue;
    for (const i of s.indicators) if (!ix.byIndicator.has(i)) ix.byIndicator.set(i, s);
    if (!ix.byFolder.has(s.folder)) ix.byFolder.set(s.folder, s);
    if (s.build?.dockerfile && !ix.byDockerfile.has(s.build.dockerfile)) ix.byDockerfile.set(s.build.dockerfile, s);
  }
  indexes.set(t, ix);
  return ix;
}

export function serviceById(t: Topology, id: string): Service | undefined {
  return indexOf(t).byId.get(id);
}

export function serviceForFile(t: Topology, rel: string): Service | undefined {
  const ix = indexOf(t);
  return ix.byIndicator.get(rel) ?? ix.byFolder.get(posix.dirname(rel)) ?? ix.byDockerfile.get(rel);
}

export function serviceByName(t: Topology, name: string): Service | undefined {
  const ix = indexOf(t);
  return ix.byName.get(name.toLowerCase()) ?? ix.byId.get(name);
}

/** A compose service in `composeRel`, built from `build` (a context folder relative to the compose file) or image-only. */
export function serviceForCompose(t: Topology, composeRel: string, name: string, build?: string): Service | undefined {
  const ix = indexOf(t);
  const byId = ix.byId.get(`${composeRel}#${name}`);
  if (byId) return byId;
  if (build !== undefined) {
    const ctx = posix.normalize(posix.join(posix.dirname(composeRel), build)).replace(/\/$/, '') || '.';
    const byFolder = ix.byId.get(ctx) ?? ix.byFolder.get(ctx);
    if (byFolder) return byFolder;
  }
  return serviceByName(t, name);
}

/** Hostnames an env value names: URL hosts (`postgres://db:5432`) or a bare host (`DB_HOST=db`, `db:6379`). */
export function hostsInValue(name: string, value: string): { host: string; index: number }[] {
  const out: { host: string; index: number }[] = [];
  const url = /([a-z][a-z0-9+.-]*):\/\/(?:[^@/\s]*@)?([A-Za-z0-9_.-]+)/gi;
  let m: RegExpExecArray | null;
  while ((m = url.exec(value))) out.push({ host: m[2], index: m.index + m[0].length - m[2].length });
  if (out.length === 0) {
    const bare = /^([A-Za-z][A-Za-z0-9_-]*)(?::(\d+))?$/.exec(value.trim());
    if (bare && (bare[2] !== undefined || /(HOST|SERVER|ADDR|ADDRESS)$/i.test(name))) out.push({ host: bare[1], index: value.indexOf(bare[1]) });
  }
  return out;
}

/** Hosts that are never another service. */
export function isExternalHost(host: string): boolean {
  return host.includes('.') || host === 'localhost' || host === 'host' || /^\d/.test(host) || host === 'host.docker.internal';
}

export function dependenciesOf(t: Topology, id: string) {
  return t.edges.filter((e) => e.from === id);
}

export function dependentsOf(t: Topology, id: string) {
  return t.edges.filter((e) => e.to === id);
}
