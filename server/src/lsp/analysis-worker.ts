// Entry of dist/diagnostics-worker.js, a worker thread of the language server: computes one document's diagnostics
// at a time, so a file that takes a second to read (a compose file near the size cap) never holds up the main thread,
// which answers hovers, CodeLens and commands meanwhile.
import { parentPort } from 'node:worker_threads';
import { computeDiagnostics } from './diagnostics';
import type { DiagnosticsReply, DiagnosticsRequest } from './diagnostics-thread';
import type { FeatureContext } from './service-lookup';

const contexts = new Map<string, FeatureContext>();

parentPort!.on('message', (m: DiagnosticsRequest) => {
  if (m.kind === 'context') {
    // Diagnostics read the topology only; statuses stay with the main thread.
    contexts.set(m.folder, { topology: m.topology, rootUri: m.rootUri, statuses: new Map() });
    return;
  }
  const ctx = contexts.get(m.folder);
  let reply: DiagnosticsReply;
  try {
    if (!ctx) throw new Error(`no topology for ${m.folder}`);
    reply = { id: m.id, diagnostics: computeDiagnostics(ctx, m.rel, m.text) };
  } catch (e) {
    reply = { id: m.id, error: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply);
});
