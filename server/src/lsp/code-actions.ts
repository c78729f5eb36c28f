// Code actions: each one is a concrete edit (or, for generating a Dockerfile, a server command run on request).
import { posix } from 'node:path';
import {
  CodeActionKind,
  type CodeAction,
  type Diagnostic,
  type Range,
  type TextEdit,
} from 'vscode-languageserver-protocol';
import { ServerCommands, type Service } from '../protocol';
import { parseCompose } from './compose-document';
import { closest } from '../engine';
import { SOURCE, type DiagnosticData } from './diagnostics';
import { documentKind, isIndicatorKind } from './document-kind';
import { readDockerfile } from './dockerfile-document';
import { serviceForCompose, serviceForFile, uriOf, type FeatureContext } from './service-lookup';
import { lineIndexOf, type LineIndex } from './text-ranges';

export interface CodeActionInput {
  rel: string;
  text: string;
  range: Range;
  diagnostics: Diagnostic[];
  /** Reads another file of the workspace folder (open editor text first), for edits outside the current file. */
  readFile(rel: string): string | undefined;
}

export function computeCodeActions(ctx: FeatureContext, input: CodeActionInput): CodeAction[] {
  const { rel, text } = input;
  const uri = uriOf(ctx, rel);
  const lines = lineIndexOf(text);
  const out: CodeAction[] = [];
  const edit = (
    title: string,
    edits: TextEdit[],
    kind: string,
    diagnostics?: Diagnostic[],
    isPreferred?: boolean,
  ): CodeAction => ({ title, kind, diagnostics, isPreferred, edit: { changes: { [uri]: edits } } });

  for (const d of input.diagnostics) {
    if (d.source !== SOURCE || !d.data) continue;
    const data = d.data as DiagnosticData;
    if (data.code === 'unknown-depends-on' && 'suggestion' in data && data.suggestion) {
      out.push(
        edit(
          `Change "${data.name}" to "${data.suggestion}"`,
          [{ range: d.range, newText: data.suggestion }],
          CodeActionKind.QuickFix,
          [d],
          true,
        ),
      );
    } else if (data.code === 'env-url-unknown' && 'host' in data) {
      const suggestion = closest(
        data.host,
        ctx.topology.services.map((s) => s.name),
      );
      if (suggestion)
        out.push(
          edit(
            `Point to service "${suggestion}"`,
            [{ range: d.range, newText: suggestion }],
            CodeActionKind.QuickFix,
            [d],
            true,
          ),
        );
    } else if (data.code === 'missing-expose' && 'port' in data) {
      out.push(
        edit(
          `Add EXPOSE ${data.port}`,
          [insertBeforeCmd(text, lines, `EXPOSE ${data.port}\n`)],
          CodeActionKind.QuickFix,
          [d],
          true,
        ),
      );
    }
  }

  const kind = documentKind(rel);
  if (kind === 'dockerfile') {
    const service = serviceForFile(ctx.topology, rel);
    const facts = readDockerfile(text);
    if (service && !facts.hasHealthcheck && facts.lastFrom >= 0) {
      const related = input.diagnostics.filter((d) => d.source === SOURCE && d.code === 'no-healthcheck');
      out.push(
        edit(
          `Add HEALTHCHECK for ${service.name}`,
          [insertBeforeCmd(text, lines, healthcheckLine(service) + '\n')],
          CodeActionKind.QuickFix,
          related.length ? related : undefined,
        ),
      );
    }
  } else if (isIndicatorKind(kind) && kind !== 'compose') {
    const service = serviceForFile(ctx.topology, rel);
    if (service && !service.composeOnly) {
      if (!service.build?.dockerfile && service.type !== 'infrastructure') {
        out.push({
          title: `Generate a Dockerfile for ${service.name}`,
          kind: CodeActionKind.Source + '.kyozo.generateDockerfile',
          command: {
            title: 'Generate Dockerfile',
            command: ServerCommands.generateDockerfile,
            arguments: [ctx.rootUri, service.id],
          },
        });
      }
      const compose = addToCompose(ctx, service, input.readFile);
      if (compose) out.push(compose);
    }
  }
  return out;
}

function insertBeforeCmd(text: string, lines: LineIndex, newText: string): TextEdit {
  const facts = readDockerfile(text);
  if (facts.firstCmd >= 0)
    return {
      range: { start: { line: facts.firstCmd, character: 0 }, end: { line: facts.firstCmd, character: 0 } },
      newText,
    };
  const end = lines.positionAt(text.length);
  return { range: { start: end, end }, newText: (text.endsWith('\n') || text.length === 0 ? '' : '\n') + newText };
}

export function healthcheckLine(s: Service): string {
  const port = s.ports[0]?.container ?? 8080;
  const path = s.healthCheck?.kind === 'http' ? (s.healthCheck.path ?? '/') : '/';
  const url = `http://127.0.0.1:${port}${path}`;
  const runtime = s.build?.runtime ?? (s.type === 'nodejs' ? 'node' : s.type === 'python' ? 'python' : undefined);
  const probe =
    runtime === 'node'
      ? `node -e "require('http').get('${url}',r=>process.exit(r.statusCode<400?0:1)).on('error',()=>process.exit(1))"`
      : runtime === 'python'
        ? `python -c "import urllib.request; urllib.request.urlopen('${url}', timeout=3)"`
        : `wget -qO- ${url} >/dev/null || exit 1`;
  return `HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ${probe}`;
}

/** Composes files of the workspace, nearest the root first. */
function composeFiles(ctx: FeatureContext): string[] {
  const files = new Set<string>();
  for (const s of ctx.topology.services) {
    for (const i of s.indicators) if (documentKind(i) === 'compose') files.add(i);
    if (s.composeOnly) files.add(s.composeOnly.file);
    for (const e of s.evidence) if (documentKind(e.file) === 'compose') files.add(e.file);
  }
  for (const g of ctx.topology.groups)
    for (const e of g.evidence) if (documentKind(e.file) === 'compose') files.add(e.file);
  return [...files].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

function addToCompose(
  ctx: FeatureContext,
  service: Service,
  readFile: (rel: string) => string | undefined,
): CodeAction | undefined {
  for (const file of composeFiles(ctx)) {
    const text = readFile(file);
    if (text === undefined) continue;
    const doc = parseCompose(text);
    if (doc.services.length === 0) continue;
    if (doc.services.some((c) => serviceForCompose(ctx.topology, file, c.name, c.build)?.id === service.id))
      return undefined;
    const lines = lineIndexOf(text);
    const last = doc.services[doc.services.length - 1];
    const endPos = lines.positionAt(last.entry.end);
    const indent = doc.serviceIndent || '  ';
    const child = indent + (indent.length ? indent : '  ');
    const build = posix.relative(posix.dirname(file), service.folder) || '.';
    const body = [`${indent}${service.name}:`, `${child}build: ${build.startsWith('.') ? build : './' + build}`];
    const port = service.ports[0]?.container;
    if (port) body.push(`${child}ports:`, `${child}  - "${port}:${port}"`);
    const deps = ctx.topology.edges
      .filter((e) => e.from === service.id)
      .map((e) => doc.services.find((c) => serviceForCompose(ctx.topology, file, c.name, c.build)?.id === e.to)?.name)
      .filter((n): n is string => !!n);
    if (deps.length) body.push(`${child}depends_on:`, ...[...new Set(deps)].map((d) => `${child}  - ${d}`));
    const atLineStart = endPos.line + 1 < lines.lineCount;
    const pos = atLineStart ? { line: endPos.line + 1, character: 0 } : lines.positionAt(text.length);
    const newText = (atLineStart ? '' : text.endsWith('\n') ? '' : '\n') + body.join('\n') + '\n';
    return {
      title: `Add ${service.name} to ${file}`,
      kind: CodeActionKind.Refactor + '.kyozo.addToCompose',
      edit: { changes: { [uriOf(ctx, file)]: [{ range: { start: pos, end: pos }, newText }] } },
    };
  }
  return undefined;
}
