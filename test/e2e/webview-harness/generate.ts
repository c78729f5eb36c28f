// Deterministic synthetic topologies for the webview tests and benchmark: services in compose/workspace
// groups, databases/caches/queues at the bottom of the dependency order, edges of every kind.
import {
  TOPOLOGY_VERSION,
  type Edge,
  type EdgeKind,
  type Group,
  type Service,
  type ServiceType,
  type Topology,
} from '../../../server/src/protocol';

const APP_TYPES: ServiceType[] = [
  'nodejs',
  'python',
  'golang',
  'rust',
  'java',
  'worker',
  'static',
  'proxy',
  'ruby',
  'php',
];
const DATA_TYPES: ServiceType[] = ['database', 'cache', 'queue'];
const KINDS: EdgeKind[] = ['compose', 'env-url', 'driver', 'code-ref', 'workspace-package', 'proxy-upstream'];

/** Park–Miller PRNG so the same size always gives the same graph. */
function rng(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export function generateTopology(count: number, seed = 42): Topology {
  const rand = rng(seed + count);
  const groupCount = Math.max(1, Math.round(count / 12));
  const groups: Group[] = [];
  for (let g = 0; g < groupCount; g++) {
    groups.push({
      id: `stack-${g}`,
      kind: g % 2 ? 'workspace' : 'compose',
      tool: g % 2 ? 'pnpm' : 'compose',
      members: [],
      evidence: [{ file: `stack-${g}/compose.yaml`, reason: 'compose file groups services' }],
    });
  }
  const services: Service[] = [];
  const dataCount = Math.max(1, Math.round(count * 0.15));
  for (let i = 0; i < count; i++) {
    const isData = i < dataCount;
    const type = isData ? DATA_TYPES[i % DATA_TYPES.length] : APP_TYPES[i % APP_TYPES.length];
    const inGroup = rand() < 0.8;
    const group = inGroup ? groups[Math.floor(rand() * groups.length)] : undefined;
    const name = `${type}-${i}`;
    const folder = group ? `${group.id}/${name}` : `services/${name}`;
    const id = isData && group ? `${group.id}/compose.yaml#${name}` : folder;
    const port = isData ? [5432, 6379, 5672][i % 3] : 3000 + i;
    services.push({
      id,
      name,
      folder,
      type,
      frameworks: type === 'nodejs' ? ['express'] : [],
      confidence: 0.9,
      evidence: [{ file: `${folder}/package.json`, line: 1, reason: `${type} manifest` }],
      ports: [
        {
          container: port,
          protocol: 'tcp',
          source: isData ? 'image-default' : 'code',
          evidence: { file: `${folder}/index.js`, line: 12, reason: `listen(${port})` },
        },
      ],
      env: [
        {
          name: 'DATABASE_URL',
          value: 'postgres://u:secret@db:5432/app',
          secret: true,
          evidence: { file: `${folder}/.env`, line: 1, reason: '.env file' },
        },
      ],
      replicas: 1 + (i % 3 === 0 ? 1 : 0),
      group: group?.id,
      indicators: [`${folder}/package.json`],
    });
    group?.members.push(id);
  }
  // Each app service depends on 1–2 earlier services, so the graph is acyclic and has depth.
  const edges: Edge[] = [];
  const seen = new Set<string>();
  for (let i = dataCount; i < count; i++) {
    const deps = 1 + (rand() < 0.4 ? 1 : 0);
    for (let d = 0; d < deps; d++) {
      // Mostly within the service's own group (as in real stacks), sometimes a shared service elsewhere.
      const own = services.slice(0, i).filter((s) => s.group && s.group === services[i].group);
      const local = own.length > 0 && rand() < 0.75;
      const j = local
        ? services.indexOf(own[Math.floor(rand() * own.length)])
        : rand() < 0.5
          ? Math.floor(rand() * dataCount)
          : Math.floor(rand() * i);
      const key = `${i}->${j}`;
      if (j === i || seen.has(key)) continue;
      seen.add(key);
      edges.push({
        from: services[i].id,
        to: services[j].id,
        kind: KINDS[(i + d) % KINDS.length],
        evidence: [{ file: `${services[i].folder}/index.js`, line: 3, reason: `connects to ${services[j].name}` }],
      });
    }
  }
  return {
    version: TOPOLOGY_VERSION,
    root: '/work/generated',
    name: `generated-${count}`,
    generatedAt: new Date(0).toISOString(),
    services,
    edges,
    libraries: [],
    groups: groups.filter((g) => g.members.length > 0),
    patterns: [
      { kind: 'microservices', services: services.slice(dataCount).map((s) => s.id), description: 'many services' },
    ],
    order: waves(
      services.map((s) => s.id),
      edges,
    ),
    problems: [],
    recommendations: [],
    stats: { files: count * 4, folders: count, durationMs: 1 },
  };
}

/** Kahn's algorithm over dependent→dependency edges: wave 0 has no dependencies. */
export function waves(ids: string[], edges: Edge[]): string[][] {
  const deps = new Map(ids.map((id) => [id, new Set<string>()]));
  for (const e of edges) deps.get(e.from)?.add(e.to);
  const out: string[][] = [];
  const placed = new Set<string>();
  while (placed.size < ids.length) {
    const wave = ids.filter((id) => !placed.has(id) && [...deps.get(id)!].every((d) => placed.has(d))).sort();
    if (wave.length === 0) {
      out.push(ids.filter((id) => !placed.has(id)).sort());
      break;
    }
    wave.forEach((id) => placed.add(id));
    out.push(wave);
  }
  return out;
}
