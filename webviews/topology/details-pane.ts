// The side pane for one service: status, actions, ports and URLs, dependencies with evidence, environment keys
// (names only: values can be secrets and never reach the webview's DOM), and recent deployment events.
import type { DeploymentEvent, Service, ServiceStatus, WebviewAction } from '../../server/src/protocol';
import { EDGE_LABEL, STATE_LABEL, TYPE_LABEL } from './labels';
import type { GraphModel } from './model';
import { html } from './svg';

const ACTIONS: { action: WebviewAction; label: string; title: string }[] = [
  { action: 'deploy', label: 'Deploy', title: 'Build and start this service' },
  { action: 'stop', label: 'Stop', title: 'Stop its containers' },
  { action: 'restart', label: 'Restart', title: 'Restart its containers' },
  { action: 'logs', label: 'Logs', title: 'Show its logs' },
  { action: 'reveal', label: 'Reveal Folder', title: 'Reveal the folder in the Explorer' },
  { action: 'open', label: 'Open in Browser', title: 'Open its published URL' },
];

export interface DetailsCallbacks {
  action(action: WebviewAction, serviceId: string): void;
  select(id: string): void;
  close(): void;
}

export class DetailsPane {
  private serviceId?: string;

  constructor(
    readonly el: HTMLElement,
    private readonly cb: DetailsCallbacks,
  ) {
    el.setAttribute('role', 'region');
    el.setAttribute('aria-label', 'Service details');
    el.hidden = true;
  }

  get shown(): string | undefined {
    return this.serviceId;
  }

  hide(): void {
    this.serviceId = undefined;
    this.el.hidden = true;
    this.el.replaceChildren();
  }

  show(m: GraphModel, id: string, status: ServiceStatus | undefined, events: DeploymentEvent[]): void {
    const s = m.services.get(id);
    if (!s) return this.hide();
    this.serviceId = id;
    this.el.hidden = false;
    this.el.replaceChildren();
    const head = html('header', { className: 'details-head' }, this.el);
    html('h2', { text: s.name, attrs: { title: s.id } }, head);
    const close = html(
      'button',
      { className: 'icon-button', text: '×', attrs: { 'aria-label': 'Close details', title: 'Close (Escape)' } },
      head,
    );
    close.addEventListener('click', () => this.cb.close());
    html(
      'div',
      {
        className: 'subtle',
        text: [TYPE_LABEL[s.type] ?? s.type, s.language, ...s.frameworks].filter(Boolean).join(' · '),
      },
      this.el,
    );
    html('div', { className: 'subtle mono', text: s.folder === '.' ? './' : `${s.folder}/` }, this.el);
    this.statusBlock(s, status);

    const actions = html('div', { className: 'actions', attrs: { role: 'group', 'aria-label': 'Actions' } }, this.el);
    const url = status?.ports.find((p) => p.url)?.url;
    for (const a of ACTIONS) {
      const b = html(
        'button',
        {
          className: a.action === 'deploy' ? 'primary' : 'secondary',
          text: a.label,
          attrs: { title: a.title, 'data-action': a.action },
        },
        actions,
      );
      if (a.action === 'open' && !url) {
        b.disabled = true;
        b.title = 'No published URL: deploy the service first';
      }
      b.addEventListener('click', () => this.cb.action(a.action, id));
    }

    const ports = this.section('Ports');
    if (s.ports.length === 0) html('div', { className: 'subtle', text: 'No port detected.' }, ports);
    for (const p of s.ports) {
      const published = status?.ports.find((q) => q.container === p.container && q.protocol === p.protocol);
      const row = html('div', { className: 'row' }, ports);
      html(
        'span',
        {
          className: 'mono',
          text: `${p.container}/${p.protocol}${p.host ? ` → host ${p.host}` : ''}${published ? ` → ${published.host}` : ''}`,
        },
        row,
      );
      html('span', { className: 'subtle', text: ` ${p.source}${p.envVar ? ` · $${p.envVar}` : ''}` }, row);
      this.evidence(ports, p.evidence);
      if (published?.url) html('div', { className: 'mono link-text', text: published.url }, ports);
    }

    const deps = this.section('Dependencies');
    const rel = m.edges.filter((e) => e.from === id || e.to === id);
    if (rel.length === 0) html('div', { className: 'subtle', text: 'None found.' }, deps);
    for (const e of rel) {
      const other = e.from === id ? e.to : e.from;
      const row = html('div', { className: 'row' }, deps);
      html('span', { text: e.from === id ? 'depends on ' : 'used by ' }, row);
      const link = html('button', { className: 'link', text: m.services.get(other)?.name ?? other }, row);
      link.addEventListener('click', () => this.cb.select(other));
      html(
        'span',
        { className: 'subtle', text: ` · ${EDGE_LABEL[e.kind] ?? e.kind}${e.envVar ? ` ($${e.envVar})` : ''}` },
        row,
      );
      for (const ev of e.evidence.slice(0, 3)) this.evidence(deps, ev);
    }

    const env = this.section('Environment keys');
    if (s.env.length === 0) html('div', { className: 'subtle', text: 'None found.' }, env);
    const list = html('ul', { className: 'keys' }, env);
    for (const v of s.env) {
      const li = html(
        'li',
        {
          className: 'mono',
          text: v.name,
          attrs: { title: `${v.evidence.file}${v.evidence.line ? `:${v.evidence.line}` : ''} — ${v.evidence.reason}` },
        },
        list,
      );
      if (v.secret) html('span', { className: 'tag', text: 'secret' }, li);
    }

    const why = this.section('Why this is a service');
    html('div', { className: 'subtle', text: `Confidence ${Math.round(s.confidence * 100)}%` }, why);
    for (const ev of s.evidence.slice(0, 8)) this.evidence(why, ev);
    if (s.start) html('div', { className: 'mono', text: `start: ${s.start.command}` }, why);
    if (s.healthCheck && s.healthCheck.kind !== 'none')
      html(
        'div',
        {
          className: 'mono',
          text: `health: ${s.healthCheck.kind} ${s.healthCheck.path ?? s.healthCheck.command?.join(' ') ?? ''}`,
        },
        why,
      );

    const recent = this.section('Recent events');
    const mine = events
      .filter((e) => e.serviceId === id)
      .slice(-8)
      .reverse();
    if (mine.length === 0) html('div', { className: 'subtle', text: 'No deployment events yet.' }, recent);
    for (const e of mine) {
      const row = html('div', { className: `event event-${e.type}` }, recent);
      html('span', { className: 'subtle', text: `${new Date(e.at).toLocaleTimeString()} ` }, row);
      html('span', { text: e.type.replace(/_/g, ' ') }, row);
      if (e.durationMs !== undefined)
        html('span', { className: 'subtle', text: ` · ${(e.durationMs / 1000).toFixed(1)} s` }, row);
      if (e.message) html('div', { className: 'subtle', text: e.message }, row);
    }
  }

  private statusBlock(s: Service, st: ServiceStatus | undefined): void {
    const row = html(
      'div',
      { className: 'status-line', attrs: { 'data-state': st?.state ?? 'not-deployed' } },
      this.el,
    );
    html('span', { className: 'dot', attrs: { 'aria-hidden': 'true' } }, row);
    const state = st?.state ?? 'not-deployed';
    const health = st && st.health !== 'none' ? ` · ${st.health}` : '';
    html(
      'span',
      {
        text: `${STATE_LABEL[state]}${health} · ${st ? `${st.replicas.running}/${st.replicas.desired}` : `0/${s.replicas}`} replicas`,
      },
      row,
    );
    if (st?.message) html('div', { className: 'status-message', text: st.message }, this.el);
  }

  private section(title: string): HTMLElement {
    const sec = html('section', {}, this.el);
    html('h3', { text: title }, sec);
    return sec;
  }

  private evidence(parent: HTMLElement, ev: { file: string; line?: number; reason: string }): void {
    const row = html('div', { className: 'evidence' }, parent);
    html('span', { className: 'mono', text: `${ev.file}${ev.line ? `:${ev.line}` : ''}` }, row);
    html('span', { className: 'subtle', text: ` ${ev.reason}` }, row);
  }
}
