// Diagnostics with exact ranges: the open text is read directly (compose, Dockerfile, .env, JSON manifests);
// anything else the engine reported (topology problems and recommendations) is placed on its line.
import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver-protocol';
import { closest, stronglyConnected } from '../engine';
import type { Problem, Recommendation, Topology } from '../protocol';
import { parseCompose, type ComposeDocument, type ComposeService } from './compose-document';
import { documentKind } from './document-kind';
import { bytesOverCap, MAX_DOCUMENT_BYTES, overCapText } from './document-size';
import { readDockerfile } from './dockerfile-document';
import {
  hostsInValue,
  isExternalHost,
  serviceByName,
  serviceForCompose,
  serviceForFile,
  type FeatureContext,
} from './service-lookup';
import { lineIndexOf, type LineIndex } from './text-ranges';

export const SOURCE = 'kyozo';

/** Machine-readable payload the code actions read back. */
export type DiagnosticData =
  | { code: 'unknown-depends-on'; service: string; name: string; suggestion?: string }
  | { code: 'missing-expose'; serviceId: string; port: number }
  | { code: 'no-healthcheck'; serviceId: string }
  | { code: 'env-url-unknown'; host: string }
  | { code: string };

/** Problem codes the text readers compute themselves for the file kinds they understand. */
const LOCAL_CODES: Record<string, string[]> = {
  compose: ['yaml-parse', 'unknown-depends-on', 'dependency-cycle', 'port-conflict'],
  dockerfile: ['missing-expose'],
  'package-json': ['json-parse'],
};

export function computeDiagnostics(ctx: FeatureContext, rel: string, text: string): Diagnostic[] {
  const tooLarge = bytesOverCap(text);
  if (tooLarge !== undefined) return [tooLargeDiagnostic(rel, tooLarge)];
  const kind = documentKind(rel);
  const lines = lineIndexOf(text);
  const out: Diagnostic[] = [];
  if (kind === 'compose') out.push(...composeDiagnostics(ctx, rel, text, lines));
  else if (kind === 'dockerfile') out.push(...dockerfileDiagnostics(ctx, rel, text, lines));
  else if (kind === 'dotenv') out.push(...dotenvDiagnostics(ctx, lines));
  else if (kind === 'package-json') out.push(...jsonDiagnostics(text, lines));
  const local = LOCAL_CODES[kind] ?? [];
  const place = (serviceId: string | undefined) => serviceRange(ctx, rel, text, lines, serviceId);
  for (const p of ctx.topology.problems) {
    if (p.file !== rel || local.includes(p.code)) continue;
    out.push(fromProblem(p, lines, p.line ? undefined : place(p.serviceId)));
  }
  for (const r of ctx.topology.recommendations) {
    if (r.file !== rel || local.includes(r.code)) continue;
    out.push(fromRecommendation(r, lines, r.line ? undefined : place(r.serviceId)));
  }
  return out;
}

/**
 * Where a finding about a service goes when the engine gave no line: in a compose file on the service's own key.
 * Undefined leaves it on the first line, which in a manifest is where the service's CodeLens sits (the evidence
 * lines of a manifest are facts such as a dependency, which a finding about the whole service does not belong on).
 */
function serviceRange(
  ctx: FeatureContext,
  rel: string,
  text: string,
  lines: LineIndex,
  serviceId?: string,
): Range | undefined {
  if (!serviceId) return undefined;
  if (documentKind(rel) === 'compose') {
    const ownKey = (c: ComposeService) => serviceForCompose(ctx.topology, rel, c.name, c.build)?.id === serviceId;
    const entry = parseCompose(text).services.find(ownKey);
    if (entry) return lines.range(entry.key.start, entry.key.end);
  }
  return undefined;
}

/** The one diagnostic of a file over the cap, in place of everything Kyozo would otherwise say about it. */
function tooLargeDiagnostic(rel: string, bytes: number): Diagnostic {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  const message =
    `${name} is too large to analyse (${overCapText(bytes)}): Kyozo reads files of up to ` +
    `${Math.round(MAX_DOCUMENT_BYTES / 1024)} KiB, as the workspace analysis does, so it gives this file no hovers, ` +
    'CodeLens or other diagnostics. Split it into smaller files to get them back.';
  const start = { line: 0, character: 0 };
  return diag({ start, end: start }, message, 'file-too-large', DiagnosticSeverity.Information);
}

/** Files the engine has something to say about, so diagnostics are published for them even when closed. */
export function filesWithFindings(t: Topology): Set<string> {
  const files = new Set<string>();
  for (const p of t.problems) if (p.file) files.add(p.file);
  for (const r of t.recommendations) if (r.file) files.add(r.file);
  for (const s of t.services) {
    if (s.build?.dockerfile) files.add(s.build.dockerfile);
    for (const i of s.indicators) if (documentKind(i) === 'compose') files.add(i);
  }
  return files;
}

function composeDiagnostics(ctx: FeatureContext, rel: string, text: string, lines: LineIndex): Diagnostic[] {
  const doc = parseCompose(text);
  const out: Diagnostic[] = [];
  for (const e of doc.errors)
    out.push(
      diag(
        lines.range(e.span.start, e.span.end),
        `Malformed compose file: ${e.message}`,
        'yaml-parse',
        DiagnosticSeverity.Error,
      ),
    );
  const names = doc.services.map((s) => s.name);
  const known = new Set(names);
  const byName = new Map<string, ComposeService>();
  for (const svc of doc.services) if (!byName.has(svc.name)) byName.set(svc.name, svc);
  const suggest = suggester(names);
  for (const svc of doc.services) {
    for (const d of svc.dependsOn) {
      if (known.has(d.name)) continue;
      const suggestion = suggest(d.name, svc.name);
      const hint = suggestion ? `. Did you mean "${suggestion}"?` : ` (services: ${listed(names)})`;
      out.push(
        diag(
          lines.range(d.start, d.end),
          `Service "${svc.name}" depends on "${d.name}", which is not a service in this file${hint}`,
          'unknown-depends-on',
          DiagnosticSeverity.Error,
          { code: 'unknown-depends-on', service: svc.name, name: d.name, suggestion },
        ),
      );
    }
  }
  for (const cycle of cycles(doc)) {
    const path = [...cycle, cycle[0]].join(' → ');
    for (let i = 0; i < cycle.length; i++) {
      const from = byName.get(cycle[i])!;
      const entry = from.dependsOn.find((d) => d.name === cycle[(i + 1) % cycle.length]);
      if (entry)
        out.push(
          diag(
            lines.range(entry.start, entry.end),
            `Dependency cycle: ${path}. Nothing in a cycle can start first; remove one of these depends_on entries.`,
            'dependency-cycle',
            DiagnosticSeverity.Error,
          ),
        );
    }
  }
  // Host ports: claimed twice in this file, or by another service of the workspace.
  const claims = new Map<number, string[]>();
  const claim = (port: number, owner: string) => {
    const owners = claims.get(port);
    if (owners) owners.push(owner);
    else claims.set(port, [owner]);
  };
  for (const svc of doc.services) for (const p of svc.ports) if (p.host) claim(p.host, svc.name);
  for (const s of ctx.topology.services) {
    for (const p of s.ports) {
      if (!p.host || (p.source === 'compose' && p.evidence.file === rel)) continue;
      claim(p.host, `${s.name} (${p.evidence.file}${p.evidence.line ? `:${p.evidence.line}` : ''})`);
    }
  }
  for (const svc of doc.services) {
    for (const p of svc.ports) {
      const owners = p.host ? (claims.get(p.host) ?? []) : [];
      if (owners.length < 2) continue;
      const message =
        `Host port ${p.host} is claimed by more than one service: ${listed([...new Set(owners)])}. ` +
        'Only one can bind it; change one host port.';
      out.push(diag(lines.range(p.start, p.end), message, 'port-conflict', DiagnosticSeverity.Error));
    }
    for (const e of svc.environment)
      out.push(...envUrlDiagnostics(ctx, e.name, e.value, e.valueSpan.start, lines, names));
  }
  return out;
}

function envUrlDiagnostics(
  ctx: FeatureContext,
  name: string,
  value: string,
  valueStart: number,
  lines: LineIndex,
  composeNames: string[] = [],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { host, index } of hostsInValue(name, value)) {
    if (isExternalHost(host) || composeNames.includes(host) || serviceByName(ctx.topology, host)) continue;
    if (!/:\/\//.test(value) && !/(HOST|URL|ADDR)/i.test(name)) continue;
    const known = ctx.topology.services.map((s) => s.name);
    const suggestion = closest(host, known);
    out.push(
      diag(
        lines.range(valueStart + index, valueStart + index + host.length),
        `${name} points to "${host}", which names no service in this workspace${suggestion ? `. Did you mean "${suggestion}"?` : ` (services: ${known.join(', ') || 'none'})`}`,
        'env-url-unknown',
        DiagnosticSeverity.Warning,
        { code: 'env-url-unknown', host },
      ),
    );
  }
  return out;
}

function dotenvDiagnostics(ctx: FeatureContext, lines: LineIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (let l = 0; l < lines.lineCount; l++) {
    const text = lines.lineText(l);
    const m = /^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*["']?)([^"'#\s]*)/.exec(text);
    if (!m) continue;
    const start = lines.offsetAt({ line: l, character: m[1].length });
    out.push(...envUrlDiagnostics(ctx, m[2], m[3], start, lines));
  }
  return out;
}

function dockerfileDiagnostics(ctx: FeatureContext, rel: string, text: string, lines: LineIndex): Diagnostic[] {
  const service = serviceForFile(ctx.topology, rel);
  const facts = readDockerfile(text);
  const out: Diagnostic[] = [];
  if (!service || facts.lastFrom < 0) return out;
  const anchor = lines.lineRange(facts.lastFrom);
  // A missing port belongs on the final stage's EXPOSE, or without one where the quick fix puts it: before the
  // first CMD/ENTRYPOINT, else after the stage's last instruction.
  const exposeLine = facts.exposeLines.at(-1) ?? (facts.firstCmd >= 0 ? facts.firstCmd : facts.lastInstruction);
  const exposeAnchor = lines.lineRange(exposeLine);
  // Ports the process listens on (code, scripts, config, compose, kyozo.yaml); the Dockerfile's own EXPOSE and
  // image/framework defaults are not evidence that something listens.
  const listening = [
    ...new Set(
      service.ports
        .filter((p) => !['dockerfile', 'image-default', 'framework-default'].includes(p.source))
        .map((p) => p.container),
    ),
  ];
  for (const port of listening) {
    if (facts.exposed.includes(port)) continue;
    const ev = service.ports.find((p) => p.container === port)!.evidence;
    out.push(
      diag(
        exposeAnchor,
        `${service.name} listens on port ${port} (${ev.file}${ev.line ? `:${ev.line}` : ''}) but this Dockerfile does not EXPOSE it`,
        'missing-expose',
        DiagnosticSeverity.Warning,
        { code: 'missing-expose', serviceId: service.id, port },
      ),
    );
  }
  if (!facts.hasHealthcheck && service.ports.length > 0 && service.healthCheck?.kind !== 'command') {
    out.push(
      diag(
        anchor,
        `${service.name} has no HEALTHCHECK: Kyozo cannot tell when it is ready`,
        'no-healthcheck',
        DiagnosticSeverity.Hint,
        { code: 'no-healthcheck', serviceId: service.id },
      ),
    );
  }
  return out;
}

function jsonDiagnostics(text: string, lines: LineIndex): Diagnostic[] {
  try {
    JSON.parse(text);
    return [];
  } catch (e) {
    const msg = (e as Error).message;
    const at = /position (\d+)/.exec(msg);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    let offset = at ? Number(at[1]) : text.length;
    if (!at && lc) offset = lines.offsetAt({ line: Number(lc[1]) - 1, character: Number(lc[2]) - 1 });
    return [
      diag(
        lines.range(offset, Math.min(offset + 1, text.length)),
        `Malformed JSON: ${msg.replace(/^JSON\.parse: /, '')}`,
        'json-parse',
        DiagnosticSeverity.Error,
      ),
    ];
  }
}

function fromProblem(p: Problem, lines: LineIndex, placed?: Range): Diagnostic {
  const line = (p.line ?? 1) - 1;
  let range = placed ?? lines.lineRange(line);
  if (p.column) {
    const start = { line, character: p.column - 1 };
    const end = p.endLine ? { line: p.endLine - 1, character: (p.endColumn ?? p.column) - 1 } : range.end;
    range = { start, end };
  }
  const severity =
    p.severity === 'error'
      ? DiagnosticSeverity.Error
      : p.severity === 'warning'
        ? DiagnosticSeverity.Warning
        : DiagnosticSeverity.Information;
  return diag(range, p.message, p.code, severity);
}

function fromRecommendation(r: Recommendation, lines: LineIndex, placed?: Range): Diagnostic {
  return diag(placed ?? lines.lineRange((r.line ?? 1) - 1), r.message, r.code, DiagnosticSeverity.Information, {
    code: r.code,
    serviceId: r.serviceId,
  });
}

function diag(
  range: Diagnostic['range'],
  message: string,
  code: string,
  severity: DiagnosticSeverity,
  data?: DiagnosticData | Record<string, unknown>,
): Diagnostic {
  return { range, message, code, severity, source: SOURCE, ...(data ? { data } : {}) };
}

/** Names for a message: the first ten, then how many more, so a file of thousands of services stays readable. */
function listed(names: string[]): string {
  if (names.length <= 10) return names.join(', ');
  return `${names.slice(0, 10).join(', ')} and ${(names.length - 10).toLocaleString('en-US')} more`;
}

/**
 * `closest` for the missing names of one file, within a budget of about 200,000 name comparisons: each look-up
 * compares against every service, and thousands of typos times thousands of services took minutes. Past the budget
 * the diagnostic lists the services instead of suggesting one.
 */
function suggester(names: string[]): (missing: string, self: string) => string | undefined {
  const memo = new Map<string, string | undefined>();
  const lookups = Math.max(1, Math.min(100, Math.floor(200_000 / Math.max(1, names.length))));
  return (missing, self) => {
    const key = `${missing}\0${self}`;
    if (!memo.has(key) && memo.size < lookups)
      memo.set(
        key,
        closest(
          missing,
          names.filter((n) => n !== self),
        ),
      );
    return memo.get(key);
  };
}

/**
 * One cycle per strongly connected group of compose services (Tarjan's algorithm, then the shortest way back to its
 * smallest name), plus each service that depends on itself: linear in the file. Enumerating every elementary cycle,
 * as before, grew factorially: ten services that all depend on each other kept the server busy for hours.
 */
function cycles(doc: ComposeDocument): string[][] {
  const graph = new Map(doc.services.map((s) => [s.name, s.dependsOn.map((d) => d.name)]));
  const next = (name: string) => (graph.get(name) ?? []).filter((n) => graph.has(n));
  const out: string[][] = [];
  for (const name of graph.keys()) if (next(name).includes(name)) out.push([name]);
  for (const group of stronglyConnected([...graph.keys()], next)) {
    if (group.length < 2) continue;
    const members = new Set(group);
    const start = [...group].sort()[0];
    // Breadth-first from the start through the group until an edge leads back to it.
    const parent = new Map<string, string>([[start, start]]);
    const queue = [start];
    let last: string | undefined;
    for (let i = 0; i < queue.length && last === undefined; i++) {
      for (const w of next(queue[i])) {
        if (!members.has(w)) continue;
        if (w === start) {
          last = queue[i];
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, queue[i]);
          queue.push(w);
        }
      }
    }
    const path: string[] = [];
    for (let v = last!; v !== start; v = parent.get(v)!) path.push(v);
    out.push([start, ...path.reverse()]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]) || a.length - b.length);
}
