// One workspace folder: its analyzer, latest topology and live statuses. No LSP types here.
import { fileURLToPath } from 'node:url';
import { relative, sep } from 'node:path';
import type { Analyzer } from '../engine';
import type { ServiceStatus, Topology, TopologyChange } from '../protocol';
import type { FeatureContext } from './service-lookup';

export class WorkspaceFolderState {
  readonly root: string;
  topology: Topology | undefined;
  readonly statuses = new Map<string, ServiceStatus>();
  engineReachable: boolean | undefined;
  lastError: string | undefined;
  /** Counts the analyses and change batches applied; an update that changes no service keeps the same topology. */
  generation = 0;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** Resolves once the batch waiting in `timer` has been analysed. */
  private batchDone: { promise: Promise<void>; resolve: () => void } | undefined;
  watch: { dispose(): void } | undefined;

  constructor(
    readonly uri: string,
    readonly analyzer: Analyzer,
    private readonly onTopology: (f: WorkspaceFolderState, change?: TopologyChange) => void,
    private readonly onError: (f: WorkspaceFolderState, e: Error) => void,
  ) {
    this.root = fileURLToPath(uri);
  }

  get rootUri(): string {
    return this.uri.replace(/\/$/, '');
  }

  context(): FeatureContext | undefined {
    if (!this.topology) return undefined;
    return {
      topology: this.topology,
      statuses: this.statuses,
      rootUri: this.rootUri,
      engineReachable: this.engineReachable,
    };
  }

  /** Root-relative posix path of a file URI inside this folder, undefined outside it. */
  relativePath(uri: string): string | undefined {
    if (!uri.startsWith('file:')) return undefined;
    const rel = relative(this.root, fileURLToPath(uri));
    if (rel.startsWith('..') || rel.startsWith(sep) || /^[a-zA-Z]:/.test(rel)) return undefined;
    return rel.split(sep).join('/') || '.';
  }

  analyze(): Promise<void> {
    return this.serial(async () => {
      this.topology = await this.analyzer.analyze();
      this.generation++;
      this.lastError = undefined;
      this.onTopology(this);
    });
  }

  /** Batches file changes for a short moment, then re-analyses only what they touch. */
  changed(paths: string[], delayMs = 60): void {
    for (const p of paths) this.pending.add(p);
    clearTimeout(this.timer);
    if (!this.batchDone) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.batchDone = { promise, resolve };
    }
    this.timer = setTimeout(() => {
      const batch = [...this.pending];
      const done = this.batchDone;
      this.pending.clear();
      this.batchDone = undefined;
      void this.serial(async () => {
        if (!this.topology) {
          this.topology = await this.analyzer.analyze();
          this.generation++;
          this.onTopology(this);
          return;
        }
        const { topology, change } = await this.analyzer.update(batch);
        this.topology = topology;
        this.generation++;
        this.onTopology(this, change);
      }).then(() => done?.resolve());
    }, delayMs);
  }

  /** Resolves once the changes reported so far (including those still being batched) have been analysed. */
  settled(): Promise<void> {
    return this.batchDone?.promise ?? this.running;
  }

  /** Resolves once every queued analysis has finished. */
  idle(): Promise<void> {
    return this.running;
  }

  private serial(work: () => Promise<void>): Promise<void> {
    this.running = this.running.then(work).catch((e: Error) => {
      this.lastError = e.message;
      this.onError(this, e);
    });
    return this.running;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.batchDone?.resolve();
    this.batchDone = undefined;
    this.watch?.dispose();
  }
}
