// Linking: every service's links (service-links.ts), reused from the last run while nothing they look up changed,
// then what only the whole graph shows: the edges in order, the libraries each service uses, host ports claimed twice.
import type { Edge, Evidence, Problem, Recommendation, Service } from '../../protocol';
import type { Assembled, ServiceFacts } from './assemble';
import { sameItems } from './cache-equality';
import { topicKey } from './code-links';
import { linkScope, linksOf, type ServiceLinks } from './service-links';

export { hostsInValue } from './service-links';

export interface Linked {
  edges: Edge[];
  problems: Problem[];
  recommendations: Recommendation[];
}

/**
 * Per service, its links and what they were computed against. `world` counts changes to anything a service's links
 * may look up in the others (names, packages, data stores, libraries); it moves only when one of those changes.
 */
export interface LinkCache {
  entries: Map<string, { built: ServiceFacts | undefined; name: string; world: number; links: ServiceLinks }>;
  signatures: Map<string, { built: ServiceFacts | undefined; signature: string }>;
  libraries: string;
  world: number;
  /** The last run's per-service links and the sorted edges made from them: reused while every link is. */
  last?: { links: ServiceLinks[]; edges: Edge[] };
}

export function createLinkCache(): LinkCache {
  return { entries: new Map(), signatures: new Map(), libraries: '', world: 0 };
}

const sameEvidence = (p: Evidence, q: Evidence) => p.file === q.file && p.line === q.line && p.reason === q.reason;

function sameEdge(x: Edge, y: Edge): boolean {
  return (
    x.from === y.from &&
    x.to === y.to &&
    x.kind === y.kind &&
    x.envVar === y.envVar &&
    x.condition === y.condition &&
    sameItems(x.evidence, y.evidence, sameEvidence)
  );
}

function worldOf(a: Assembled, cache: LinkCache): number {
  let changed = cache.signatures.size !== a.services.length;
  for (const s of a.services) {
    const prev = cache.signatures.get(s.service.id);
    if (prev && prev.built === s.built && s.built !== undefined) continue;
    const signature = `${s.hostNames.join(',')}|${s.packageName ?? ''}|${s.dataEngine ?? ''}|${codeSignature(s)}`;
    if (!prev || prev.signature !== signature) changed = true;
    cache.signatures.set(s.service.id, { built: s.built, signature });
  }
  if (cache.signatures.size !== a.services.length) {
    const ids = new Set(a.services.map((s) => s.service.id));
    for (const id of cache.signatures.keys()) if (!ids.has(id)) cache.signatures.delete(id);
    changed = true;
  }
  const libraries = a.libraries.map((l) => `${l.id}|${l.packageName ?? ''}`).join(',');
  if (libraries !== cache.libraries) {
    cache.libraries = libraries;
    changed = true;
  }
  if (changed) cache.world++;
  return cache.world;
}

/** What other services' links may look up in this one's code: the gRPC services it serves, the queues it reads. */
function codeSignature(s: ServiceFacts): string {
  const parts: string[] = [];
  for (const { file, facts } of s.code) {
    for (const g of facts.grpc ?? []) if (g.role === 'server') parts.push(`${g.service}@${file}:${g.line}`);
    for (const t of facts.topics ?? []) {
      if (t.role === 'consume') parts.push(`${topicKey(s, file, t)}@${file}:${t.line}`);
    }
  }
  return parts.join(',');
}

export function link(a: Assembled, cache?: LinkCache): Linked {
  const world = cache ? worldOf(a, cache) : 0;
  const all = serviceLinks(a, cache, world);
  assignLibraries(a, all);
  const edges = sortedEdges(all, cache);
  const problems = [...all.flatMap((l) => l.problems), ...hostPortConflicts(a)];
  const recommendations = [...all.flatMap((l) => l.driverRecommendations), ...all.flatMap((l) => l.recommendations)];
  return { edges, problems, recommendations };
}

/** Each service's links: the cached ones while the service and the world around it stand, else computed anew. */
function serviceLinks(a: Assembled, cache: LinkCache | undefined, world: number): ServiceLinks[] {
  const scope = linkScope(a);
  const all: ServiceLinks[] = a.services.map((s) => {
    const hit = cache?.entries.get(s.service.id);
    if (hit && hit.built === s.built && hit.built !== undefined && hit.name === s.service.name && hit.world === world)
      return hit.links;
    const links = linksOf(scope, s);
    // Equal edges keep the previous array, so a rebuilt service whose dependencies stayed put changes no edge.
    if (hit && sameItems(hit.links.edges, links.edges, sameEdge)) links.edges = hit.links.edges;
    cache?.entries.set(s.service.id, { built: s.built, name: s.service.name, world, links });
    return links;
  });
  if (cache && cache.entries.size > a.services.length) {
    const ids = new Set(a.services.map((s) => s.service.id));
    for (const id of cache.entries.keys()) if (!ids.has(id)) cache.entries.delete(id);
  }
  return all;
}

/** Set in place on the records handed in, and only when they differ: most services keep theirs across updates. */
function assignLibraries(a: Assembled, all: ServiceLinks[]): void {
  a.services.forEach((s, i) => {
    const libs = all[i].libraries;
    const now = s.service.libraries;
    if (libs.length) {
      if (!now || !sameItems(now, libs)) s.service.libraries = [...libs];
    } else if (now) delete s.service.libraries;
  });
}

/**
 * Most updates change no service's links: the previous edge array (the same object) then stands, so what is
 * derived from the edges alone (order, patterns) can be reused by identity.
 */
function sortedEdges(all: ServiceLinks[], cache: LinkCache | undefined): Edge[] {
  const reused =
    cache?.last && sameItems(cache.last.links, all, (x, y) => x.edges === y.edges) ? cache.last.edges : undefined;
  const edges = reused ?? sortEdges(all.flatMap((l) => l.edges));
  if (cache) cache.last = { links: all, edges };
  return edges;
}

/** Ports claimed twice on the host. */
function hostPortConflicts(a: Assembled): Problem[] {
  const problems: Problem[] = [];
  const hostPorts = new Map<number, Service>();
  for (const s of a.services) {
    for (const p of s.service.ports) {
      if (p.host === undefined) continue;
      const other = hostPorts.get(p.host);
      if (other && other !== s.service) {
        problems.push({
          severity: 'error',
          code: 'port-conflict',
          file: p.evidence.file,
          line: p.evidence.line,
          serviceId: s.service.id,
          message: `${s.service.name} and ${other.name} both publish host port ${p.host}; change one of them (Kyozo allocates a free port when none is given).`,
        });
      } else hostPorts.set(p.host, s.service);
    }
  }
  return problems;
}

function sortEdges(edges: Edge[]): Edge[] {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return edges.sort((x, y) => cmp(x.from, y.from) || cmp(x.to, y.to) || cmp(x.kind, y.kind));
}
