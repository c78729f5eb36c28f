// Files changed outside the editor (git checkout, a generator, another tool) reach the analyzers as batches of
// root-relative paths per folder. The client watches for us when it can register watchers at run time; otherwise
// (Neovim 0.7, many small clients) the server watches each workspace folder itself.
import { relative, sep } from 'node:path';
// chokidar: watches a tree with inotify per directory while skipping the ignored ones (node_modules, .git, ...),
// which Node's recursive fs.watch cannot skip; v4 still runs on Node 20.
import { watch, type FSWatcher } from 'chokidar';
import { DidChangeWatchedFilesNotification, type FileEvent } from 'vscode-languageserver';
import { DEFAULT_IGNORED_DIRS } from '../engine';
import type { ServerSession } from './server-session';
import type { WorkspaceFolderState } from './workspace-folder';

const NEVER_WATCHED = /(^|\/)(node_modules|\.git)(\/|$)/;

export class FileWatching {
  /** True once the client could not watch for us. */
  private onServer = false;
  private readonly watchers = new Map<WorkspaceFolderState, FSWatcher>();

  constructor(private readonly server: ServerSession) {
    server.connection.onDidChangeWatchedFiles((params) => this.changed(params.changes));
    server.onDispose(() => {
      for (const w of this.watchers.values()) void w.close();
      this.watchers.clear();
    });
  }

  /** After `initialized`: ask the client to watch, and watch here if it cannot or refuses. */
  start(): void {
    const { connection, client } = this.server;
    if (!client.dynamicWatchers) return this.watchOnServer();
    connection.client
      .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] })
      .catch((e: Error) => {
        connection.console.warn(`Kyozo: the editor refused to watch files (${e.message}); watching them here instead.`);
        this.watchOnServer();
      });
  }

  /** A folder joined the workspace (at initialize or later). */
  folderAdded(f: WorkspaceFolderState): void {
    if (this.onServer) this.watchFolder(f);
  }

  folderRemoved(f: WorkspaceFolderState): void {
    void this.watchers.get(f)?.close();
    this.watchers.delete(f);
  }

  private watchOnServer(): void {
    this.onServer = true;
    for (const f of this.server.folders.values()) this.watchFolder(f);
  }

  private watchFolder(f: WorkspaceFolderState): void {
    if (this.watchers.has(f)) return;
    const { connection } = this.server;
    const ignored = (path: string) =>
      relative(f.root, path)
        .split(sep)
        .some((part) => DEFAULT_IGNORED_DIRS.has(part));
    // Links are not followed: a link in the repository to a host folder must not make us watch (or read) it.
    const watcher = watch(f.root, { ignoreInitial: true, followSymlinks: false, ignored });
    watcher.on('all', (_event, path) => {
      const rel = relative(f.root, path).split(sep).join('/');
      if (rel && !rel.startsWith('..') && this.server.folders.get(f.uri) === f) f.changed([rel]);
    });
    watcher.on('ready', () => {
      connection.console.info(`Kyozo watches ${f.root} for changes made outside the editor (the editor does not).`);
    });
    // Out of inotify watches (ENOSPC) or a folder that vanished: say so once per cause and keep serving.
    const said = new Set<string>();
    watcher.on('error', (e) => {
      const err = e as NodeJS.ErrnoException;
      if (said.has(err.code ?? err.message)) return;
      said.add(err.code ?? err.message);
      const hint =
        err.code === 'ENOSPC' ? ' Raise fs.inotify.max_user_watches, or add large folders to kyozo.ignore.' : '';
      connection.console.warn(
        `Kyozo cannot watch ${f.root} for changes: ${err.message}.${hint} ` +
          'Run "Kyozo: Analyze Workspace" after changing files outside the editor.',
      );
    });
    this.watchers.set(f, watcher);
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
