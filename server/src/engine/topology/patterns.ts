// Architecture patterns read off the graph, each naming the services that show it.
import type { Edge, Group, Pattern, Service } from '../../protocol';

export function findPatterns(services: Service[], edges: Edge[], groups: Group[], frontends: Set<string>): Pattern[] {
  const out: Pattern[] = [];
  const from = new Map<string, Edge[]>();
  const touched = new Set<string>();
  for (const e of edges) {
    const list = from.get(e.from);
    if (list) list.push(e);
    else from.set(e.from, [e]);
    touched.add(e.from).add(e.to);
  }
  const apps = services.filter((s) => !['database', 'cache', 'queue', 'infrastructure', 'proxy'].includes(s.type));
  const proxies = services.filter((s) => s.type === 'proxy');
  for (const p of proxies) {
    const upstream = (from.get(p.id) ?? []).filter((e) => e.kind === 'proxy-upstream').map((e) => e.to);
    if (upstream.length === 0) continue;
    const gateway = upstream.length >= 2;
    out.push({
      kind: gateway ? 'api-gateway' : 'reverse-proxy',
      services: [p.id, ...upstream],
      description: gateway
        ? `${p.name} routes requests to ${upstream.length} services`
        : `${p.name} proxies to ${services.find((s) => s.id === upstream[0])?.name}`,
    });
  }
  // Frontend + backend: a browser-facing app that calls a backend, directly or through the same proxy.
  const front = apps.filter((s) => frontends.has(s.id));
  const back = apps.filter((s) => !frontends.has(s.id) && s.type !== 'worker' && s.ports.length > 0);
  const backIds = new Set(back.map((s) => s.id));
  const pairs = new Set<string>();
  for (const f of front) {
    for (const e of from.get(f.id) ?? []) if (backIds.has(e.to)) pairs.add(f.id).add(e.to);
  }
  for (const p of proxies) {
    const up = (from.get(p.id) ?? []).filter((e) => e.kind === 'proxy-upstream').map((e) => e.to);
    const f = up.filter((id) => frontends.has(id));
    const b = up.filter((id) => backIds.has(id));
    if (f.length && b.length) [...f, ...b].forEach((id) => pairs.add(id));
  }
  if (pairs.size) {
    const fs = front.filter((s) => pairs.has(s.id));
    const bs = back.filter((s) => pairs.has(s.id));
    out.push({
      kind: 'frontend-backend',
      services: [...fs, ...bs].map((s) => s.id),
      description: `${fs.map((s) => s.name).join(', ')} in front of ${bs.map((s) => s.name).join(', ')}`,
    });
  }
  const linkedBackends = back.filter((s) => touched.has(s.id));
  if (back.length >= 3 && linkedBackends.length >= 3) {
    out.push({
      kind: 'microservices',
      services: back.map((s) => s.id),
      description: `${back.length} independently deployable backend services`,
    });
  }
  for (const [kind, type] of [
    ['database', 'database'],
    ['cache', 'cache'],
  ] as const) {
    const stores = services.filter((s) => s.type === type);
    if (stores.length)
      out.push({
        kind,
        services: stores.map((s) => s.id),
        description: `${stores.map((s) => s.name).join(', ')} (${stores.map((s) => s.image ?? s.type).join(', ')})`,
      });
  }
  const workers = services.filter((s) => s.type === 'worker');
  if (workers.length)
    out.push({
      kind: 'background-workers',
      services: workers.map((s) => s.id),
      description: `${workers.map((s) => s.name).join(', ')} run in the background`,
    });
  if (apps.length === 1)
    out.push({
      kind: 'monolith',
      services: [apps[0].id],
      description: `${apps[0].name} is the one application service`,
    });
  // Several programs of one Go module are one codebase, not a monorepo of projects.
  const ws = groups.filter((g) => g.kind === 'workspace' && g.tool !== 'go commands');
  const ids = new Set(services.map((s) => s.id));
  if (ws.length)
    out.push({
      kind: 'monorepo',
      services: ws.flatMap((g) => g.members.filter((m) => ids.has(m))),
      description: ws.map((g) => `${g.tool} at ${g.id}`).join('; '),
    });
  return out;
}
