// Hover: what Kyozo knows about the service behind a manifest, a compose entry or an env value, with evidence.
import type { Hover, Position } from 'vscode-languageserver-protocol';
import type { Evidence, Service } from '../protocol';
import { parseCompose } from './compose-document';
import { documentKind, isIndicatorKind } from './document-kind';
import {
  dependenciesOf,
  dependentsOf,
  hostsInValue,
  serviceByName,
  serviceForCompose,
  serviceForFile,
  uriOf,
  type FeatureContext,
} from './service-lookup';
import { contains, lineIndexOf } from './text-ranges';

export function computeHover(ctx: FeatureContext, rel: string, text: string, position: Position): Hover | undefined {
  const kind = documentKind(rel);
  // In a compose file only its entries (service names, depends_on, env values) have a hover.
  if (kind === 'compose') return composeHover(ctx, rel, text, position);
  if (kind === 'dotenv') return envFileHover(ctx, text, position);
  if (!isIndicatorKind(kind)) return undefined;
  const service = serviceForFile(ctx.topology, rel);
  if (!service) return undefined;
  return { contents: { kind: 'markdown', value: describeService(ctx, service) } };
}

function composeHover(ctx: FeatureContext, rel: string, text: string, position: Position): Hover | undefined {
  const doc = parseCompose(text);
  const lines = lineIndexOf(text);
  for (const svc of doc.services) {
    const keyRange = lines.range(svc.key.start, svc.key.end);
    if (contains(keyRange, position)) {
      const s = serviceForCompose(ctx.topology, rel, svc.name, svc.build);
      return s ? { contents: { kind: 'markdown', value: describeService(ctx, s) }, range: keyRange } : undefined;
    }
    for (const d of svc.dependsOn) {
      const r = lines.range(d.start, d.end);
      if (!contains(r, position)) continue;
      const target = doc.services.find((x) => x.name === d.name);
      const s = target ? serviceForCompose(ctx.topology, rel, target.name, target.build) : undefined;
      const value = s ? describeService(ctx, s) : `**${d.name}** is not a service of this compose file.`;
      return { contents: { kind: 'markdown', value }, range: r };
    }
    for (const e of svc.environment) {
      const r = lines.range(e.valueSpan.start, e.valueSpan.end);
      if (!contains(r, position)) continue;
      const hover = envValueHover(ctx, e.name, e.value);
      if (hover) return { ...hover, range: r };
    }
  }
  return undefined;
}

function envFileHover(ctx: FeatureContext, text: string, position: Position): Hover | undefined {
  const lines = lineIndexOf(text);
  const line = lines.lineText(position.line);
  const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*["']?([^"'#\s]*)/.exec(line);
  if (!m) return undefined;
  return envValueHover(ctx, m[1], m[2]);
}

function envValueHover(ctx: FeatureContext, name: string, value: string): Hover | undefined {
  for (const { host } of hostsInValue(name, value)) {
    const s = serviceByName(ctx.topology, host);
    if (s)
      return {
        contents: {
          kind: 'markdown',
          value: `\`${name}\` points to service **${s.name}**\n\n---\n\n${describeService(ctx, s)}`,
        },
      };
  }
  return undefined;
}

const STATE_ICON: Record<string, string> = {
  running: '🟢',
  unhealthy: '🟠',
  error: '🔴',
  stopped: '⚪',
  building: '🔵',
  starting: '🔵',
  'not-deployed': '⚫',
};

/** The service card shown by every hover. */
export function describeService(ctx: FeatureContext, s: Service): string {
  const t = ctx.topology;
  const out: string[] = [];
  const fw = s.frameworks.length ? ` (${s.frameworks.join(', ')})` : '';
  out.push(
    `**${s.name}** — ${s.type}${fw} · Kyozo service \`${s.id}\` · confidence ${Math.round(s.confidence * 100)}%`,
  );
  const status = ctx.statuses.get(s.id);
  if (status) {
    const url = status.ports.find((p) => p.url)?.url;
    const reps = status.replicas.desired > 1 ? ` (${status.replicas.running}/${status.replicas.desired} replicas)` : '';
    out.push(
      `Status: ${STATE_ICON[status.state] ?? ''} ${status.state}${status.health !== 'none' ? `, ${status.health}` : ''}${reps}${url ? ` — [${url}](${url})` : ''}${status.message ? ` — ${status.message}` : ''}`,
    );
  } else {
    out.push(`Status: not deployed${ctx.engineReachable === false ? ' (Docker engine not reachable)' : ''}`);
  }
  if (s.image) out.push(`Image: \`${s.image}\``);
  const main = s.ports[0];
  if (main) {
    const others = [...new Set(s.ports.map((p) => p.container))].filter((p) => p !== main.container);
    const more = others.length ? ` · also ${others.join(', ')}` : '';
    out.push(
      `Port: ${main.container}${main.host ? ` → host ${main.host}` : ''}/${main.protocol}${main.envVar ? ` (env \`${main.envVar}\`)` : ''} — from ${main.source}: ${evidence(ctx, main.evidence)}${more}`,
    );
  }
  if (s.start) out.push(`Start: \`${s.start.command}\` — from ${s.start.source}: ${evidence(ctx, s.start.evidence)}`);
  if (s.healthCheck && s.healthCheck.kind !== 'none') {
    const hc = s.healthCheck;
    const what: Record<string, string> = {
      http: `HTTP ${hc.path ?? '/'}`,
      command: `\`${(hc.command ?? []).join(' ')}\``,
      grpc: 'gRPC health service',
      tcp: 'TCP',
    };
    out.push(`Health check: ${what[hc.kind] ?? 'TCP'}`);
  }
  const deps = dependenciesOf(t, s.id);
  if (deps.length) {
    const byTarget = new Map<string, string[]>();
    for (const e of deps)
      byTarget.set(e.to, [...(byTarget.get(e.to) ?? []), `${e.kind}${e.envVar ? ` \`${e.envVar}\`` : ''}`]);
    out.push(`Depends on: ${[...byTarget].map(([to, how]) => `${link(ctx, to)} (${how.join(', ')})`).join(', ')}`);
  }
  const users = [...new Set(dependentsOf(t, s.id).map((e) => e.from))];
  if (users.length) out.push(`Used by: ${users.map((id) => link(ctx, id)).join(', ')}`);
  const wave = t.order.findIndex((w) => w.includes(s.id));
  if (wave >= 0) out.push(`Deployment wave: ${wave + 1} of ${t.order.length}`);
  if (s.evidence.length)
    out.push(
      `Why: ${s.evidence
        .slice(0, 3)
        .map((e) => evidence(ctx, e))
        .join('; ')}`,
    );
  return out.join('\n\n');
}

function link(ctx: FeatureContext, id: string): string {
  const s = ctx.topology.services.find((x) => x.id === id);
  if (!s) return `\`${id}\``;
  if (s.composeOnly) return `[${s.name}](${uriOf(ctx, s.composeOnly.file, s.evidence[0]?.line)})`;
  return `[${s.name}](${uriOf(ctx, s.folder)})`;
}

function evidence(ctx: FeatureContext, e: Evidence): string {
  const where = `[${e.file}${e.line ? `:${e.line}` : ''}](${uriOf(ctx, e.file, e.line)})`;
  return `${e.reason} (${where})`;
}
