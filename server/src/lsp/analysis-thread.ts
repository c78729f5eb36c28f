// The main thread's side of dist/analysis-worker.js: hands documents to the worker, sends each folder's topology once
// per change, and stops the worker when the document it checks is replaced by a newer version. Compose parses the
// worker makes are kept in compose-document's cache, so hovers and lenses on a large compose file find them there.
// Without a worker script (the server run from source), or when the worker cannot start, the work is done here.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { Topology } from '../protocol';
import { parseCompose, rememberCompose, type ComposeDocument } from './compose-document';
import { computeDiagnostics } from './diagnostics';
import type { FeatureContext } from './service-lookup';

export type AnalysisRequest =
  | { kind: 'context'; folder: string; topology: Topology; rootUri: string }
  | { kind: 'diagnose'; id: number; folder: string; rel: string; text: string; withCompose: boolean }
  | { kind: 'compose'; id: number; text: string };

export type AnalysisReply =
  | { id: number; diagnostics: Diagnostic[]; compose?: ComposeDocument }
  | { id: number; compose: ComposeDocument }
  | { id: number; error: string };

interface Job {
  text: string;
  started: number;
  resolve(r: AnalysisReply): void;
  reject(e: Error): void;
}

/** Below this size a compose file is parsed where it is needed: the copy to the worker and back would cost more. */
export const LARGE_COMPOSE_CHARS = 64 * 1024;

/** A check that ran this long is worth a new worker when its result is no longer wanted; a shorter one finishes. */
const RESTART_AFTER_MS = 100;

export class AnalysisThread {
  private worker: Worker | undefined;
  private failed = false;
  private errors = 0;
  private readonly sent = new Map<string, Topology>();
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  constructor(
    private readonly script: string | undefined,
    private readonly log: (message: string) => void,
  ) {}

  /** Starts the worker ahead of the first request, so its start-up does not delay the first diagnostics. */
  warm(): void {
    this.start();
  }

  /** The diagnostics of `rel` in `folder`; rejects with an AbortError once `signal` is aborted. */
  async diagnose(
    folder: string,
    ctx: FeatureContext,
    rel: string,
    text: string,
    signal: AbortSignal,
  ): Promise<Diagnostic[]> {
    const worker = this.start();
    if (!worker) return computeDiagnostics(ctx, rel, text);
    if (this.sent.get(folder) !== ctx.topology) {
      this.post(worker, { kind: 'context', folder, topology: ctx.topology, rootUri: ctx.rootUri });
      this.sent.set(folder, ctx.topology);
    }
    const id = this.nextId++;
    const withCompose = text.length > LARGE_COMPOSE_CHARS;
    const reply = this.send(worker, { kind: 'diagnose', id, folder, rel, text, withCompose });
    signal.addEventListener(
      'abort',
      () => {
        const job = this.jobs.get(id);
        if (!job) return;
        this.jobs.delete(id);
        if (Date.now() - job.started >= RESTART_AFTER_MS) this.stop();
        job.reject(new DOMException('replaced by a newer version', 'AbortError'));
      },
      { once: true },
    );
    const r = await reply;
    if ('error' in r) throw new Error(r.error);
    return 'diagnostics' in r ? r.diagnostics : [];
  }

  /** Parses a compose file in the worker and keeps the result where parseCompose finds it. */
  async parseCompose(text: string): Promise<ComposeDocument> {
    const worker = this.start();
    if (!worker) return parseCompose(text);
    const r = await this.send(worker, { kind: 'compose', id: this.nextId++, text });
    if ('error' in r) throw new Error(r.error);
    return r.compose!;
  }

  private send(worker: Worker, request: Exclude<AnalysisRequest, { kind: 'context' }>): Promise<AnalysisReply> {
    return new Promise<AnalysisReply>((resolve, reject) => {
      this.jobs.set(request.id, { text: request.text, started: Date.now(), resolve, reject });
      this.post(worker, request);
    });
  }

  private post(worker: Worker, request: AnalysisRequest): void {
    worker.postMessage(request);
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed || !this.script) return this.worker;
    if (!existsSync(this.script)) return this.fallBack(`${this.script} does not exist`);
    try {
      const worker = new Worker(this.script);
      worker.on('message', (reply: AnalysisReply) => {
        const job = this.jobs.get(reply.id);
        if (!job) return;
        this.jobs.delete(reply.id);
        if ('compose' in reply && reply.compose) rememberCompose(job.text, reply.compose);
        job.resolve(reply);
      });
      worker.on('error', (e) => {
        this.log(`Kyozo's analysis worker failed: ${e.stack ?? e.message}`);
        if (++this.errors >= 3) this.fallBack('it failed three times');
      });
      worker.on('exit', () => {
        if (this.worker === worker) this.stop();
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
    this.log(`Kyozo analyses documents on the main thread: its worker (${this.script}) is not usable: ${why}`);
    return undefined;
  }

  /** Ends the worker and fails what it was doing; the next request starts a new one. */
  stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.sent.clear();
    const stopped = new Error('the analysis worker stopped; the next change of the file is checked again');
    for (const job of this.jobs.values()) job.reject(stopped);
    this.jobs.clear();
    void worker?.terminate();
  }
}
