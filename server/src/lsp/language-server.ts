// The thin adapter: LSP requests → pure feature functions over the folder's topology; engine results → notifications.
// Read top to bottom, it is the server's table of contents: one named phase per concern, each in its own module.
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { negotiateCapabilities } from './capabilities';
import { DiagnosticsPublisher } from './diagnostics-publisher';
import { registerFeatures } from './feature-requests';
import { FileWatching } from './file-watching';
import { FolderAnalysis } from './folder-analysis';
import { registerKyozoRequests } from './kyozo-requests';
import { registerPathWalkerRequests } from './pathwalker-requests';
import { ServerSession, type ServerDeps } from './server-session';

export { DEFAULT_SETTINGS, type ServerDeps } from './server-session';

export function startLanguageServer(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  deps: ServerDeps,
): void {
  const server = new ServerSession(connection, documents, deps);
  // Engine wiring: per-folder analyzers, and the diagnostics each new topology or edit asks for.
  const diagnostics = new DiagnosticsPublisher(server);
  const watching = new FileWatching(server);
  const folders = new FolderAnalysis(server, diagnostics, watching);
  // Capabilities: the handshake, settings and workspace folders; watchers start once the client is ready.
  negotiateCapabilities(server, folders, diagnostics, () => watching.start());
  syncDocuments(server, diagnostics);
  // Features registration: hover, CodeLens, code actions; then commands and Kyozo's own requests.
  registerFeatures(server, diagnostics);
  registerKyozoRequests(server);
  registerPathWalkerRequests(server);
  server.onDispose(() => server.commands.dispose());
  connection.onShutdown(() => server.dispose());
}

/** Document sync: diagnostics follow the edits once they pause; the topology follows saves (the engine reads disk). */
function syncDocuments(server: ServerSession, diagnostics: DiagnosticsPublisher): void {
  const { documents } = server;
  documents.onDidChangeContent((e) => diagnostics.schedule(e.document.uri));
  documents.onDidClose((e) => diagnostics.cancel(e.document.uri));
  documents.onDidSave((e) => {
    const f = server.folderFor(e.document.uri);
    const rel = f?.relativePath(e.document.uri);
    if (f && rel) f.changed([rel]);
  });
}
