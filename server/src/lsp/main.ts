// Entry of dist/server.js. The client starts it over IPC (`--node-ipc`); tests use `--stdio`.
import { join } from 'node:path';
import { createConnection, ProposedFeatures, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createAnalyzer } from '../engine';
import { startLanguageServer } from './language-server';
import { createOrchestrator } from './orchestrator-link';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
// The worker is bundled next to this file (esbuild.mjs).
const analysisWorker = join(__dirname, 'analysis-worker.js');
startLanguageServer(connection, documents, { createAnalyzer, createOrchestrator, analysisWorker });
documents.listen(connection);
connection.listen();

// One failed promise somewhere (a client that refuses a request, an engine that drops a stream) must not end the
// editor's Kyozo session: log it where the user can see it (the Kyozo output channel) and keep serving.
process.on('unhandledRejection', (reason) => {
  connection.console.error(
    `Kyozo: unhandled failure: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
  );
});
