// Per-document analysis off the request path. A document is analysed once its edits pause (debounce); a newer
// request for the same document cancels the older one's pending or running work; and documents are analysed one at
// a time, each in an event-loop turn of its own, so requests about other files are answered in between.

/** The work for one document; it checks `signal` after each await and stops once it is aborted. */
export type DocumentWork = (uri: string, signal: AbortSignal) => Promise<void> | void;

export class DocumentAnalysisQueue {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ready = new Set<string>();
  private readonly running = new Map<string, AbortController>();
  private draining = false;
  private disposed = false;

  constructor(
    private readonly work: DocumentWork,
    private readonly onError: (uri: string, e: Error) => void,
    private readonly debounceMs = 150,
  ) {}

  /** Analyses `uri` once `delayMs` pass without another request for it. */
  schedule(uri: string, delayMs = this.debounceMs): void {
    if (this.disposed) return;
    this.cancel(uri);
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        this.ready.add(uri);
        this.drain();
      }, delayMs),
    );
  }

  /** Drops the pending work of `uri` and aborts its running work. */
  cancel(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.ready.delete(uri);
    this.running.get(uri)?.abort();
    this.running.delete(uri);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.next());
  }

  private async next(): Promise<void> {
    const uri = this.ready.values().next().value;
    if (uri === undefined || this.disposed) {
      this.draining = false;
      return;
    }
    this.ready.delete(uri);
    const abort = new AbortController();
    this.running.set(uri, abort);
    try {
      await this.work(uri, abort.signal);
    } catch (e) {
      if (!abort.signal.aborted) this.onError(uri, e as Error);
    } finally {
      if (this.running.get(uri) === abort) this.running.delete(uri);
    }
    setImmediate(() => void this.next());
  }

  dispose(): void {
    this.disposed = true;
    for (const uri of [...this.timers.keys(), ...this.running.keys()]) this.cancel(uri);
    this.ready.clear();
  }
}
