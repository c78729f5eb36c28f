// Engine wiring: one analyzer per workspace folder; each new topology goes to the client (kyozo/topology, diagnostics,
// lenses, deploy state) and each failure is said once, without waiting on the user.
import { fileURLToPath } from 'node:url';
import { MessageType, ShowMessageNotification } from 'vscode-languageserver';
import type { Analyzer } from '../engine';
import {
  AnalysisFailedNotification,
  TopologyNotification,
  type AnalysisFailedParams,
  type TopologyParams,
} from '../protocol';
import type { DiagnosticsPublisher } from './diagnostics-publisher';
import type { FileWatching } from './file-watching';
import type { ServerSession } from './server-session';
import { WorkspaceFolderState } from './workspace-folder';

export class FolderAnalysis {
  private readonly reportedErrors = new Set<string>();

  constructor(
    private readonly server: ServerSession,
    private readonly diagnostics: DiagnosticsPublisher,
    private readonly watching: FileWatching,
  ) {
    server.onDispose(() => {
      for (const f of server.folders.values()) f.dispose();
    });
  }

  add(uri: string): void {
    const { server } = this;
    if (server.folders.has(uri)) return;
    let analyzer: Analyzer;
    try {
      analyzer = server.deps.createAnalyzer({ root: fileURLToPath(uri), extraIgnores: server.settings.ignore });
    } catch (e) {
      server.connection.console.error(`Kyozo cannot analyse ${uri}: ${(e as Error).message}`);
      return;
    }
    const f = new WorkspaceFolderState(
      uri,
      analyzer,
      (x) => this.onTopology(x),
      (x, e) => this.onError(x, e),
    );
    server.folders.set(uri, f);
    this.watching.folderAdded(f);
    void f.analyze().then(() => server.commands.folderReady(f));
  }

  remove(uri: string): void {
    const f = this.server.folders.get(uri);
    if (!f) return;
    f.dispose();
    this.watching.folderRemoved(f);
    this.diagnostics.clearFolder(uri);
    this.server.folders.delete(uri);
  }

  /** Starts every folder again, e.g. after the ignore settings changed. */
  restartAll(): void {
    for (const uri of [...this.server.folders.keys()]) {
      this.remove(uri);
      this.add(uri);
    }
  }

  private onTopology(f: WorkspaceFolderState): void {
    const params: TopologyParams = { folderUri: f.uri, topology: f.topology! };
    void this.server.connection.sendNotification(TopologyNotification, params);
    this.diagnostics.publishFolder(f);
    this.server.refreshLenses();
    this.server.commands.topologyChanged(f);
  }

  private onError(f: WorkspaceFolderState, e: Error): void {
    const { connection } = this.server;
    connection.console.error(`Kyozo could not analyse ${f.root}: ${e.stack ?? e.message}`);
    const failed: AnalysisFailedParams = {
      folderUri: f.uri,
      message: `Kyozo could not analyse ${f.root}: ${e.message}`,
    };
    void connection.sendNotification(AnalysisFailedNotification, failed);
    if (this.reportedErrors.has(f.uri + e.message)) return;
    this.reportedErrors.add(f.uri + e.message);
    // A notification, not window/showMessageRequest: a question with no answers to pick would wait on the user (some
    // editors block on it) for nothing.
    const message =
      `Kyozo could not analyse ${f.root}: ${e.message}. Run "Kyozo: Analyze Workspace" after fixing it; ` +
      'details are in the Kyozo output.';
    void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message });
  }
}
