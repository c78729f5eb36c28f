// The document features (hover, CodeLens, code actions): each request is answered from the current topology and live
// statuses, never from a cache of earlier answers.
import type { Diagnostic } from 'vscode-languageserver';
import { computeCodeActions } from './code-actions';
import { computeCodeLenses } from './code-lens';
import { LARGE_COMPOSE_CHARS } from './analysis-thread';
import { composeParsed } from './compose-document';
import type { DiagnosticsPublisher } from './diagnostics-publisher';
import { documentKind } from './document-kind';
import { bytesOverCap } from './document-size';
import { computeHover } from './hover';
import type { ServerSession } from './server-session';
import type { FeatureContext } from './service-lookup';
import type { WorkspaceFolderState } from './workspace-folder';

/**
 * How long a CodeLens request from a client that cannot be asked to refresh waits for the analysis of changes already
 * reported (a save, a file changed on disk): its next request may be far off, so this answer should show them.
 */
const LENS_SETTLE_MS = 2_000;

type Feature<T> = (ctx: FeatureContext, f: WorkspaceFolderState, rel: string, text: string) => T;

export function registerFeatures(server: ServerSession, diagnostics: DiagnosticsPublisher): void {
  const { connection, documents } = server;

  const withDocument = async <T>(uri: string, fn: Feature<T>): Promise<T | undefined> => {
    const f = server.folderFor(uri);
    const rel = f?.relativePath(uri);
    const doc = documents.get(uri);
    if (!f || !rel || !doc || !f.context()) return undefined;
    const text = doc.getText();
    // Past the engine's file cap a document is not read (its one diagnostic says so).
    if (bytesOverCap(text) !== undefined) return undefined;
    // A large compose file is parsed by the worker (the features then find the parse cached), so a request about it
    // does not hold up the thread that answers requests about every other file.
    if (documentKind(rel) === 'compose' && text.length > LARGE_COMPOSE_CHARS && !composeParsed(text)) {
      const parsed = await diagnostics.thread.parseCompose(text).then(
        () => true,
        () => false,
      );
      if (!parsed || documents.get(uri)?.getText() !== text) return undefined;
    }
    const ctx = f.context();
    return ctx ? fn(ctx, f, rel, text) : undefined;
  };

  connection.onHover(async (p) => {
    const hover = await withDocument(p.textDocument.uri, (ctx, _f, rel, t) => computeHover(ctx, rel, t, p.position));
    return hover ?? null;
  });
  connection.onCodeLens(async (p) => {
    const f = server.folderFor(p.textDocument.uri);
    if (f && !server.client.lensRefresh) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, LENS_SETTLE_MS);
      });
      await Promise.race([f.settled(), late]).finally(() => clearTimeout(timer));
    }
    const options = { codicons: server.client.codicons };
    const lenses = await withDocument(p.textDocument.uri, (ctx, _f, rel, t) => computeCodeLenses(ctx, rel, t, options));
    return lenses ?? [];
  });
  connection.onCodeAction(async (p) => {
    const actions = await withDocument(p.textDocument.uri, (ctx, f, rel, text) =>
      computeCodeActions(ctx, {
        rel,
        text,
        range: p.range,
        diagnostics: p.context.diagnostics as Diagnostic[],
        readFile: (r) => server.readText(f, r),
      }),
    );
    return (actions ?? []).filter((a) => !p.context.only || p.context.only.some((k) => a.kind?.startsWith(k)));
  });
}
