// The SVG graph, written by hand: a few hundred <g> elements need no framework, and owning the DOM lets a status
// message touch only the nodes whose status changed.
import type { Edge, ServiceStatus } from '../../server/src/protocol';
import type { Box, Layout } from './layout';
import { NODE_H, NODE_W } from './layout';
import { DATA_TYPES, type GraphModel } from './model';
import { EDGE_LABEL, STATE_LABEL, TYPE_GLYPH, TYPE_LABEL } from './labels';
import { svg, truncate } from './svg';

export interface GraphCallbacks {
  select(id: string | undefined): void;
  open(id: string): void;
  hoverEdge(edge: Edge | undefined, x: number, y: number): void;
}

/** Shape outline per kind of service, in a NODE_W × NODE_H box: data stores are drawn distinctly. */
function shapePath(type: string): string | undefined {
  const w = NODE_W;
  const h = NODE_H;
  switch (type) {
    case 'database': // cylinder
      return `M0,7 A${w / 2},7 0 0,1 ${w},7 V${h - 7} A${w / 2},7 0 0,1 0,${h - 7} Z`;
    case 'cache': // cut corners
      return `M10,0 H${w - 10} L${w},10 V${h - 10} L${w - 10},${h} H10 L0,${h - 10} V10 Z`;
    case 'queue': // a pipe with an outlet
      return `M0,0 H${w - 14} L${w},${h / 2} L${w - 14},${h} H0 L12,${h / 2} Z`;
    case 'proxy':
      return `M12,0 H${w - 12} L${w},${h / 2} L${w - 12},${h} H12 L0,${h / 2} Z`;
    default:
      return undefined;
  }
}

export class GraphView {
  readonly root: SVGGElement;
  private readonly groupLayer: SVGGElement;
  private readonly edgeLayer: SVGGElement;
  private readonly nodeLayer: SVGGElement;
  readonly nodeEls = new Map<string, SVGGElement>();
  readonly edgeEls: { edge: Edge; el: SVGGElement }[] = [];
  private readonly groupEls = new Map<string, SVGGElement>();
  private model?: GraphModel;
  private layout?: Layout;
  private statuses = new Map<string, ServiceStatus>();

  constructor(
    readonly svgEl: SVGSVGElement,
    private readonly cb: GraphCallbacks,
  ) {
    const defs = svg('defs', {}, svgEl);
    const marker = svg(
      'marker',
      {
        id: 'arrow',
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
      },
      defs,
    );
    svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }, marker);
    this.root = svg('g', { class: 'viewport' }, svgEl);
    this.groupLayer = svg('g', { class: 'groups' }, this.root);
    this.edgeLayer = svg('g', { class: 'edges' }, this.root);
    this.nodeLayer = svg('g', { class: 'nodes' }, this.root);
  }

  /** Rebuilds every element for a new topology; positions come from `layout`. */
  render(model: GraphModel, layout: Layout, statuses: Map<string, ServiceStatus>): void {
    this.model = model;
    this.statuses = statuses;
    this.groupLayer.replaceChildren();
    this.edgeLayer.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.nodeEls.clear();
    this.groupEls.clear();
    this.edgeEls.length = 0;
    for (const g of model.groups) {
      const el = svg('g', { class: `group group-${g.kind}`, 'data-id': g.id }, this.groupLayer);
      svg('rect', { class: 'group-box', rx: 8 }, el);
      svg('text', { class: 'group-label', x: 12, y: 19 }, el).textContent = truncate(g.label, 60);
      this.groupEls.set(g.id, el);
    }
    for (const e of model.edges) {
      const el = svg(
        'g',
        { class: `edge kind-${e.kind}`, 'data-from': e.from, 'data-to': e.to, 'data-kind': e.kind },
        this.edgeLayer,
      );
      svg('path', { class: 'edge-hit' }, el);
      svg('path', { class: 'edge-line', 'marker-end': 'url(#arrow)' }, el);
      el.addEventListener('mouseenter', (ev) => this.cb.hoverEdge(e, ev.clientX, ev.clientY));
      el.addEventListener('mousemove', (ev) => this.cb.hoverEdge(e, ev.clientX, ev.clientY));
      el.addEventListener('mouseleave', () => this.cb.hoverEdge(undefined, 0, 0));
      this.edgeEls.push({ edge: e, el });
    }
    // Tab order follows the layout: wave by wave, top to bottom.
    const ids = [...model.services.keys()].sort((a, b) => {
      const pa = layout.nodes.get(a)!;
      const pb = layout.nodes.get(b)!;
      return pa.x - pb.x || pa.y - pb.y;
    });
    for (const id of ids) this.nodeLayer.appendChild(this.createNode(id));
    this.applyLayout(layout, false);
  }

  private createNode(id: string): SVGGElement {
    const s = this.model!.services.get(id)!;
    const el = svg('g', {
      class: `node type-${s.type}${DATA_TYPES.has(s.type) ? ' data-store' : ''}`,
      'data-id': id,
      tabindex: 0,
      role: 'button',
    });
    const path = shapePath(s.type);
    if (path) svg('path', { class: 'node-shape', d: path }, el);
    else svg('rect', { class: 'node-shape', width: NODE_W, height: NODE_H, rx: 6 }, el);
    const inset = s.type === 'proxy' || s.type === 'queue' ? 14 : 0;
    svg('rect', { class: 'status-bar', x: inset + 3, y: 12, width: 3, height: NODE_H - 24, rx: 1.5 }, el);
    svg('rect', { class: 'badge', x: inset + 12, y: 15, width: 28, height: 28, rx: 5 }, el);
    svg('text', { class: 'badge-text', x: inset + 26, y: 33, 'text-anchor': 'middle' }, el).textContent =
      TYPE_GLYPH[s.type] ?? '?';
    svg('text', { class: 'node-name', x: inset + 48, y: 25 }, el).textContent = truncate(s.name, inset ? 14 : 16);
    const port = s.ports[0];
    svg('text', { class: 'node-meta', x: inset + 48, y: 42 }, el).textContent =
      `${TYPE_LABEL[s.type] ?? s.type}${port ? ` · :${port.container}` : ''}`;
    svg('circle', { class: 'status-dot', cx: NODE_W - inset - 14, cy: 17, r: 4.5 }, el);
    svg('text', { class: 'node-replicas', x: NODE_W - inset - 10, y: 44, 'text-anchor': 'end' }, el);
    el.addEventListener('click', (ev) => {
      ev.stopPropagation();
      this.cb.select(id);
    });
    el.addEventListener('dblclick', (ev) => {
      ev.stopPropagation();
      this.cb.open(id);
    });
    this.nodeEls.set(id, el);
    this.paintStatus(id, el);
    return el;
  }

  /** Repaints one node's status; returns false when the service is not in the graph. */
  paintStatus(id: string, el = this.nodeEls.get(id)): boolean {
    const s = this.model?.services.get(id);
    if (!el || !s) return false;
    const st = this.statuses.get(id);
    const state = st?.state ?? 'not-deployed';
    el.setAttribute('data-state', state);
    el.setAttribute('data-health', st?.health ?? 'none');
    const desired = st?.replicas.desired ?? s.replicas;
    const replicas = st ? `${st.replicas.running}/${st.replicas.desired}` : s.replicas > 1 ? `×${s.replicas}` : '';
    el.querySelector('.node-replicas')!.textContent = replicas;
    const up = this.model!.upstream.get(id)!.size;
    const down = this.model!.downstream.get(id)!.size;
    const port = s.ports[0];
    el.setAttribute(
      'aria-label',
      [
        `${s.name}, ${TYPE_LABEL[s.type] ?? s.type}`,
        STATE_LABEL[state] + (st && st.health !== 'none' ? ` (${st.health})` : ''),
        port ? `port ${port.container}` : 'no port',
        `${st ? st.replicas.running : 0} of ${desired} replicas running`,
        `depends on ${up}, used by ${down}`,
      ].join(', '),
    );
    return true;
  }

  setStatuses(statuses: Map<string, ServiceStatus>): void {
    this.statuses = statuses;
  }

  applyLayout(layout: Layout, animate: boolean): void {
    this.layout = layout;
    this.root.classList.toggle('animate', animate);
    for (const [id, el] of this.groupEls) {
      const b = layout.groups.get(id);
      if (!b) continue;
      el.style.transform = `translate(${b.x}px, ${b.y}px)`;
      const r = el.querySelector('rect')!;
      r.setAttribute('width', String(b.w));
      r.setAttribute('height', String(b.h));
    }
    for (const [id, el] of this.nodeEls) {
      const b = layout.nodes.get(id);
      if (!b) continue;
      el.style.transform = `translate(${b.x}px, ${b.y}px)`;
      el.dataset.x = String(Math.round(b.x));
      el.dataset.y = String(Math.round(b.y));
    }
    const pairs = new Map<string, number>();
    for (const { edge, el } of this.edgeEls) {
      const key = `${edge.from}\n${edge.to}`;
      const n = pairs.get(key) ?? 0;
      pairs.set(key, n + 1);
      const d = edgePath(layout.nodes.get(edge.from)!, layout.nodes.get(edge.to)!, n * 6);
      for (const p of el.querySelectorAll('path')) p.setAttribute('d', d);
    }
  }

  get currentLayout(): Layout | undefined {
    return this.layout;
  }

  /** Selection: the node, its upstream and downstream are emphasised, the rest recedes. */
  highlight(selected: string | undefined, upstream: Set<string>, downstream: Set<string>): void {
    this.svgEl.classList.toggle('has-selection', !!selected);
    for (const [id, el] of this.nodeEls) {
      el.classList.toggle('selected', id === selected);
      el.classList.toggle('upstream', upstream.has(id));
      el.classList.toggle('downstream', downstream.has(id));
      if (id === selected) el.setAttribute('aria-pressed', 'true');
      else el.removeAttribute('aria-pressed');
    }
    const chain = new Set([...upstream, ...downstream, ...(selected ? [selected] : [])]);
    for (const { edge, el } of this.edgeEls) el.classList.toggle('lit', chain.has(edge.from) && chain.has(edge.to));
  }

  /** Filters hide nodes (and their edges); search dims what does not match. */
  applyFilter(visible: (id: string) => boolean, matches: Set<string> | undefined): void {
    const shown = new Set<string>();
    for (const [id, el] of this.nodeEls) {
      const v = visible(id);
      if (v) shown.add(id);
      el.classList.toggle('filtered-out', !v);
      el.classList.toggle('match', !!matches?.has(id));
      el.classList.toggle('no-match', !!matches && !matches.has(id));
      if (v) el.setAttribute('tabindex', '0');
      else el.setAttribute('tabindex', '-1');
    }
    this.svgEl.classList.toggle('searching', !!matches);
    for (const { edge, el } of this.edgeEls)
      el.classList.toggle('filtered-out', !shown.has(edge.from) || !shown.has(edge.to));
    for (const [id, el] of this.groupEls) {
      const g = this.model!.groups.find((x) => x.id === id)!;
      el.classList.toggle('filtered-out', !g.members.some((m) => shown.has(m)));
    }
  }

  describeEdge(e: Edge): string[] {
    const from = this.model?.services.get(e.from)?.name ?? e.from;
    const to = this.model?.services.get(e.to)?.name ?? e.to;
    return [
      `${from} → ${to} (${EDGE_LABEL[e.kind] ?? e.kind}${e.envVar ? `, ${e.envVar}` : ''}${e.condition ? `, ${e.condition}` : ''})`,
      ...e.evidence.slice(0, 6).map((ev) => `${ev.file}${ev.line ? `:${ev.line}` : ''} — ${ev.reason}`),
    ];
  }
}

/** Dependent (from) → dependency (to): a horizontal S-curve from one node's side to the other's. */
export function edgePath(from: Box, to: Box, offset: number): string {
  const forward = to.x + to.w <= from.x;
  const backward = from.x + from.w <= to.x;
  let x1: number, x2: number;
  if (forward) {
    x1 = from.x;
    x2 = to.x + to.w;
  } else if (backward) {
    x1 = from.x + from.w;
    x2 = to.x;
  } else {
    x1 = from.x;
    x2 = to.x;
  }
  const y1 = from.y + from.h / 2 + offset;
  const y2 = to.y + to.h / 2 + offset;
  const bend = forward || backward ? Math.max(30, Math.abs(x2 - x1) / 2) : 60;
  const c1 = forward || !backward ? x1 - bend : x1 + bend;
  const c2 = forward ? x2 + bend : backward ? x2 - bend : x2 - bend;
  return `M${x1},${y1} C${c1},${y1} ${c2},${y2} ${x2},${y2}`;
}
