// Entry of dist/analysis-worker.js, a worker thread of the language server: computes a document's diagnostics and
// parses large compose files, one at a time, so a file that takes a second to read (a compose file near the size cap)
// never holds up the main thread, which answers hovers, CodeLens and commands meanwhile.
import { parentPort } from 'node:worker_threads';
import type { AnalysisReply, AnalysisRequest } from './analysis-thread';
import { parseCompose } from './compose-document';
import { computeDiagnostics } from './diagnostics';
import { documentKind } from './document-kind';
import type { FeatureContext } from './service-lookup';

const contexts = new Map<string, FeatureContext>();

function answer(m: Exclude<AnalysisRequest, { kind: 'context' }>): AnalysisReply {
  if (m.kind === 'compose') return { id: m.id, compose: parseCompose(m.text) };
  const ctx = contexts.get(m.folder);
  if (!ctx) throw new Error(`no topology for ${m.folder}`);
  const diagnostics = computeDiagnostics(ctx, m.rel, m.text);
  // The parse is at hand (cached by computeDiagnostics): the main thread keeps it for the file's hovers and lenses.
  const compose = m.withCompose && documentKind(m.rel) === 'compose' ? parseCompose(m.text) : undefined;
  return { id: m.id, diagnostics, compose };
}

parentPort!.on('message', (m: AnalysisRequest) => {
  if (m.kind === 'context') {
    // Diagnostics read the topology only; statuses stay with the main thread.
    contexts.set(m.folder, { topology: m.topology, rootUri: m.rootUri, statuses: new Map() });
    return;
  }
  let reply: AnalysisReply;
  try {
    reply = answer(m);
  } catch (e) {
    reply = { id: m.id, error: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply);
});
