// Positions for the graph. Two passes so large workspaces never wait on a blank panel:
// `quickLayout` places nodes in wave columns in linear time (first paint), `elkLayout` refines it with elkjs's
// layered algorithm (elkjs: the Eclipse Layout Kernel compiled to JS, the reference layered/compound layout).
// ELK lays out each group's inside, then the top level with groups as fixed boxes and edges lifted to them:
// one hierarchical ELK run (INCLUDE_CHILDREN) costs tens of seconds at 500 services, this costs a second or two.
// ELK runs in a Web Worker started from a blob (CSP `worker-src blob:`), so panning stays smooth while it works.
import ELK from 'elkjs/lib/elk-api.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
// The worker's source is inlined as text by esbuild: the panel loads one script and no worker file.
import elkWorkerSource from 'elkjs/lib/elk-worker.min.js' with { type: 'text' };
import type { GraphModel } from './model';

export const NODE_W = 196;
export const NODE_H = 58;
const GROUP_PAD = { top: 30, left: 14, bottom: 14, right: 14 };
const GAP_X = 64;
const GAP_Y = 18;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Layout {
  nodes: Map<string, Box>;
  groups: Map<string, Box>;
  width: number;
  height: number;
}

/** Deterministic input order: previous vertical position first (so neighbours keep their order), then id. */
function ordered(ids: string[], previous?: Layout): string[] {
  return [...ids].sort((a, b) => {
    const pa = previous?.nodes.get(a) ?? previous?.groups.get(a);
    const pb = previous?.nodes.get(b) ?? previous?.groups.get(b);
    if (pa && pb && pa.y !== pb.y) return pa.y - pb.y;
    if (pa && !pb) return -1;
    if (pb && !pa) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

interface Item {
  id: string;
  w: number;
  h: number;
  wave: number;
  children?: Map<string, Box>;
}

/** Places items in columns by wave, stacked top to bottom. */
function columns(items: Item[], padLeft: number, padTop: number): { boxes: Map<string, Box>; w: number; h: number } {
  const waves = [...new Set(items.map((i) => i.wave))].sort((a, b) => a - b);
  const boxes = new Map<string, Box>();
  let x = padLeft;
  let h = 0;
  for (const wave of waves) {
    let y = padTop;
    let colW = 0;
    for (const it of items.filter((i) => i.wave === wave)) {
      boxes.set(it.id, { x, y, w: it.w, h: it.h });
      y += it.h + GAP_Y;
      colW = Math.max(colW, it.w);
    }
    h = Math.max(h, y - GAP_Y);
    x += colW + GAP_X;
  }
  return { boxes, w: x - GAP_X, h };
}

export function quickLayout(m: GraphModel, previous?: Layout): Layout {
  const inner = new Map<string, { boxes: Map<string, Box>; w: number; h: number }>();
  const top: Item[] = [];
  for (const g of m.groups) {
    const minWave = Math.min(...g.members.map((id) => m.wave.get(id) ?? 0));
    const items = ordered(g.members, previous).map((id) => ({
      id,
      w: NODE_W,
      h: NODE_H,
      wave: (m.wave.get(id) ?? 0) - minWave,
    }));
    const c = columns(items, GROUP_PAD.left, GROUP_PAD.top);
    inner.set(g.id, c);
    top.push({ id: g.id, w: c.w + GROUP_PAD.right, h: c.h + GROUP_PAD.bottom, wave: minWave });
  }
  for (const id of m.services.keys())
    if (!m.groupOf.has(id)) top.push({ id, w: NODE_W, h: NODE_H, wave: m.wave.get(id) ?? 0 });
  const byId = new Map(top.map((t) => [t.id, t]));
  const c = columns(
    ordered([...byId.keys()], previous).map((id) => byId.get(id)!),
    0,
    0,
  );
  return assemble(m, c.boxes, inner, c.w, c.h);
}

function assemble(
  m: GraphModel,
  topBoxes: Map<string, Box>,
  inner: Map<string, { boxes: Map<string, Box> }>,
  width: number,
  height: number,
): Layout {
  const nodes = new Map<string, Box>();
  const groups = new Map<string, Box>();
  for (const [id, b] of topBoxes) {
    const kids = inner.get(id);
    if (!kids || !m.groups.some((g) => g.id === id)) {
      nodes.set(id, b);
      continue;
    }
    groups.set(id, b);
    for (const [kid, kb] of kids.boxes) nodes.set(kid, { x: b.x + kb.x, y: b.y + kb.y, w: kb.w, h: kb.h });
  }
  return { nodes, groups, width, height };
}

let elk: InstanceType<typeof ELK> | undefined;
let workerFailure: Promise<never> | undefined;

/** One worker for the panel's lifetime; a failure to start or a crash rejects every pending layout. */
function layoutEngine(): { elk: InstanceType<typeof ELK>; failed: Promise<never> } {
  if (!elk) {
    let fail!: (e: Error) => void;
    workerFailure = new Promise<never>((_, reject) => {
      fail = reject;
    });
    workerFailure.catch(() => undefined);
    elk = new ELK({
      workerFactory: () => {
        const url = URL.createObjectURL(new Blob([elkWorkerSource as unknown as string], { type: 'text/javascript' }));
        const worker = new Worker(url);
        worker.addEventListener('error', (ev) => {
          fail(new Error(`the ELK layout worker failed: ${ev.message || 'blocked or crashed'}`));
          elk = undefined;
        });
        return worker;
      },
    });
  }
  return { elk, failed: workerFailure! };
}

/** Starts the worker and warms ELK up on a tiny graph while the panel waits for its first topology. */
export function prepareLayout(): void {
  try {
    const { elk: engine } = layoutEngine();
    void engine
      .layout({
        id: 'warm-up',
        layoutOptions: { ...BASE, 'elk.partitioning.activate': 'true' },
        children: ['a', 'b', 'c'].map((id, i) => ({
          id,
          width: NODE_W,
          height: NODE_H,
          layoutOptions: { 'elk.partitioning.partition': String(i) },
        })),
        edges: [
          { id: 'ab', sources: ['a'], targets: ['b'] },
          { id: 'bc', sources: ['b'], targets: ['c'] },
        ],
      })
      .catch(() => undefined);
  } catch {
    // No worker (CSP or platform): elkLayout reports it when a topology arrives.
  }
}

const BASE: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.spacing.nodeNode': String(GAP_Y),
  'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP_X),
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.randomSeed': '1',
};

export async function elkLayout(m: GraphModel, previous?: Layout): Promise<Layout> {
  const engine = layoutEngine();
  const run = (graph: ElkNode) => Promise.race([engine.elk.layout(graph), engine.failed]);
  const big = m.services.size > 150;
  const inner = new Map<string, { boxes: Map<string, Box>; w: number; h: number }>();
  await Promise.all(
    m.groups.map(async (g) => {
      const members = new Set(g.members);
      const minWave = Math.min(...g.members.map((id) => m.wave.get(id) ?? 0));
      const graph: ElkNode = {
        id: `group:${g.id}`,
        layoutOptions: {
          ...BASE,
          'elk.padding': `[top=${GROUP_PAD.top},left=${GROUP_PAD.left},bottom=${GROUP_PAD.bottom},right=${GROUP_PAD.right}]`,
          // Waves read left to right: a service's column is its deployment wave.
          'elk.partitioning.activate': 'true',
          'elk.layered.thoroughness': big ? '3' : '7',
          // Model order (previous positions, then id) breaks ties so small changes keep neighbours in place.
          'elk.layered.considerModelOrder.strategy': g.members.length <= 60 ? 'NODES_AND_EDGES' : 'NONE',
        },
        children: ordered(g.members, previous).map((id) => ({
          id,
          width: NODE_W,
          height: NODE_H,
          layoutOptions: { 'elk.partitioning.partition': String((m.wave.get(id) ?? 0) - minWave) },
        })),
        edges: m.edges
          .filter(
            (e) => members.has(e.from) && members.has(e.to) && (m.wave.get(e.to) ?? 0) <= (m.wave.get(e.from) ?? 0),
          )
          .map((e, i) => ({ id: `e${i}`, sources: [e.to], targets: [e.from] })),
      };
      const r = await run(graph);
      inner.set(g.id, {
        boxes: new Map((r.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0, w: NODE_W, h: NODE_H }])),
        w: r.width ?? 0,
        h: r.height ?? 0,
      });
    }),
  );
  const liftTo = (id: string) => m.groupOf.get(id) ?? id;
  const topIds = [...m.groups.map((g) => g.id), ...[...m.services.keys()].filter((id) => !m.groupOf.has(id))];
  const seen = new Set<string>();
  const edges = [];
  for (const e of m.edges) {
    const a = liftTo(e.to);
    const b = liftTo(e.from);
    if (a === b || seen.has(`${a}\n${b}`)) continue;
    seen.add(`${a}\n${b}`);
    edges.push({ id: `l${edges.length}`, sources: [`n:${a}`], targets: [`n:${b}`] });
  }
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      ...BASE,
      'elk.layered.thoroughness': big ? '3' : '7',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '80',
    },
    children: ordered(topIds, previous).map((id) => {
      const g = inner.get(id);
      return { id: `n:${id}`, width: g ? g.w : NODE_W, height: g ? g.h : NODE_H };
    }),
    edges,
  };
  const r = await run(root);
  const topBoxes = new Map(
    (r.children ?? []).map((c) => [
      c.id.slice(2),
      { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? NODE_W, h: c.height ?? NODE_H },
    ]),
  );
  return assemble(m, topBoxes, inner, r.width ?? 0, r.height ?? 0);
}
