// Diagnostics are computed by the analysis queue, never inside a request or notification handler: a large or slow
// file then delays nothing but its own diagnostics. Closed files the engine reports on get diagnostics too.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import { AnalysisThread } from './analysis-thread';
import { computeDiagnostics, filesWithFindings } from './diagnostics';
import { DocumentAnalysisQueue } from './document-analysis';
import { bytesOverCap } from './document-size';
import type { ServerSession } from './server-session';
import type { WorkspaceFolderState } from './workspace-folder';

export class DiagnosticsPublisher {
  readonly thread: AnalysisThread;
  private readonly queue: DocumentAnalysisQueue;
  /** The folder each published file was scheduled for. */
  private readonly analysedIn = new Map<string, WorkspaceFolderState>();
  /** Per folder URI, the document URIs that have diagnostics from us. */
  private readonly published = new Map<string, Set<string>>();

  constructor(private readonly server: ServerSession) {
    const { connection } = server;
    this.thread = new AnalysisThread(server.deps.analysisWorker, (m) => connection.console.error(m));
    this.queue = new DocumentAnalysisQueue(
      (uri, signal) => this.analyse(uri, signal),
      (uri, e) => {
        connection.console.error(`Kyozo could not compute diagnostics for ${uri}: ${e.stack ?? e.message}`);
      },
    );
    server.onDispose(() => {
      this.queue.dispose();
      this.thread.stop();
    });
  }

  /** Re-checks `uri` once its edits pause. */
  schedule(uri: string): void {
    this.queue.schedule(uri);
  }

  cancel(uri: string): void {
    this.queue.cancel(uri);
  }

  /** After a new topology: every file with findings and every open file of the folder, at once. */
  publishFolder(f: WorkspaceFolderState): void {
    const ctx = f.context();
    if (!ctx) return;
    const { documents } = this.server;
    const files = filesWithFindings(ctx.topology);
    for (const d of documents.all()) {
      const rel = f.relativePath(d.uri);
      if (rel && this.server.folderFor(d.uri) === f) files.add(rel);
    }
    const now = new Set<string>();
    for (const rel of files) {
      const uri = `${f.rootUri}/${rel.split('/').map(encodeURIComponent).join('/')}`;
      const open = documents.get(uri) ?? documents.get(pathToFileURL(join(f.root, rel)).href);
      now.add(open?.uri ?? uri);
    }
    for (const old of this.published.get(f.uri) ?? []) if (!now.has(old)) this.clear(old);
    this.published.set(f.uri, now);
    for (const uri of now) {
      this.analysedIn.set(uri, f);
      this.queue.schedule(uri, 0);
    }
  }

  /** A folder leaves the workspace: its diagnostics go with it. */
  clearFolder(folderUri: string): void {
    for (const old of this.published.get(folderUri) ?? []) this.clear(old);
    this.published.delete(folderUri);
  }

  private clear(uri: string): void {
    this.queue.cancel(uri);
    this.analysedIn.delete(uri);
    this.server.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  private async analyse(uri: string, signal: AbortSignal): Promise<void> {
    // One turn first, so edits already received (a newer version of this document among them) land before the work.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.aborted) return;
    const f = this.analysedIn.get(uri) ?? this.server.folderFor(uri);
    const rel = f?.relativePath(uri);
    const ctx = f?.context();
    if (!f || !rel || !ctx) return;
    const open = this.server.documents.get(uri);
    const version = open?.version;
    const text = open ? open.getText() : this.server.readText(f, rel);
    let diagnostics: Diagnostic[] = [];
    // Over the cap the answer is one diagnostic, found without reading: no need to copy the text to the worker.
    if (text !== undefined && bytesOverCap(text) !== undefined) diagnostics = computeDiagnostics(ctx, rel, text);
    else if (text !== undefined) diagnostics = await this.thread.diagnose(f.uri, ctx, rel, text, signal);
    if (signal.aborted) return;
    this.server.connection.sendDiagnostics({ uri, version, diagnostics });
  }
}
