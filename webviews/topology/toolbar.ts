// Search, filters (type, status, pattern), zoom and export controls above the graph.
import type { PatternKind, ServiceState, ServiceType, Topology } from '../../server/src/protocol';
import { STATE_LABEL, STATES, TYPE_LABEL } from './labels';
import { html } from './svg';

export interface Filters {
  types: ServiceType[];
  states: ServiceState[];
  patterns: PatternKind[];
  search: string;
}

export interface ToolbarCallbacks {
  filtersChanged(f: Filters): void;
  searchSubmit(): void;
  zoom(factor: number): void;
  fit(): void;
  export(format: 'svg' | 'png'): void;
}

export class Toolbar {
  readonly search: HTMLInputElement;
  private readonly typeMenu: HTMLElement;
  private readonly stateMenu: HTMLElement;
  private readonly typeSummary: HTMLElement;
  private readonly stateSummary: HTMLElement;
  private readonly pattern: HTMLSelectElement;
  private readonly count: HTMLElement;
  private filters: Filters = { types: [], states: [], patterns: [], search: '' };

  constructor(
    readonly el: HTMLElement,
    private readonly cb: ToolbarCallbacks,
  ) {
    el.setAttribute('role', 'toolbar');
    el.setAttribute('aria-label', 'Topology tools');
    this.search = html(
      'input',
      {
        className: 'search',
        attrs: {
          type: 'search',
          placeholder: 'Search services',
          'aria-label': 'Search services by name, folder, type or port',
          spellcheck: 'false',
        },
      },
      el,
    );
    this.search.addEventListener('input', () => this.emit({ search: this.search.value }));
    this.search.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.cb.searchSubmit();
      }
    });
    const types = html('details', { className: 'dropdown' }, el);
    this.typeSummary = html('summary', { text: 'Type', attrs: { 'aria-label': 'Filter by type' } }, types);
    this.typeMenu = html('div', { className: 'menu', attrs: { role: 'group', 'aria-label': 'Types' } }, types);
    const states = html('details', { className: 'dropdown' }, el);
    this.stateSummary = html('summary', { text: 'Status', attrs: { 'aria-label': 'Filter by status' } }, states);
    this.stateMenu = html('div', { className: 'menu', attrs: { role: 'group', 'aria-label': 'Statuses' } }, states);
    this.pattern = html(
      'select',
      { className: 'pattern', attrs: { 'aria-label': 'Filter by architecture pattern' } },
      el,
    );
    this.pattern.addEventListener('change', () =>
      this.emit({ patterns: this.pattern.value ? [this.pattern.value as PatternKind] : [] }),
    );
    const clear = html(
      'button',
      { className: 'secondary', text: 'Clear', attrs: { title: 'Clear search and filters' } },
      el,
    );
    clear.addEventListener('click', () => this.set({ types: [], states: [], patterns: [], search: '' }, true));
    this.count = html('span', { className: 'count subtle', attrs: { 'aria-live': 'polite' } }, el);
    html('span', { className: 'spacer' }, el);
    const button = (text: string, label: string, fn: () => void) => {
      const b = html('button', { className: 'icon-button', text, attrs: { 'aria-label': label, title: label } }, el);
      b.addEventListener('click', fn);
      return b;
    };
    button('−', 'Zoom out (-)', () => cb.zoom(1 / 1.25));
    button('+', 'Zoom in (+)', () => cb.zoom(1.25));
    button('⤢', 'Fit to view (0)', () => cb.fit());
    const exp = html('button', { className: 'secondary', text: 'Export SVG', attrs: { 'data-export': 'svg' } }, el);
    exp.addEventListener('click', () => cb.export('svg'));
    const png = html('button', { className: 'secondary', text: 'Export PNG', attrs: { 'data-export': 'png' } }, el);
    png.addEventListener('click', () => cb.export('png'));
    for (const d of [types, states]) {
      d.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape') {
          d.open = false;
          d.querySelector('summary')?.focus();
        }
      });
    }
  }

  get value(): Filters {
    return this.filters;
  }

  /** Rebuilds the choices from what the topology contains. */
  populate(t: Topology): void {
    const presentTypes = [...new Set(t.services.map((s) => s.type))].sort();
    this.checkboxes(
      this.typeMenu,
      presentTypes.map((v) => [v, TYPE_LABEL[v] ?? v]),
      'types',
    );
    this.checkboxes(
      this.stateMenu,
      STATES.map((v) => [v, STATE_LABEL[v]]),
      'states',
    );
    this.pattern.replaceChildren();
    html('option', { text: 'Any pattern', attrs: { value: '' } }, this.pattern);
    for (const p of [...new Set(t.patterns.map((p) => p.kind))].sort())
      html('option', { text: p, attrs: { value: p } }, this.pattern);
    this.set(this.filters, false);
  }

  private checkboxes(menu: HTMLElement, items: [string, string][], key: 'types' | 'states'): void {
    menu.replaceChildren();
    for (const [value, label] of items) {
      const row = html('label', { className: 'check' }, menu);
      const box = html('input', { attrs: { type: 'checkbox', value, 'data-filter': key } }, row);
      html('span', { text: label }, row);
      box.addEventListener('change', () => {
        const chosen = [...menu.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
        this.emit({ [key]: chosen } as Partial<Filters>);
      });
    }
  }

  set(f: Filters, notify: boolean): void {
    this.filters = { types: [...f.types], states: [...f.states], patterns: [...f.patterns], search: f.search };
    if (this.search.value !== f.search) this.search.value = f.search;
    for (const b of this.typeMenu.querySelectorAll<HTMLInputElement>('input'))
      b.checked = f.types.includes(b.value as ServiceType);
    for (const b of this.stateMenu.querySelectorAll<HTMLInputElement>('input'))
      b.checked = f.states.includes(b.value as ServiceState);
    this.pattern.value = f.patterns[0] ?? '';
    this.typeSummary.textContent = f.types.length ? `Type (${f.types.length})` : 'Type';
    this.stateSummary.textContent = f.states.length ? `Status (${f.states.length})` : 'Status';
    if (notify) this.cb.filtersChanged(this.filters);
  }

  private emit(part: Partial<Filters>): void {
    this.set({ ...this.filters, ...part }, true);
  }

  setCount(shown: number, total: number, edges: number): void {
    this.count.textContent =
      shown === total ? `${total} services · ${edges} dependencies` : `${shown} of ${total} services`;
  }
}
