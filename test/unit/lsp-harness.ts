// Drives the built language server (dist/server.js) over stdio with a real JSON-RPC connection, as an editor would.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  ErrorCodes,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-languageserver-protocol/node';
import {
  WorkDoneProgress,
  type ClientCapabilities,
  type PublishDiagnosticsParams,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { Methods, type TopologyParams } from '../../server/src/protocol';

export const repoRoot = new URL('../..', import.meta.url).pathname;

export interface LspSession {
  connection: MessageConnection;
  folder: string;
  folderUri: string;
  uri(rel: string): string;
  diagnostics: Map<string, PublishDiagnosticsParams>;
  topologies: TopologyParams[];
  appliedEdits: WorkspaceEdit[];
  /** Requests the server sent to the client (codeLens refresh, capability registrations, messages), in order. */
  requests: { method: string; params: unknown }[];
  /** `$/progress` notifications, in order. */
  progress: {
    token: string | number;
    value: { kind: string; title?: string; message?: string; cancellable?: boolean };
  }[];
  watchProgress(token: string | number): void;
  /** Every other server notification (kyozo/engineState, kyozo/serviceStatus, ...), in order. */
  notifications: { method: string; params: unknown }[];
  /** Resolves with the next notification of `method` that satisfies `accept`. */
  next<T>(method: string, accept?: (p: T) => boolean, timeoutMs?: number): Promise<T>;
  /**
   * The diagnostics last published for `uri` if they satisfy `accept`, else the next that do: the server computes them
   * in the background, so they may not be there yet right after the topology or an edit.
   */
  diagnosticsOf(uri: string, accept?: (p: PublishDiagnosticsParams) => boolean): Promise<PublishDiagnosticsParams>;
  open(rel: string, text: string, languageId?: string): Promise<void>;
  close(): Promise<void>;
  /** What the server answered to `initialize` (its capabilities). */
  initializeResult?: { capabilities: { experimental?: unknown } };
}

/** Copies a fixture to a temporary folder (tests change files) and starts an initialised session on it. */
export interface SessionOptions {
  /** Use the machine's Docker engine (integration tests); by default the server is pointed at a socket that does not exist. */
  realEngine?: boolean;
  baseImages?: Record<string, string>;
  /** kyozo.images (the gateway's nginx image: tests name a local one). */
  images?: { gateway?: string };
  /** Extra files written into the copied fixture before the server starts. */
  files?: Record<string, string>;
  /** What the client says of the workspace's trust (initializationOptions.workspaceTrusted; 'unset': nothing). */
  workspaceTrusted?: boolean | 'unset';
  autoDeploy?: boolean;
  /** Runs on the copied fixture before the server starts, for what plain files cannot express (links, FIFOs). */
  prepare?: (folder: string) => void;
  /**
   * Who the client says it is and what it can do. By default it is VS Code as vscode-languageclient introduces it
   * (clientInfo "Visual Studio Code", watchers registered at run time, CodeLens refresh).
   */
  client?: { name?: string; capabilities?: ClientCapabilities; refusesRegistration?: boolean };
}

const VS_CODE_CAPABILITIES: ClientCapabilities = {
  workspace: {
    workspaceFolders: true,
    didChangeWatchedFiles: { dynamicRegistration: true },
    workspaceEdit: { documentChanges: true },
    codeLens: { refreshSupport: true },
  },
  window: { workDoneProgress: true },
};

export async function startSession(fixture: string, options: SessionOptions = {}): Promise<LspSession> {
  const folder = mkdtempSync(join(tmpdir(), 'kyozo-lsp-'));
  cpSync(join(repoRoot, 'test/fixtures', fixture), folder, { recursive: true });
  for (const [rel, text] of Object.entries(options.files ?? {})) writeFileSync(join(folder, rel), text);
  options.prepare?.(folder);
  const noEngine = 'unix:///nonexistent/kyozo-test.sock';
  const folderUri = pathToFileURL(folder).href;
  // KYOZO_LSP_SERVER runs the same tests against another build, e.g. the server inside an unpacked VSIX.
  const child: ChildProcess = spawn(
    process.execPath,
    [process.env.KYOZO_LSP_SERVER ?? join(repoRoot, 'dist/server.js'), '--stdio'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.realEngine ? process.env : { ...process.env, DOCKER_HOST: noEngine },
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout!),
    new StreamMessageWriter(child.stdin!),
  );
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const topologies: TopologyParams[] = [];
  const appliedEdits: WorkspaceEdit[] = [];
  const progress: LspSession['progress'] = [];
  const waiters: { method: string; accept: (p: unknown) => boolean; resolve: (p: unknown) => void }[] = [];
  const deliver = (method: string, p: unknown) => {
    for (const w of [...waiters])
      if (w.method === method && w.accept(p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
  };
  connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    diagnostics.set(p.uri, p);
    deliver('textDocument/publishDiagnostics', p);
  });
  connection.onNotification(Methods.topology, (p: TopologyParams) => {
    topologies.push(p);
    deliver(Methods.topology, p);
  });
  const notifications: { method: string; params: unknown }[] = [];
  connection.onNotification((method: string, p: unknown) => {
    notifications.push({ method, params: p });
    deliver(method, p);
  });
  const requests: LspSession['requests'] = [];
  const record = (method: string, answer: unknown = null) =>
    connection.onRequest(method, (p: unknown) => {
      requests.push({ method, params: p });
      deliver(method, p);
      return answer;
    });
  // A client may declare dynamic registration and still refuse one (an error answer).
  const refusal = new ResponseError(ErrorCodes.InternalError, 'this client cannot watch files');
  record('client/registerCapability', options.client?.refusesRegistration ? refusal : null);
  record('workspace/codeLens/refresh');
  record('window/showMessageRequest');
  // JSON-RPC routes $/progress by token, so each token is followed explicitly: server-created ones on creation,
  // client-chosen ones through session.watchProgress before the request.
  const watchProgress = (token: string | number) => {
    connection.onProgress(WorkDoneProgress.type, token, (value) => {
      const p = { token, value: value as LspSession['progress'][number]['value'] };
      progress.push(p);
      deliver('$/progress', p);
    });
  };
  connection.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
    watchProgress(p.token);
    deliver('window/workDoneProgress/create', p);
    return null;
  });
  connection.onRequest('workspace/configuration', () => []);
  connection.onRequest('workspace/applyEdit', (p: { edit: WorkspaceEdit }) => {
    appliedEdits.push(p.edit);
    return { applied: true };
  });
  connection.listen();

  const session: LspSession = {
    connection,
    folder,
    folderUri,
    diagnostics,
    topologies,
    appliedEdits,
    requests,
    progress,
    watchProgress,
    notifications,
    uri: (rel) => pathToFileURL(join(folder, rel)).href,
    next<T>(method: string, accept: (p: T) => boolean = () => true, timeoutMs = 20_000) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${method} within ${timeoutMs} ms; server stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          method,
          accept: accept as (p: unknown) => boolean,
          resolve: (p) => {
            clearTimeout(timer);
            resolve(p as T);
          },
        });
      });
    },
    diagnosticsOf(uri, accept = () => true) {
      const last = diagnostics.get(uri);
      if (last && accept(last)) return Promise.resolve(last);
      const method = 'textDocument/publishDiagnostics';
      return session.next<PublishDiagnosticsParams>(method, (p) => p.uri === uri && accept(p));
    },
    async open(rel, text, languageId = 'plaintext') {
      await connection.sendNotification('textDocument/didOpen', {
        textDocument: { uri: session.uri(rel), languageId, version: 1, text },
      });
    },
    async close() {
      try {
        await Promise.race([connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
        await connection.sendNotification('exit');
      } catch {
        /* the server may already be gone */
      }
      connection.dispose();
      child.kill();
      rmSync(folder, { recursive: true, force: true });
    },
  };
  const firstTopology = session.next<TopologyParams>(Methods.topology);
  let clientInfo: { name: string; version?: string } | undefined = { name: 'Visual Studio Code', version: '1.90.0' };
  if (options.client) clientInfo = options.client.name ? { name: options.client.name } : undefined;
  session.initializeResult = await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: folderUri,
    workspaceFolders: [{ uri: folderUri, name: 'fixture' }],
    clientInfo,
    capabilities: options.client?.capabilities ?? VS_CODE_CAPABILITIES,
    initializationOptions: {
      settings: {
        docker: { host: options.realEngine ? undefined : noEngine },
        baseImages: options.baseImages ?? {},
        images: options.images ?? {},
        defaults: {},
        ignore: [],
        autoDeploy: options.autoDeploy ?? false,
      },
      workspaceTrusted: options.workspaceTrusted === 'unset' ? undefined : (options.workspaceTrusted ?? true),
    },
  });
  await connection.sendNotification('initialized', {});
  await firstTopology;
  return session;
}
