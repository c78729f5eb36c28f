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
  // A folder can hold both a workspace and a compose file (both groups are then '.'), and a group's folder can be a
  // service's id: each box gets an id of its own, its kind in front when the folder alone would be taken.
  const folderCount = new Map<string, number>();
  for (const g of t.groups) folderCount.set(g.id, (folderCount.get(g.id) ?? 0) + 1);
  const boxId = (folder: string, kind: string): string => {
    let id = (folderCount.get(folder) ?? 0) > 1 || services.has(folder) ? `${kind}:${folder}` : folder;
    for (let n = 2; groups.has(id) || services.has(id); n++) id = `${kind}:${folder}#${n}`;
    return id;
  };
  // Topology group id → the boxes made for it, in the order members are given out.
  const boxesOf = new Map<string, GraphGroup[]>();
  // Parents first, and at one folder a workspace before a compose file: a workspace member lands in the workspace
  // box, and what only the compose file declares (image services) in the compose box.
  const rank = (kind: string) => (kind === 'workspace' ? 0 : 1);
  const declared = [...t.groups].sort((a, b) => a.id.localeCompare(b.id) || rank(a.kind) - rank(b.kind));
  for (const g of declared) {
    const members = g.members.filter((m) => services.has(m) && !groupOf.has(m));
    const label = `${g.id === '.' ? t.name || '.' : g.id} · ${g.tool}`;
    const box: GraphGroup = { id: boxId(g.id, g.kind), label, kind: g.kind, members };
    for (const m of members) groupOf.set(m, box.id);
    groups.set(box.id, box);
    boxesOf.set(g.id, [...(boxesOf.get(g.id) ?? []), box]);
  }
  for (const s of t.services) {
    if (groupOf.has(s.id) || !s.group) continue;
    let g = boxesOf.get(s.group)?.[0];
    if (!g) {
      g = { id: boxId(s.group, 'folder'), label: s.group, kind: 'folder', members: [] };
      groups.set(g.id, g);
      boxesOf.set(s.group, [g]);
    }
    g.members.push(s.id);
    groupOf.set(s.id, g.id);
  }
  // Services outside any declared group but sharing a parent folder are boxed by that folder.
  const byParent = new Map<string, string[]>();
  for (const s of t.services) {
    if (groupOf.has(s.id)) continue;
    const parent = s.folder.split('/').slice(0, -1).join('/');
    if (parent && parent !== '.') byParent.set(parent, [...(byParent.get(parent) ?? []), s.id]);
  }
  for (const [parent, ids] of byParent) {
    if (ids.length < 2 || boxesOf.has(parent)) continue;
    const id = boxId(parent, 'folder');
    groups.set(id, { id, label: `${parent}/`, kind: 'folder', members: ids });
    for (const m of ids) groupOf.set(m, id);
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
