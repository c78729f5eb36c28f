// The main thread's side of dist/diagnostics-worker.js: hands one document at a time to the worker, sends each folder's
// topology once per change, and stops the worker when the document it works on is replaced by a newer version.
// Without a worker script (the server run from source) or when the worker cannot start, diagnostics are computed here.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { Topology } from '../protocol';
import { computeDiagnostics } from './diagnostics';
import type { FeatureContext } from './service-lookup';

export type DiagnosticsRequest =
  | { kind: 'context'; folder: string; topology: Topology; rootUri: string }
  | { kind: 'diagnose'; id: number; folder: string; rel: string; text: string };

export type DiagnosticsReply = { id: number; diagnostics: Diagnostic[] } | { id: number; error: string };

interface InFlight { id: number; started: number; resolve(d: Diagnostic[]): void; reject(e: Error): void }

/** Work that ran this long is worth a new worker when its result is no longer wanted; shorter work just finishes. */
const RESTART_AFTER_MS = 100;

export class DiagnosticsThread {
  private worker: Worker | undefined;
  private failed = false;
  private errors = 0;
  private readonly sent = new Map<string, Topology>();
  private inFlight: InFlight | undefined;
  private nextId = 1;

  constructor(private readonly script: string | undefined, private readonly log: (message: string) => void) {}

  /** Starts the worker ahead of the first request, so its start-up does not delay the first diagnostics. */
  warm(): void {
    this.start();
  }

  /** The diagnostics of `rel` in `folder`; rejects with an AbortError once `signal` is aborted. */
  compute(folder: string, ctx: FeatureContext, rel: string, text: string, signal: AbortSignal): Promise<Diagnostic[]> {
    const worker = this.start();
    if (!worker) return Promise.resolve(computeDiagnostics(ctx, rel, text));
    if (this.sent.get(folder) !== ctx.topology) {
      const update: DiagnosticsRequest = { kind: 'context', folder, topology: ctx.topology, rootUri: ctx.rootUri };
      worker.postMessage(update);
      this.sent.set(folder, ctx.topology);
    }
    const id = this.nextId++;
    return new Promise<Diagnostic[]>((resolve, reject) => {
      const job: InFlight = { id, started: Date.now(), resolve, reject };
      this.inFlight = job;
      signal.addEventListener('abort', () => {
        if (this.inFlight !== job) return;
        this.inFlight = undefined;
        if (Date.now() - job.started >= RESTART_AFTER_MS) this.stop();
        reject(new DOMException('replaced by a newer version', 'AbortError'));
      }, { once: true });
      const request: DiagnosticsRequest = { kind: 'diagnose', id, folder, rel, text };
      worker.postMessage(request);
    });
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed || !this.script) return this.worker;
    if (!existsSync(this.script)) return this.fallBack(`${this.script} does not exist`);
    try {
      const worker = new Worker(this.script);
      worker.on('message', (reply: DiagnosticsReply) => {
        const job = this.inFlight;
        if (!job || job.id !== reply.id) return;
        this.inFlight = undefined;
        if ('error' in reply) job.reject(new Error(reply.error));
        else job.resolve(reply.diagnostics);
      });
      worker.on('error', (e) => {
        this.log(`Kyozo's diagnostics worker failed: ${e.stack ?? e.message}`);
        if (++this.errors >= 3) this.fallBack('it failed three times');
      });
      worker.on('exit', () => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.sent.clear();
        const job = this.inFlight;
        this.inFlight = undefined;
        job?.reject(new Error('the diagnostics worker stopped; the next change of the file computes them again'));
      });
      worker.unref();
      this.worker = worker;
    } catch (e) {
      return this.fallBack((e as Error).message);
    }
    return this.worker;
  }

  private fallBack(why: string): undefined {
    this.failed = true;
    this.log(`Kyozo computes diagnostics on the main thread: its worker (${this.script}) is not usable: ${why}`);
    return undefined;
  }

  /** Ends the worker (and whatever it is computing); the next request starts a new one. */
  stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.sent.clear();
    void worker?.terminate();
  }
}
