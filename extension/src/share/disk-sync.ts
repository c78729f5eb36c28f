// On the host, keeps the workspace folder on disk and the room's document together for files no editor has open
// (an open file's document is bound to its Y.Text instead, and VS Code reloads it when the disk changes):
// - a peer's edit, create, rename or delete reaches disk (a text file written atomically, after a short pause so a
//   burst of keystrokes is one write);
// - a change made on disk by another tool (git checkout, a formatter) comes into the Y.Text as a minimal diff.
//
// Both can happen at once: a peer types while a formatter rewrites the file from the text it read. So for each file
// the last text known to be on disk is kept (`base`), with the Y.Text changes made since (`pending`, not yet
// written). A disk change is diff(base, disk); it is transformed past `pending` before it is applied, so neither
// side's edit is lost, and the merged text is written back. Plain Node (chokidar watches the folder).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import * as Y from 'yjs';
import {
  confinedPath,
  HostFileError,
  HostIgnore,
  readHostFile,
  TEMP_SUFFIX,
  writeHostFile,
  type HostFile,
} from './host-files';
import { Delta, diffDelta, fromYDelta } from './text-delta';
import { isNormalSharePath, type TreeChange, type WorkspaceDoc } from './workspace-doc';

export interface DiskSyncOptions {
  root: string;
  workspace: WorkspaceDoc;
  /** The `kyozo.ignore` patterns. */
  ignore?: readonly string[];
  /** Files open in an editor of the host; their binding carries edits both ways. */
  isOpen?: (path: string) => boolean;
  /** A file is written this long after the last remote edit to it (default 50 ms). */
  writeDelayMs?: number;
  /** Watch the folder (default true). */
  watch?: boolean;
  onProblem?: (message: string) => void;
}

export class DiskSync {
  /** The transaction origin of changes this object makes to the document (from disk). */
  readonly origin = { diskSync: true };
  readonly stats = { written: 0, fromDisk: 0, merged: 0 };
  private readonly root: string;
  private readonly ig: HostIgnore;
  private readonly base = new Map<string, string>();
  private readonly pending = new Map<string, Delta>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly idToPath = new Map<string, string>();
  private watcher: FSWatcher | null = null;
  private readonly stopTree: () => void;
  private disposed = false;
  private readonly onTexts = (events: Y.YEvent<Y.AbstractType<unknown>>[], tx: Y.Transaction) => {
    if (tx.origin === this.origin) return;
    for (const e of events) {
      if (!(e.target instanceof Y.Text) || e.path.length !== 1) continue;
      const p = this.idToPath.get(String(e.path[0]));
      if (!p || this.paused(p)) continue;
      this.pending.set(p, (this.pending.get(p) ?? new Delta()).compose(fromYDelta(e.delta as { insert?: unknown }[])));
      this.schedule(p);
    }
  };

  constructor(private readonly opts: DiskSyncOptions) {
    this.root = fs.realpathSync.native(opts.root);
    this.ig = new HostIgnore(this.root, opts.ignore);
    const w = opts.workspace;
    for (const { path: p, entry } of w.list()) {
      if (!entry.text) continue;
      this.idToPath.set(entry.text, p);
    }
    this.stopTree = w.onTreeChange((changes, origin) => this.onTree(changes, origin));
    w.texts.observeDeep(this.onTexts);
  }

  /**
   * Takes what is on disk as the base of every shared file, writes the files whose text differs (edits made while
   * the host was away), and starts watching. Resolves once the watcher is ready.
   */
  async start(): Promise<void> {
    for (const p of this.idToPath.values()) this.rebase(p);
    if (this.opts.watch === false) return;
    const watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (abs: string, stats?: fs.Stats) => {
        const rel = this.rel(abs);
        if (rel === undefined) return false; // the root itself
        if (rel === null) return true;
        return this.ig.ignores(rel, stats?.isDirectory() ?? false);
      },
    });
    this.watcher = watcher;
    watcher.on('add', (abs) => this.fromDisk(abs));
    watcher.on('change', (abs) => this.fromDisk(abs));
    watcher.on('unlink', (abs) => this.goneFromDisk(abs));
    watcher.on('addDir', (abs) => this.dirOnDisk(abs));
    watcher.on('unlinkDir', (abs) => this.goneFromDisk(abs));
    watcher.on('error', (err) => this.problem(`watching the workspace folder failed: ${(err as Error).message}`));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /** A file was opened in an editor: its binding takes over. */
  pause(p: string): void {
    const t = this.timers.get(p);
    if (t) clearTimeout(t);
    this.timers.delete(p);
    this.pending.delete(p);
  }

  /** A file's editor closed: what is on disk becomes its base again, and the text is written if it differs. */
  resume(p: string): void {
    this.rebase(p);
  }

  /** Writes every file with edits not yet on disk, now. */
  flush(): void {
    for (const [p, t] of [...this.timers]) {
      clearTimeout(t);
      this.timers.delete(p);
      this.write(p);
    }
  }

  /** Reads a file from disk now and merges it (what the watcher does on a change). */
  sync(p: string): void {
    this.fromDisk(path.join(this.root, p));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.flush();
    this.stopTree();
    this.opts.workspace.texts.unobserveDeep(this.onTexts);
    await this.watcher?.close();
  }

  private paused(p: string): boolean {
    return this.opts.isOpen?.(p) ?? false;
  }

  private problem(message: string): void {
    this.opts.onProblem?.(message);
  }

  /** Root-relative shared path of an absolute one; undefined for the root, null for a path that cannot be shared. */
  private rel(abs: string): string | undefined | null {
    const rel = path.relative(this.root, abs);
    if (rel === '') return undefined;
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    const p = rel.split(path.sep).join('/');
    if (p.endsWith(TEMP_SUFFIX)) return null;
    return isNormalSharePath(p) ? p : null;
  }

  private rebase(p: string): void {
    const t = this.opts.workspace.textOf(p);
    if (!t) return;
    let disk: HostFile | undefined;
    try {
      disk = readHostFile(this.root, p, { ignore: this.ig });
    } catch (e) {
      if (!(e instanceof HostFileError && e.reason === 'missing')) {
        this.problem(`${p}: ${(e as Error).message}`);
        return;
      }
    }
    if (disk && disk.text === undefined) return; // binary or too large on disk now: left as it is
    const onDisk = disk?.text ?? '';
    this.base.set(p, onDisk);
    const text = t.toString();
    if (text === onDisk && disk) {
      this.pending.delete(p);
      return;
    }
    this.pending.set(p, diffDelta(onDisk, text));
    this.schedule(p);
  }

  private schedule(p: string): void {
    if (this.disposed || this.timers.has(p)) return;
    this.timers.set(
      p,
      setTimeout(() => {
        this.timers.delete(p);
        this.write(p);
      }, this.opts.writeDelayMs ?? 50),
    );
  }

  private write(p: string): void {
    if (this.paused(p)) return;
    const w = this.opts.workspace;
    const t = w.textOf(p);
    if (!t) return;
    try {
      // A tool may have written the file since it was last read: merge that first, so the write does not undo it.
      this.fromDisk(path.join(this.root, p), true);
      const text = t.toString();
      writeHostFile(this.root, p, text, { bom: w.entry(p)?.bom });
      this.base.set(p, text);
      this.pending.delete(p);
      this.stats.written++;
    } catch (e) {
      this.problem(`could not write ${p}: ${(e as Error).message}`);
    }
  }

  private fromDisk(abs: string, beforeWrite = false): void {
    const p = this.rel(abs);
    if (!p || this.disposed || this.paused(p)) return;
    if (path.basename(p) === '.gitignore')
      this.ig.invalidate(path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p));
    const w = this.opts.workspace;
    let f: HostFile;
    try {
      f = readHostFile(this.root, p, { ignore: this.ig });
    } catch (e) {
      if (e instanceof HostFileError && (e.reason === 'missing' || e.reason === 'ignored')) return;
      this.problem(`${p}: ${(e as Error).message}`);
      return;
    }
    if (f.kind === 'directory') return;
    const entry = w.entry(p);
    const t = w.textOf(p);
    if (f.text === undefined) {
      // Now binary, too large or a link outside: listed with the reason, its text no longer shared.
      if (!entry || !entry.excluded || entry.excluded.reason !== f.excluded?.reason)
        this.inDoc(() => w.createFile(p, { excluded: f.excluded, size: f.size, overwrite: true }));
      this.base.delete(p);
      this.pending.delete(p);
      return;
    }
    if (!entry || (!t && entry.kind === 'file')) {
      this.inDoc(() => w.createFile(p, { text: f.text, bom: f.bom, overwrite: !!entry }));
      this.base.set(p, f.text);
      this.stats.fromDisk++;
      return;
    }
    if (!t) return;
    const disk = f.text;
    const base = this.base.get(p);
    if (disk === base) return; // unchanged (or the echo of this object's own write)
    const changed = diffDelta(base ?? t.toString(), disk);
    const pending = base === undefined ? new Delta() : (this.pending.get(p) ?? new Delta());
    this.base.set(p, disk);
    this.stats.fromDisk++;
    if (pending.ops.length === 0) {
      this.inDoc(() => t.applyDelta(changed.ops));
      return;
    }
    // Edits from the room not on disk yet: the room's go first at equal offsets, as in the editor binding.
    this.stats.merged++;
    this.inDoc(() => t.applyDelta(pending.transform(changed, true).ops));
    this.pending.set(p, changed.transform(pending, false));
    if (!beforeWrite) this.schedule(p);
  }

  private goneFromDisk(abs: string): void {
    const p = this.rel(abs);
    if (!p || this.disposed || this.paused(p)) return;
    if (fs.existsSync(abs)) return; // replaced at once (an atomic save): the 'add' or 'change' carries it
    const w = this.opts.workspace;
    if (!w.entry(p)) return;
    this.inDoc(() => w.delete(p, { recursive: true }));
    this.forget(p);
  }

  private dirOnDisk(abs: string): void {
    const p = this.rel(abs);
    if (!p || this.disposed) return;
    const w = this.opts.workspace;
    if (!w.entry(p)) this.inDoc(() => w.createDirectory(p));
  }

  private inDoc(fn: () => void): void {
    this.opts.workspace.doc.transact(fn, this.origin);
  }

  private forget(p: string): void {
    for (const k of [...this.base.keys()]) if (k === p || k.startsWith(`${p}/`)) this.base.delete(k);
    for (const k of [...this.pending.keys()]) if (k === p || k.startsWith(`${p}/`)) this.pending.delete(k);
  }

  /** The tree as the room changed it: the same change on disk (confined to the folder), for files not open. */
  private onTree(changes: TreeChange[], origin: unknown): void {
    for (const c of changes) {
      if (c.type !== 'deleted' && c.entry.text) this.idToPath.set(c.entry.text, c.type === 'renamed' ? c.to : c.path);
    }
    if (origin === this.origin || this.disposed) return;
    for (const c of changes) {
      try {
        if (c.type === 'created') {
          if (c.entry.kind === 'directory') fs.mkdirSync(confinedPath(this.root, c.path), { recursive: true });
          else if (c.entry.text && !fs.existsSync(confinedPath(this.root, c.path))) {
            this.pending.set(c.path, new Delta());
            this.write(c.path);
          }
        } else if (c.type === 'deleted') {
          const abs = confinedPath(this.root, c.path);
          fs.rmSync(abs, { recursive: c.entry.kind === 'directory', force: true });
          this.forget(c.path);
        } else if (c.type === 'renamed') {
          const from = confinedPath(this.root, c.from);
          const to = confinedPath(this.root, c.to);
          if (fs.existsSync(from)) {
            fs.mkdirSync(path.dirname(to), { recursive: true });
            fs.renameSync(from, to);
          }
          this.moveState(c.from, c.to);
          if (c.entry.text) this.rebase(c.to);
        }
      } catch (e) {
        this.problem(
          `could not apply the room's change to disk (${c.type} ${'path' in c ? c.path : c.from}): ${(e as Error).message}`,
        );
      }
    }
  }

  private moveState(from: string, to: string): void {
    for (const m of [this.base, this.pending] as Map<string, unknown>[]) {
      for (const [k, v] of [...m]) {
        if (k !== from && !k.startsWith(`${from}/`)) continue;
        m.delete(k);
        m.set(to + k.slice(from.length), v);
      }
    }
  }
}
