// The topology webview: a self-contained island that talks to the extension only through postMessage.
import './styles.css';
import {
  TOPOLOGY_VERSION,
  type DeploymentEvent,
  type HostToWebviewMessage,
  type ServiceStatus,
  type Topology,
  type WebviewAction,
  type WebviewToHostMessage,
  type WebviewViewState,
} from '../../server/src/protocol';
import { DetailsPane } from './details-pane';
import { exportPng, exportSvg } from './export-image';
import { GraphView } from './graph-view';
import { EDGE_LABEL } from './labels';
import { elkLayout, prepareLayout, quickLayout, type Layout } from './layout';
import { buildModel, reachable, type GraphModel } from './model';
import { html, svg } from './svg';
import { Toolbar, type Filters } from './toolbar';
import { Viewport } from './viewport';

interface VsCodeApi {
  postMessage(message: WebviewToHostMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const MAX_EVENTS = 300;

const vscode = acquireVsCodeApi();
const post = (m: WebviewToHostMessage) => vscode.postMessage(m);

const app = html('div', { className: 'app' }, document.body);
const toolbarEl = html('header', { className: 'toolbar' }, app);
const body = html('div', { className: 'body' }, app);
const stage = html('main', { className: 'stage' }, body);
const svgEl = svg('svg', { class: 'graph', role: 'group', 'aria-label': 'Service topology' }, stage);
const empty = html('div', { className: 'empty', text: 'Waiting for the topology…', attrs: { role: 'status' } }, stage);
const banner = html('div', { className: 'banner', attrs: { role: 'alert' } }, stage);
banner.hidden = true;
buildLegend(stage);
const detailsEl = html('aside', { className: 'details' }, body);
const tooltip = html('div', { className: 'tooltip', attrs: { role: 'tooltip' } }, document.body);
tooltip.hidden = true;

let topology: Topology | undefined;
let model: GraphModel | undefined;
let layout: Layout | undefined;
let generation = 0;
let selected: string | undefined;
let fitted = false;
let restoredViewport = false;
const statuses = new Map<string, ServiceStatus>();
let events: DeploymentEvent[] = [];
const timings: Record<string, number> = {};
(window as unknown as { __kyozoTopology: unknown }).__kyozoTopology = { timings };

const graph = new GraphView(svgEl, {
  select: (id) => select(id, true),
  open: (id) => select(id, true),
  hoverEdge: (e, x, y) => {
    if (!e) {
      tooltip.hidden = true;
      return;
    }
    tooltip.replaceChildren();
    for (const line of graph.describeEdge(e)) html('div', { text: line }, tooltip);
    tooltip.hidden = false;
    tooltip.style.left = `${Math.min(x + 14, window.innerWidth - tooltip.offsetWidth - 8)}px`;
    tooltip.style.top = `${Math.min(y + 14, window.innerHeight - tooltip.offsetHeight - 8)}px`;
  },
});
const viewport = new Viewport(svgEl, graph.root, () => saveState());
const toolbar = new Toolbar(toolbarEl, {
  filtersChanged: () => {
    applyFilters();
    saveState();
  },
  searchSubmit: () => {
    const first = [...graph.nodeEls.keys()].find((id) => graph.nodeEls.get(id)!.classList.contains('match'));
    if (first) {
      select(first, true);
      graph.nodeEls.get(first)!.focus();
    }
  },
  zoom: (f) => viewport.zoomBy(f),
  fit: () => fit(),
  export: (format) => void doExport(format),
});
const details = new DetailsPane(detailsEl, {
  action: (action, id) => sendAction(action, id),
  select: (id) => {
    select(id, true);
    graph.nodeEls.get(id)?.focus();
  },
  close: () => select(undefined, true),
});

svgEl.addEventListener('click', () => select(undefined, true));
svgEl.addEventListener('keydown', onKey);
document.addEventListener('keydown', (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && ev.key === 'f') {
    ev.preventDefault();
    toolbar.search.focus();
  }
  if (ev.key === 'Escape' && selected && !(ev.target instanceof HTMLInputElement)) select(undefined, true);
});
window.addEventListener('message', (ev: MessageEvent) => onMessage(ev.data));

restore(vscode.getState() as WebviewViewState | undefined);
post({ type: 'ready' });
prepareLayout();

function onMessage(m: HostToWebviewMessage | undefined): void {
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'topology':
      return void setTopology(m.topology);
    case 'status':
      return setStatuses(Array.isArray(m.statuses) ? m.statuses : []);
    case 'events':
      return addEvents(Array.isArray(m.events) ? m.events : []);
    case 'restore':
      return restore(m.state);
    case 'select':
      if (typeof m.serviceId === 'string') {
        select(m.serviceId, true);
        revealSelected();
      }
      return;
  }
}

async function setTopology(t: Topology): Promise<void> {
  if (!t || !Array.isArray(t.services) || !Array.isArray(t.edges)) {
    return showBanner(
      'The topology message was malformed (no services or edges); run "Kyozo: Analyze Workspace" again.',
    );
  }
  if (t.version !== TOPOLOGY_VERSION) {
    return showBanner(
      `This view understands topology version ${TOPOLOGY_VERSION}, got ${String(t.version)}; reload the window after updating Kyozo.`,
    );
  }
  banner.hidden = true;
  const gen = ++generation;
  const started = performance.now();
  const previous = layout;
  topology = t;
  model = buildModel(t);
  toolbar.populate(t);
  empty.hidden = t.services.length > 0;
  empty.textContent =
    'No services found in this folder. Kyozo looks for Dockerfiles, compose files, package manifests and kyozo.yaml.';
  svgEl.setAttribute(
    'aria-label',
    `Service topology of ${t.name}: ${t.services.length} services, ${t.edges.length} dependencies`,
  );
  if (selected && !model.services.has(selected)) selected = undefined;
  document.body.dataset.layout = 'pending';

  if (!previous) {
    // First load: paint wave columns in linear time, then let ELK (cold, seconds at 500 services) refine them.
    layout = quickLayout(model, previous);
    paint(layout, undefined);
    timings.firstRender = performance.now() - started;
    document.body.dataset.layout = 'quick';
    await afterPaint();
    if (gen !== generation) return;
  }
  let refined: Layout;
  try {
    refined = await elkLayout(model, previous);
    document.body.dataset.engine = 'elk';
  } catch (err) {
    document.body.dataset.engine = 'columns';
    // ELK failing on an odd graph must not leave the panel empty: fall back to wave columns.
    console.error('Kyozo topology: ELK layout failed, using wave columns', err);
    refined = quickLayout(model, previous);
  }
  if (gen !== generation) return;
  if (layout && layout !== previous) {
    graph.applyLayout(refined, true);
  } else {
    paint(refined, previous);
  }
  layout = refined;
  timings.elk = performance.now() - started;
  timings.firstRender ??= timings.elk;
  if (!fitted && !restoredViewport) fit();
  fitted = true;
  document.body.dataset.layout = 'elk';
  revealSelected();
}

/** Resolves once the frame holding the current DOM has been painted (or soon, when the panel is hidden). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 100);
  });
}

/** Draws the graph; known nodes start at their old place and glide to the new one. */
function paint(next: Layout, previous: Layout | undefined): void {
  if (!model) return;
  // Fit before the elements exist: measuring the stage then costs no style pass over thousands of nodes.
  if (!fitted && !restoredViewport) fit(next);
  if (previous) {
    const from: Layout = { ...next, nodes: new Map(next.nodes), groups: new Map(next.groups) };
    for (const [id, b] of previous.nodes) if (from.nodes.has(id)) from.nodes.set(id, b);
    for (const [id, b] of previous.groups) if (from.groups.has(id)) from.groups.set(id, b);
    graph.render(model, from, statuses);
    void graph.root.getBoundingClientRect();
    requestAnimationFrame(() => graph.applyLayout(next, true));
  } else {
    graph.render(model, next, statuses);
  }
  applyFilters();
  applySelection();
}

function setStatuses(list: ServiceStatus[]): void {
  const changed: string[] = [];
  for (const s of list) {
    if (!s || typeof s.serviceId !== 'string') continue;
    const before = statuses.get(s.serviceId);
    if (before && JSON.stringify(before) === JSON.stringify(s)) continue;
    statuses.set(s.serviceId, s);
    changed.push(s.serviceId);
  }
  graph.setStatuses(statuses);
  // Only the nodes whose status changed are touched.
  for (const id of changed) graph.paintStatus(id);
  if (changed.length && toolbar.value.states.length > 0) applyFilters();
  if (selected && changed.includes(selected)) showDetails();
  document.body.dataset.statusUpdates = String(Number(document.body.dataset.statusUpdates ?? 0) + 1);
}

function addEvents(list: DeploymentEvent[]): void {
  const known = new Set(events.map((e) => e.id));
  const fresh = list.filter((e) => e && typeof e.id === 'string' && !known.has(e.id));
  if (!fresh.length) return;
  events = [...events, ...fresh].sort((a, b) => a.at.localeCompare(b.at)).slice(-MAX_EVENTS);
  if (selected && fresh.some((e) => e.serviceId === selected)) showDetails();
}

function select(id: string | undefined, persist: boolean): void {
  if (id && !model?.services.has(id)) id = undefined;
  selected = id;
  applySelection();
  // The details pane narrows the stage: keep the chosen node in sight.
  if (id) requestAnimationFrame(() => revealSelected());
  if (persist) saveState();
}

function applySelection(): void {
  if (!model) return;
  const up = selected ? reachable(selected, model.upstream) : new Set<string>();
  const down = selected ? reachable(selected, model.downstream) : new Set<string>();
  graph.highlight(selected, up, down);
  if (selected) showDetails();
  else details.hide();
}

function showDetails(): void {
  if (model && selected) details.show(model, selected, statuses.get(selected), events);
}

function revealSelected(): void {
  const b = selected ? layout?.nodes.get(selected) : undefined;
  if (b) viewport.reveal(b);
}

function applyFilters(): void {
  if (!model || !topology) return;
  const f = toolbar.value;
  const inPattern = f.patterns.length
    ? new Set(topology.patterns.filter((p) => f.patterns.includes(p.kind)).flatMap((p) => p.services))
    : undefined;
  const visible = (id: string) => {
    const s = model!.services.get(id)!;
    if (f.types.length && !f.types.includes(s.type)) return false;
    if (f.states.length && !f.states.includes(statuses.get(id)?.state ?? 'not-deployed')) return false;
    return !inPattern || inPattern.has(id);
  };
  const q = f.search.trim().toLowerCase();
  const matches = q
    ? new Set(
        [...model.services.values()]
          .filter((s) =>
            [s.name, s.id, s.folder, s.type, ...s.frameworks, ...s.ports.map((p) => String(p.container))].some((v) =>
              v.toLowerCase().includes(q),
            ),
          )
          .map((s) => s.id),
      )
    : undefined;
  graph.applyFilter(visible, matches);
  const shown = [...model.services.keys()].filter(visible).length;
  toolbar.setCount(shown, model.services.size, model.edges.length);
}

function fit(l = layout): void {
  if (l) viewport.fit(l.width, l.height);
}

function onKey(ev: KeyboardEvent): void {
  const node = (ev.target as Element).closest?.('.node') as SVGGElement | null;
  const id = node?.dataset.id;
  if ((ev.key === 'Enter' || ev.key === ' ') && id) {
    ev.preventDefault();
    select(id, true);
    return;
  }
  if (ev.key === '+' || ev.key === '=') return viewport.zoomBy(1.25);
  if (ev.key === '-') return viewport.zoomBy(0.8);
  if (ev.key === '0') return fit();
  const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[ev.key];
  if (!dir || !layout) return;
  ev.preventDefault();
  const from = layout.nodes.get(id ?? selected ?? '');
  if (!from) {
    firstVisibleNode()?.focus();
    return;
  }
  // Nearest visible node in the arrow's direction, preferring ones in line with the current node.
  let best: [number, string] | undefined;
  for (const [other, b] of layout.nodes) {
    if (other === id || graph.nodeEls.get(other)?.classList.contains('filtered-out')) continue;
    const dx = b.x - from.x;
    const dy = b.y - from.y;
    const along = dx * dir[0] + dy * dir[1];
    if (along <= 0) continue;
    const across = Math.abs(dx * dir[1]) + Math.abs(dy * dir[0]);
    const score = along + across * 3;
    if (!best || score < best[0]) best = [score, other];
  }
  if (best) {
    graph.nodeEls.get(best[1])!.focus();
    viewport.reveal(layout.nodes.get(best[1])!);
  }
}

function firstVisibleNode(): SVGGElement | undefined {
  return [...graph.nodeEls.values()].find((el) => !el.classList.contains('filtered-out'));
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function currentState(): WebviewViewState {
  const f: Filters = toolbar.value;
  return {
    viewport: { ...viewport.state },
    selected,
    filters: { types: f.types, states: f.states, patterns: f.patterns, search: f.search },
  };
}
function saveState(): void {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const state = currentState();
    vscode.setState(state);
    post({ type: 'state', state });
  }, 150);
}

function restore(state: WebviewViewState | undefined): void {
  if (!state || typeof state !== 'object') return;
  const f = state.filters ?? {};
  toolbar.set(
    { types: f.types ?? [], states: f.states ?? [], patterns: f.patterns ?? [], search: f.search ?? '' },
    false,
  );
  const v = state.viewport;
  if (v && [v.x, v.y, v.zoom].every((n) => typeof n === 'number' && Number.isFinite(n))) {
    viewport.set(v);
    restoredViewport = true;
  }
  selected = typeof state.selected === 'string' ? state.selected : undefined;
  applyFilters();
  applySelection();
  vscode.setState(currentState());
}

function sendAction(action: WebviewAction, serviceId: string): void {
  post({
    type: 'action',
    action,
    serviceId,
    requestId: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  });
}

async function doExport(format: 'svg' | 'png'): Promise<void> {
  if (!layout) return showBanner('Nothing to export yet: the topology has not arrived.');
  try {
    const text = exportSvg(svgEl, layout);
    post({ type: 'export', format, data: format === 'svg' ? text : await exportPng(text) });
  } catch (err) {
    showBanner(
      `Export as ${format.toUpperCase()} failed: ${err instanceof Error ? err.message : String(err)}. Try the other format.`,
    );
  }
}

function showBanner(text: string): void {
  banner.textContent = text;
  banner.hidden = false;
}

function buildLegend(parent: HTMLElement): HTMLElement {
  const box = html('details', { className: 'legend' }, parent);
  html('summary', { text: 'Legend' }, box);
  for (const [kind, label] of Object.entries(EDGE_LABEL)) {
    const row = html('div', { className: 'legend-row' }, box);
    const s = svg('svg', { width: 36, height: 10, 'aria-hidden': 'true', class: `edge kind-${kind}` }, row);
    svg('path', { d: 'M2,5 H34', class: 'edge-line' }, s);
    html('span', { text: label }, row);
  }
  html(
    'div',
    {
      className: 'legend-note subtle',
      text: 'Arrows point from a service to what it depends on; columns are deployment waves.',
    },
    box,
  );
  return box;
}
