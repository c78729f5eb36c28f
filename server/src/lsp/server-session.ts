// What every phase of the language server shares: the connection, the open documents, the workspace folders, the
// settings and what the client said of itself at initialize.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeLensRefreshRequest, type Connection, type TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_MAX_FILE_BYTES, utf8, WorkspaceFiles, type Analyzer, type AnalyzerOptions } from '../engine';
import type { KyozoSettings } from '../protocol';
import { DEFAULT_CLIENT, type ClientProfile } from './client-profile';
import { DeployCommands } from './deploy-commands';
import type { OrchestratorFactory } from './orchestrator-link';
import type { WorkspaceFolderState } from './workspace-folder';

export const DEFAULT_SETTINGS: KyozoSettings = {
  docker: {},
  baseImages: {},
  defaults: {},
  ignore: [],
  autoDeploy: false,
};

export interface ServerDeps {
  createAnalyzer(options: AnalyzerOptions): Analyzer;
  createOrchestrator?: OrchestratorFactory;
  /** dist/analysis-worker.js; without it documents are analysed on the main thread. */
  analysisWorker?: string;
}

export class ServerSession {
  readonly folders = new Map<string, WorkspaceFolderState>();
  settings: KyozoSettings = DEFAULT_SETTINGS;
  client: ClientProfile = DEFAULT_CLIENT;
  readonly commands: DeployCommands;
  private readonly disposers: (() => void)[] = [];
  // Files named by the topology are repository input: read as the engine reads them (inside the workspace, regular
  // files only, capped), so a FIFO or a link to a host file named in a problem neither hangs nor leaks here.
  private readonly workspaceFiles = new WeakMap<WorkspaceFolderState, WorkspaceFiles>();

  constructor(
    readonly connection: Connection,
    readonly documents: TextDocuments<TextDocument>,
    readonly deps: ServerDeps,
  ) {
    this.commands = new DeployCommands(
      connection,
      deps.createOrchestrator,
      () => this.settings,
      () => this.folders.values(),
      (uri) => this.folders.get(uri) ?? this.folderFor(uri),
      () => this.refreshLenses(),
    );
  }

  /** The innermost workspace folder holding `uri`. */
  folderFor(uri: string): WorkspaceFolderState | undefined {
    let best: WorkspaceFolderState | undefined;
    for (const f of this.folders.values()) {
      if (f.relativePath(uri) !== undefined && (!best || f.root.length > best.root.length)) best = f;
    }
    return best;
  }

  /** The editor's text of a file when it is open, else the file as the engine reads it; undefined if unreadable. */
  readText(f: WorkspaceFolderState, rel: string): string | undefined {
    const open = this.documents.get(pathToFileURL(join(f.root, rel)).href);
    if (open) return open.getText();
    let files = this.workspaceFiles.get(f);
    if (!files) this.workspaceFiles.set(f, (files = new WorkspaceFiles(f.root)));
    try {
      return utf8(files.read(rel, DEFAULT_MAX_FILE_BYTES).bytes);
    } catch {
      return undefined;
    }
  }

  /** Asks the client to re-request CodeLens, if it can be asked; otherwise its next request sees the new state. */
  refreshLenses(): void {
    if (!this.client.lensRefresh) return;
    this.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  }

  onDispose(fn: () => void): void {
    this.disposers.push(fn);
  }

  dispose(): void {
    for (const fn of this.disposers.splice(0)) fn();
  }
}
