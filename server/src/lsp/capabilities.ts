// The initialize handshake: what the client can do (ClientProfile), what we offer, the settings and trust it sends,
// and the workspace folders it opens with or adds later.
import {
  CodeActionKind,
  TextDocumentSyncKind,
  type InitializeParams,
  type InitializeResult,
  type ServerCapabilities,
} from 'vscode-languageserver';
import {
  ServerCommands,
  type InitializationOptions,
  type KyozoExperimentalCapabilities,
  type KyozoSettings,
} from '../protocol';
import { clientProfile } from './client-profile';
import type { DiagnosticsPublisher } from './diagnostics-publisher';
import type { FolderAnalysis } from './folder-analysis';
import { SEALING_KEY } from './sealed-secrets';
import { DEFAULT_SETTINGS, type ServerSession } from './server-session';

export const SERVER_CAPABILITIES: ServerCapabilities = {
  textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
  hoverProvider: true,
  codeLensProvider: { resolveProvider: false },
  codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor, CodeActionKind.Source] },
  executeCommandProvider: { commands: Object.values(ServerCommands) },
  workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
};

/** `onReady` runs once the client has said `initialized`, when registrations may be sent. */
export function negotiateCapabilities(
  server: ServerSession,
  folders: FolderAnalysis,
  diagnostics: DiagnosticsPublisher,
  onReady: () => void,
): void {
  const { connection, commands } = server;

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = params.initializationOptions as InitializationOptions | undefined;
    server.settings = { ...DEFAULT_SETTINGS, ...init?.settings };
    server.client = clientProfile(params);
    commands.setTrusted(init?.workspaceTrusted === true);
    diagnostics.thread.warm();
    const opened = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: '' }] : []);
    for (const wf of opened) folders.add(wf.uri);
    void commands.start();
    const kyozo: KyozoExperimentalCapabilities = { sealingKey: SEALING_KEY };
    return {
      capabilities: { ...SERVER_CAPABILITIES, experimental: { kyozo } },
      serverInfo: { name: 'kyozo-language-server', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    onReady();
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      for (const r of e.removed) folders.remove(r.uri);
      for (const a of e.added) folders.add(a.uri);
    });
  });

  connection.onDidChangeConfiguration((change) => {
    const next = (change.settings as { kyozo?: Partial<KyozoSettings> } | undefined)?.kyozo;
    if (!next) return;
    const ignoresChanged = JSON.stringify(next.ignore ?? []) !== JSON.stringify(server.settings.ignore);
    server.settings = { ...DEFAULT_SETTINGS, ...next };
    commands.settingsChanged();
    if (ignoresChanged) folders.restartAll();
  });
}
