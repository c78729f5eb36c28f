// Files changed outside the editor (git checkout, a generator, another tool) reach the analyzers as batches of
// root-relative paths per folder.
import { DidChangeWatchedFilesNotification, type FileEvent } from 'vscode-languageserver';
import type { ServerSession } from './server-session';
import type { WorkspaceFolderState } from './workspace-folder';

const NEVER_WATCHED = /(^|\/)(node_modules|\.git)(\/|$)/;

export class FileWatching {
  constructor(private readonly server: ServerSession) {
    server.connection.onDidChangeWatchedFiles((params) => this.changed(params.changes));
  }

  /** After `initialized`: the client watches for us when it can register watchers at run time. */
  start(): void {
    const { connection, client } = this.server;
    if (client.dynamicWatchers) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] });
    }
  }

  private changed(changes: FileEvent[]): void {
    const byFolder = new Map<WorkspaceFolderState, string[]>();
    for (const c of changes) {
      const f = this.server.folderFor(c.uri);
      const rel = f?.relativePath(c.uri);
      if (!f || !rel || NEVER_WATCHED.test(rel)) continue;
      byFolder.set(f, [...(byFolder.get(f) ?? []), rel]);
    }
    for (const [f, paths] of byFolder) f.changed(paths);
  }
}
