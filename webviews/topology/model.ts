// Turns a Topology into what the graph draws: service nodes, compound boxes for groups and folders, and edges.
import type { Edge, Service, ServiceType, Topology } from '../../server/src/protocol';

export interface GraphGroup {
  id: string;
  label: string;
  /** compose | workspace from the topology, or 'folder' for services sharing a parent folder. */
  kind: string;
  members: string[];
}

export interface GraphModel {
  services: Map<string, Service>;
  groups: GraphGroup[];
  /** Service id → group id. */
  groupOf: Map<string, string>;
  edges: Edge[];
  /** Service id → deployment wave (0 = no dependencies). */
  wave: Map<string, number>;
  /** Dependency ids per service, and dependents per service. */
  upstream: Map<string, Set<string>>;
  downstream: Map<string, Set<string>>;
}

export const DATA_TYPES: ReadonlySet<ServiceType> = new Set(['database', 'cache', 'queue']);

export function buildModel(t: Topology): GraphModel {
  const services = new Map(t.services.map((s) => [s.id, s]));
  const groupOf = new Map<string, string>();
  const groups = new Map<string, GraphGroup>();
  for (const g of [...t.groups].sort((a, b) => a.id.localeCompare(b.id))) {
    const members = g.members.filter((m) => services.has(m) && !groupOf.has(m));
    for (const m of members) groupOf.set(m, g.id);
    groups.set(g.id, { id: g.id, label: `${g.id} · ${g.tool}`, kind: g.kind, members });
  }
  for (const s of t.services) {
    if (groupOf.has(s.id) || !s.group) continue;
    let g = groups.get(s.group);
    if (!g) groups.set(s.group, (g = { id: s.group, label: s.group, kind: 'folder', members: [] }));
    g.members.push(s.id);
    groupOf.set(s.id, s.group);
  }
  // Services outside any declared group but sharing a parent folder are boxed by that folder.
  const byParent = new Map<string, string[]>();
  for (const s of t.services) {
    if (groupOf.has(s.id)) continue;
    const parent = s.folder.split('/').slice(0, -1).join('/');
    if (parent && parent !== '.') byParent.set(parent, [...(byParent.get(parent) ?? []), s.id]);
  }
  for (const [parent, ids] of byParent) {
    if (ids.length < 2 || groups.has(parent)) continue;
    groups.set(parent, { id: parent, label: `${parent}/`, kind: 'folder', members: ids });
    for (const id of ids) groupOf.set(id, parent);
  }
  const wave = new Map<string, number>();
  t.order.forEach((w, i) => w.forEach((id) => wave.set(id, i)));
  const last = t.order.length;
  for (const s of t.services) if (!wave.has(s.id)) wave.set(s.id, last);
  const edges = t.edges.filter((e) => services.has(e.from) && services.has(e.to) && e.from !== e.to);
  const upstream = new Map<string, Set<string>>();
  const downstream = new Map<string, Set<string>>();
  for (const s of t.services) {
    upstream.set(s.id, new Set());
    downstream.set(s.id, new Set());
  }
  for (const e of edges) {
    upstream.get(e.from)!.add(e.to);
    downstream.get(e.to)!.add(e.from);
  }
  return {
    services,
    groups: [...groups.values()].filter((g) => g.members.length > 0),
    groupOf,
    edges,
    wave,
    upstream,
    downstream,
  };
}

/** Every service reachable by following `links` from `start` (not including it). */
export function reachable(start: string, links: Map<string, Set<string>>): Set<string> {
  const out = new Set<string>();
  const stack = [start];
  while (stack.length) {
    for (const next of links.get(stack.pop()!) ?? [])
      if (!out.has(next) && next !== start) {
        out.add(next);
        stack.push(next);
      }
  }
  return out;
}
