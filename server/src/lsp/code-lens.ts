// CodeLens that follow live state: Deploy when nothing runs, Stop/Restart/Logs/Open when it does.
import type { CodeLens, Range } from 'vscode-languageserver-protocol';
import { ClientCommands, ServerCommands, type Service } from '../protocol';
import { parseCompose } from './compose-document';
import { documentKind, isIndicatorKind } from './document-kind';
import { serviceForCompose, serviceForFile, type FeatureContext } from './service-lookup';
import { lineIndexOf } from './text-ranges';

export interface LensOptions {
  /** Titles carry `$(icon)` codicon syntax, which only VS Code and the editors built from it render. */
  codicons: boolean;
}

export function computeCodeLenses(
  ctx: FeatureContext,
  rel: string,
  text: string,
  options: LensOptions = { codicons: true },
): CodeLens[] {
  const lenses = lensesOfDocument(ctx, rel, text);
  if (options.codicons) return lenses;
  // Other editors show `$(play)` as written: the same lenses, titled in words only.
  for (const l of lenses) if (l.command) l.command.title = l.command.title.replace(/^\$\([^)]*\)\s*/, '');
  return lenses;
}

function lensesOfDocument(ctx: FeatureContext, rel: string, text: string): CodeLens[] {
  const kind = documentKind(rel);
  if (kind === 'compose') {
    const doc = parseCompose(text);
    const lines = lineIndexOf(text);
    const out: CodeLens[] = [];
    for (const svc of doc.services) {
      const s = serviceForCompose(ctx.topology, rel, svc.name, svc.build);
      if (s) out.push(...lensesFor(ctx, s, lines.range(svc.key.start, svc.key.end)));
    }
    return out;
  }
  if (!isIndicatorKind(kind)) return [];
  const s = serviceForFile(ctx.topology, rel);
  if (!s) return [];
  return lensesFor(ctx, s, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
}

export function lensesFor(ctx: FeatureContext, s: Service, range: Range): CodeLens[] {
  if (s.type === 'infrastructure') return [];
  const args = [ctx.rootUri, s.id];
  const lens = (title: string, command: string, extra: unknown[] = []): CodeLens => ({
    range,
    command: { title, command, arguments: [...args, ...extra] },
  });
  const status = ctx.statuses.get(s.id);
  const state = status?.state ?? 'not-deployed';
  if (state === 'building' || state === 'starting') {
    return [
      { range, command: { title: `$(sync~spin) ${s.name} ${state}…`, command: '' } },
      lens('$(output) Logs', ClientCommands.showLogs),
    ];
  }
  if (state === 'running' || state === 'unhealthy' || state === 'error') {
    const out: CodeLens[] = [];
    const label =
      state === 'running'
        ? '$(pass-filled) running'
        : state === 'unhealthy'
          ? '$(warning) unhealthy'
          : '$(error) error';
    out.push({
      range,
      command: {
        title: `${label}${status?.replicas && status.replicas.desired > 1 ? ` ${status.replicas.running}/${status.replicas.desired}` : ''}`,
        command: '',
      },
    });
    out.push(lens('$(debug-stop) Stop', ServerCommands.stop));
    out.push(lens('$(debug-restart) Restart', ServerCommands.restart));
    out.push(lens('$(output) Logs', ClientCommands.showLogs));
    const url = status?.ports.find((p) => p.url)?.url;
    if (url && state !== 'error') out.push(lens(`$(globe) Open ${url}`, ClientCommands.openServiceUrl, [url]));
    return out;
  }
  const out = [lens(`$(play) Deploy ${s.name}`, ServerCommands.deploy)];
  if (state === 'stopped') out.push(lens('$(output) Logs', ClientCommands.showLogs));
  return out;
}
