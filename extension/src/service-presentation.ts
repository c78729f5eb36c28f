// How a service and its state look everywhere in the client: badge letters, colours, icons, tooltips.
import * as vscode from 'vscode';
import type { Service, ServiceState, ServiceStatus, ServiceType } from '../../server/src/protocol';

const BADGES: Record<ServiceType, string> = {
  containerized: 'DK',
  compose_stack: 'CS',
  nodejs: 'JS',
  python: 'PY',
  golang: 'GO',
  rust: 'RS',
  java: 'JV',
  php: 'PH',
  ruby: 'RB',
  dotnet: 'NT',
  elixir: 'EX',
  gleam: 'GL',
  deno: 'DN',
  cpp: 'C+',
  job: 'JB',
  static: 'ST',
  proxy: 'PX',
  infrastructure: 'TF',
  worker: 'WK',
  database: 'DB',
  cache: 'CA',
  queue: 'MQ',
};

export function badgeOf(type: ServiceType): string {
  return BADGES[type] ?? 'SV';
}

export function stateOf(status: ServiceStatus | undefined): ServiceState {
  return status?.state ?? 'not-deployed';
}

/** Theme colours per state; undefined keeps the default foreground (not deployed). */
export function colorOf(state: ServiceState): vscode.ThemeColor | undefined {
  switch (state) {
    case 'running':
      return new vscode.ThemeColor('charts.green');
    case 'unhealthy':
      return new vscode.ThemeColor('charts.yellow');
    case 'error':
      return new vscode.ThemeColor('charts.red');
    case 'stopped':
      return new vscode.ThemeColor('disabledForeground');
    case 'building':
    case 'starting':
      return new vscode.ThemeColor('charts.blue');
    default:
      return undefined;
  }
}

export function iconOf(state: ServiceState): vscode.ThemeIcon {
  const id = {
    running: 'pass-filled',
    unhealthy: 'warning',
    error: 'error',
    stopped: 'circle-slash',
    building: 'sync~spin',
    starting: 'sync~spin',
    'not-deployed': 'circle-large-outline',
  }[state];
  return new vscode.ThemeIcon(id, colorOf(state));
}

export function urlOf(status: ServiceStatus | undefined): string | undefined {
  return status?.ports.find((p) => p.url)?.url;
}

export function summary(service: Service, status: ServiceStatus | undefined): string {
  const state = stateOf(status);
  const port = urlOf(status)?.replace(/^https?:\/\//, '') ?? (service.ports[0] ? `:${service.ports[0].container}` : '');
  return [
    service.type + (service.frameworks[0] ? `/${service.frameworks[0]}` : ''),
    port,
    state === 'not-deployed' ? '' : state,
  ]
    .filter(Boolean)
    .join(' · ');
}

export function tooltipOf(service: Service, status: ServiceStatus | undefined): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(
    `**${service.name}** — ${service.type}${service.frameworks.length ? ` (${service.frameworks.join(', ')})` : ''}\n\n`,
  );
  md.appendMarkdown(`State: ${stateOf(status)}${status?.message ? ` — ${status.message}` : ''}\n\n`);
  const url = urlOf(status);
  if (url) md.appendMarkdown(`URL: ${url}\n\n`);
  if (service.ports[0])
    md.appendMarkdown(
      `Port ${service.ports[0].container} — ${service.ports[0].evidence.reason} (${service.ports[0].evidence.file}${service.ports[0].evidence.line ? `:${service.ports[0].evidence.line}` : ''})\n\n`,
    );
  if (service.start) md.appendMarkdown(`Start: \`${service.start.command}\`\n\n`);
  for (const e of service.evidence.slice(0, 4))
    md.appendMarkdown(`- ${e.reason} (${e.file}${e.line ? `:${e.line}` : ''})\n`);
  return md;
}
