// The thin adapter: LSP requests → pure feature functions over the folder's topology; engine results → notifications.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind, DidChangeWatchedFilesNotification, ExecuteCommandRequest, TextDocumentSyncKind,
  type Connection, type Diagnostic, type InitializeResult, type TextDocuments,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_MAX_FILE_BYTES, utf8, WorkspaceFiles, type Analyzer, type AnalyzerOptions } from '../engine';
import {
  Methods, ServerCommands, type AnalysisFailedParams, type ComposeParams, type EventsParams, type ExplainParams,
  type InitializationOptions, type KyozoSettings, type StopLogsParams, type TopologyParams, type WorkspaceTrustParams,
} from '../protocol';
import { computeCodeActions } from './code-actions';
import { computeCodeLenses } from './code-lens';
import { DeployCommands } from './deploy-commands';
import { computeDiagnostics, filesWithFindings } from './diagnostics';
import { AnalysisThread, LARGE_COMPOSE_CHARS } from './analysis-thread';
import { composeParsed } from './compose-document';
import { DocumentAnalysisQueue } from './document-analysis';
import { documentKind } from './document-kind';
import { bytesOverCap } from './document-size';
import { computeHover, describeService } from './hover';
import type { OrchestratorFactory } from './orchestrator-link';
import { serviceById, serviceForFile, type FeatureContext } from './service-lookup';
import { WorkspaceFolderState } from './workspace-folder';

export const DEFAULT_SETTINGS: KyozoSettings = { docker: {}, baseImages: {}, defaults: {}, ignore: [], autoDeploy: false };

export interface ServerDeps {
  createAnalyzer(options: AnalyzerOptions): Analyzer;
  createOrchestrator?: OrchestratorFactory;
  /** dist/analysis-worker.js; without it documents are analysed on the main thread. */
  analysisWorker?: string;
}

export function startLanguageServer(connection: Connection, documents: TextDocuments<TextDocument>, deps: ServerDeps): void {
  const folders = new Map<string, WorkspaceFolderState>();
  let settings: KyozoSettings = DEFAULT_SETTINGS;
  const published = new Map<string, Set<string>>();
  const reportedErrors = new Set<string>();
  const commands = new DeployCommands(connection, deps.createOrchestrator, () => settings, () => folders.values(), (uri) => folders.get(uri) ?? folderFor(uri));

  const folderFor = (uri: string): WorkspaceFolderState | undefined => {
    let best: WorkspaceFolderState | undefined;
    for (const f of folders.values()) if (f.relativePath(uri) !== undefined && (!best || f.root.length > best.root.length)) best = f;
    return best;
  };

  // Files named by the topology are repository input: read as the engine reads them (inside the workspace, regular
  // files only, capped), so a FIFO or a link to a host file named in a problem neither hangs nor leaks here.
  const workspaceFiles = new WeakMap<WorkspaceFolderState, WorkspaceFiles>();
  const readText = (f: WorkspaceFolderState, rel: string): string | undefined => {
    const uri = pathToFileURL(join(f.root, rel)).href;
    const open = documents.get(uri);
    if (open) return open.getText();
    let files = workspaceFiles.get(f);
    if (!files) workspaceFiles.set(f, (files = new WorkspaceFiles(f.root)));
    try { return utf8(files.read(rel, DEFAULT_MAX_FILE_BYTES).bytes); } catch { return undefined; }
  };

  // Diagnostics are computed by the analysis queue, never inside a request or notification handler: a large or
  // slow file then delays nothing but its own diagnostics. `analysedIn` is the folder a file was scheduled for.
  const analysedIn = new Map<string, WorkspaceFolderState>();
  const thread = new AnalysisThread(deps.analysisWorker, (m) => connection.console.error(m));
  const analyseDocument = async (uri: string, signal: AbortSignal): Promise<void> => {
    // One turn first, so edits already received (a newer version of this document among them) land before the work.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.aborted) return;
    const f = analysedIn.get(uri) ?? folderFor(uri);
    const rel = f?.relativePath(uri);
    const ctx = f?.context();
    if (!f || !rel || !ctx) return;
    const open = documents.get(uri);
    const version = open?.version;
    const text = open ? open.getText() : readText(f, rel);
    let diagnostics: Diagnostic[] = [];
    // Over the cap the answer is one diagnostic, found without reading: no need to copy the text to the worker.
    if (text !== undefined && bytesOverCap(text) !== undefined) diagnostics = computeDiagnostics(ctx, rel, text);
    else if (text !== undefined) diagnostics = await thread.diagnose(f.uri, ctx, rel, text, signal);
    if (signal.aborted) return;
    connection.sendDiagnostics({ uri, version, diagnostics });
  };
  const analyses = new DocumentAnalysisQueue(analyseDocument, (uri, e) => {
    connection.console.error(`Kyozo could not compute diagnostics for ${uri}: ${e.stack ?? e.message}`);
  });

  const publishDiagnostics = (f: WorkspaceFolderState) => {
    const ctx = f.context();
    if (!ctx) return;
    const files = filesWithFindings(ctx.topology);
    for (const d of documents.all()) { const rel = f.relativePath(d.uri); if (rel && folderFor(d.uri) === f) files.add(rel); }
    const now = new Set<string>();
    for (const rel of files) {
      const uri = `${f.rootUri}/${rel.split('/').map(encodeURIComponent).join('/')}`;
      const open = documents.get(uri) ?? documents.get(pathToFileURL(join(f.root, rel)).href);
      now.add(open?.uri ?? uri);
    }
    for (const old of published.get(f.uri) ?? []) {
      if (now.has(old)) continue;
      analyses.cancel(old);
      analysedIn.delete(old);
      connection.sendDiagnostics({ uri: old, diagnostics: [] });
    }
    published.set(f.uri, now);
    for (const uri of now) {
      analysedIn.set(uri, f);
      analyses.schedule(uri, 0);
    }
  };

  const onTopology = (f: WorkspaceFolderState) => {
    const params: TopologyParams = { folderUri: f.uri, topology: f.topology! };
    void connection.sendNotification(Methods.topology, params);
    publishDiagnostics(f);
    connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    commands.topologyChanged(f);
  };

  const onError = (f: WorkspaceFolderState, e: Error) => {
    connection.console.error(`Kyozo could not analyse ${f.root}: ${e.stack ?? e.message}`);
    const failed: AnalysisFailedParams = { folderUri: f.uri, message: `Kyozo could not analyse ${f.root}: ${e.message}` };
    void connection.sendNotification(Methods.analysisFailed, failed);
    if (reportedErrors.has(f.uri + e.message)) return;
    reportedErrors.add(f.uri + e.message);
    // A request to the client: a client that does not answer it must not take the server down.
    Promise.resolve(connection.window.showErrorMessage(`Kyozo could not analyse ${f.root}: ${e.message}. Run "Kyozo: Analyze Workspace" after fixing it; details are in the Kyozo output.`) as unknown).catch(() => undefined);
  };

  const addFolder = (uri: string) => {
    if (folders.has(uri)) return;
    let analyzer: Analyzer;
    try {
      analyzer = deps.createAnalyzer({ root: fileURLToPath(uri), extraIgnores: settings.ignore });
    } catch (e) {
      connection.console.error(`Kyozo cannot analyse ${uri}: ${(e as Error).message}`);
      return;
    }
    const f = new WorkspaceFolderState(uri, analyzer, onTopology, onError);
    folders.set(uri, f);
    void f.analyze().then(() => commands.folderReady(f));
  };

  const removeFolder = (uri: string) => {
    const f = folders.get(uri);
    if (!f) return;
    f.dispose();
    for (const old of published.get(uri) ?? []) {
      analyses.cancel(old);
      analysedIn.delete(old);
      connection.sendDiagnostics({ uri: old, diagnostics: [] });
    }
    published.delete(uri);
    folders.delete(uri);
  };

  let watchedDynamically = false;
  connection.onInitialize((params): InitializeResult => {
    const init = params.initializationOptions as InitializationOptions | undefined;
    settings = { ...DEFAULT_SETTINGS, ...init?.settings };
    commands.setTrusted(init?.workspaceTrusted === true);
    thread.warm();
    for (const wf of params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: '' }] : [])) addFolder(wf.uri);
    watchedDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    void commands.start();
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor, CodeActionKind.Source] },
        executeCommandProvider: { commands: Object.values(ServerCommands) },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'kyozo-language-server', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (watchedDynamically) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] });
    }
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      for (const r of e.removed) removeFolder(r.uri);
      for (const a of e.added) addFolder(a.uri);
    });
  });

  connection.onDidChangeConfiguration((change) => {
    const next = (change.settings as { kyozo?: Partial<KyozoSettings> } | undefined)?.kyozo;
    if (!next) return;
    const ignoresChanged = JSON.stringify(next.ignore ?? []) !== JSON.stringify(settings.ignore);
    settings = { ...DEFAULT_SETTINGS, ...next };
    commands.settingsChanged();
    if (ignoresChanged) for (const uri of [...folders.keys()]) { removeFolder(uri); addFolder(uri); }
  });

  connection.onDidChangeWatchedFiles((params) => {
    const byFolder = new Map<WorkspaceFolderState, string[]>();
    for (const c of params.changes) {
      const f = folderFor(c.uri);
      const rel = f?.relativePath(c.uri);
      if (!f || !rel || /(^|\/)(node_modules|\.git)(\/|$)/.test(rel)) continue;
      byFolder.set(f, [...(byFolder.get(f) ?? []), rel]);
    }
    for (const [f, paths] of byFolder) f.changed(paths);
  });

  // Open documents: diagnostics follow the edits once they pause; the topology follows saves (the engine reads the disk).
  documents.onDidChangeContent((e) => analyses.schedule(e.document.uri));
  documents.onDidClose((e) => analyses.cancel(e.document.uri));
  documents.onDidSave((e) => {
    const f = folderFor(e.document.uri);
    const rel = f?.relativePath(e.document.uri);
    if (f && rel) f.changed([rel]);
  });

  type Feature<T> = (ctx: FeatureContext, f: WorkspaceFolderState, rel: string, text: string) => T;
  const withDocument = async <T>(uri: string, fn: Feature<T>): Promise<T | undefined> => {
    const f = folderFor(uri);
    const rel = f?.relativePath(uri);
    const doc = documents.get(uri);
    if (!f || !rel || !doc || !f.context()) return undefined;
    const text = doc.getText();
    // Past the engine's file cap a document is not read (its one diagnostic says so).
    if (bytesOverCap(text) !== undefined) return undefined;
    // A large compose file is parsed by the worker (the features then find the parse cached), so a request about it
    // does not hold up the thread that answers requests about every other file.
    if (documentKind(rel) === 'compose' && text.length > LARGE_COMPOSE_CHARS && !composeParsed(text)) {
      const parsed = await thread.parseCompose(text).then(() => true, () => false);
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
    return (await withDocument(p.textDocument.uri, (ctx, _f, rel, text) => computeCodeLenses(ctx, rel, text))) ?? [];
  });
  connection.onCodeAction(async (p) => {
    const actions = await withDocument(p.textDocument.uri, (ctx, f, rel, text) => computeCodeActions(ctx, {
      rel, text, range: p.range, diagnostics: p.context.diagnostics as Diagnostic[], readFile: (r) => readText(f, r),
    }));
    return (actions ?? []).filter((a) => !p.context.only || p.context.only.some((k) => a.kind?.startsWith(k)));
  });

  // Registered as a plain request so the client's workDoneToken is seen before the library consumes it.
  connection.onRequest(ExecuteCommandRequest.type, (params, token) => {
    const clientToken = params.workDoneToken;
    return commands.execute(params, token, connection.window.attachWorkDoneProgress(clientToken), clientToken);
  });

  connection.onRequest(Methods.explain, async (p: ExplainParams) => {
    const f = folders.get(p.folderUri) ?? (p.uri ? folderFor(p.uri) : undefined);
    await f?.idle();
    const ctx = f?.context();
    if (!f || !ctx) return null;
    const rel = p.uri ? f.relativePath(p.uri) : undefined;
    const s = p.serviceId ? serviceById(ctx.topology, p.serviceId) : rel ? ctx.topology.services.find((x) => x.folder === rel && !x.id.includes('#')) ?? serviceForFile(ctx.topology, rel) : undefined;
    return s ? { serviceId: s.id, markdown: describeService(ctx, s) } : null;
  });
  connection.onRequest(Methods.events, (p: EventsParams) => commands.events(p.folderUri, p.serviceId));
  connection.onRequest(Methods.compose, (p: ComposeParams) => commands.compose(p.folderUri));
  connection.onNotification(Methods.stopLogs, (p: StopLogsParams) => commands.stopLogs(p.streamId));
  connection.onNotification(Methods.workspaceTrust, (p: WorkspaceTrustParams) => commands.setTrusted(p.trusted === true));

  connection.onShutdown(() => {
    for (const f of folders.values()) f.dispose();
    commands.dispose();
    analyses.dispose();
    thread.stop();
  });
}
