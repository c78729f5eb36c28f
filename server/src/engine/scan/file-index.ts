// The file index: one listing per folder, built by a walk that honours nested .gitignore files and the
// default ignores, and refreshed folder by folder when files change. File contents are read on demand through
// WorkspaceFiles (inside the real root, regular files only, capped), and cached until the file is reported changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
// `ignore` implements the full gitignore grammar (negation, anchoring, directory-only rules); it is what eslint uses.
import ignore, { type Ignore } from 'ignore';
import type { Problem } from '../../protocol';
import { DEFAULT_IGNORED_DIRS, DEFAULT_MAX_FILE_BYTES } from './default-ignores';
import { notRegularFile, utf8, WorkspaceFileError, WorkspaceFiles } from './workspace-files';

/** gitignore rules of one folder, matched against paths relative to that folder. */
interface IgnoreScope {
  base: string;
  rules: Ignore;
}

export interface FolderListing {
  /** Folder relative to the root, posix, '.' for the root. */
  dir: string;
  files: string[];
  subdirs: string[];
  /** The ignore scopes in force inside this folder, outermost first (shared arrays, never mutated). */
  scopes: readonly IgnoreScope[];
}

export interface ReadResult {
  text?: string;
  /** True when the file was larger than the cap and only its head was read. */
  truncated: boolean;
  size: number;
  /** An errno code, or a refusal code of WorkspaceFiles (outside-workspace, not-a-regular-file). */
  error?: string;
}

export interface FileIndexOptions {
  extraIgnores?: string[];
  maxFileBytes?: number;
}

export function joinRel(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

export function parentRel(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '.' : rel.slice(0, i);
}

export class FileIndex {
  readonly root: string;
  readonly maxFileBytes: number;
  readonly files: WorkspaceFiles;
  private readonly folders = new Map<string, FolderListing>();
  private readonly contents = new Map<string, ReadResult>();
  private readonly rootScopes: readonly IgnoreScope[];
  private tracker: Set<string> | undefined;
  problems: Problem[] = [];
  fileCount = 0;

  constructor(root: string, options: FileIndexOptions = {}) {
    this.root = path.resolve(root);
    this.files = new WorkspaceFiles(this.root);
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.rootScopes = options.extraIgnores?.length ? [{ base: '.', rules: ignore().add(options.extraIgnores) }] : [];
  }

  /** Walks the whole tree. Returns the number of folders listed. */
  build(): number {
    this.reset();
    this.walk('.', this.rootScopes);
    return this.folders.size;
  }

  /**
   * The same walk as build(), handing the event loop a turn every `chunk` folders so work started before it (the
   * tree-sitter grammars compiling on V8's background threads) progresses meanwhile. `onFolder` sees each listing.
   */
  async buildInterleaved(onFolder: (listing: FolderListing) => void, chunk = 200): Promise<number> {
    this.reset();
    let since = 0;
    for (const listing of this.listings('.', this.rootScopes)) {
      onFolder(listing);
      if (++since >= chunk) {
        since = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return this.folders.size;
  }

  private reset(): void {
    this.folders.clear();
    this.contents.clear();
    this.problems = [];
    this.fileCount = 0;
  }

  folder(dir: string): FolderListing | undefined {
    this.tracker?.add(`dir:${dir}`);
    return this.folders.get(dir);
  }

  /**
   * Runs `fn` and returns what it looked at: files read (`path`) and folder listings consulted (`dir:path`).
   * The analyzer re-runs a folder's detection only when one of these changes.
   */
  track<T>(fn: () => T): { result: T; reads: Set<string> } {
    const outer = this.tracker;
    const reads = new Set<string>();
    this.tracker = reads;
    try {
      return { result: fn(), reads };
    } finally {
      this.tracker = outer;
      if (outer) for (const r of reads) outer.add(r);
    }
  }

  allFolders(): IterableIterator<FolderListing> {
    return this.folders.values();
  }

  get folderCount(): number {
    return this.folders.size;
  }

  abs(rel: string): string {
    return rel === '.' ? this.root : path.join(this.root, rel);
  }

  /** Root-relative posix path for an absolute or relative input; undefined when it lies outside the root. */
  relative(p: string): string | undefined {
    const abs = path.isAbsolute(p) ? path.normalize(p) : path.join(this.root, p);
    const rel = path.relative(this.root, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    return rel === '' ? '.' : rel.split(path.sep).join('/');
  }

  /** True when gitignore rules in force in `dir` exclude `name` (a file or, with isDir, a folder). */
  isIgnored(listing: FolderListing, name: string, isDir = false): boolean {
    const rel = joinRel(listing.dir, name);
    // As in git, the deepest .gitignore with an opinion (a match or a `!` re-include) decides.
    for (let i = listing.scopes.length - 1; i >= 0; i--) {
      const scope = listing.scopes[i];
      const sub = scope.base === '.' ? rel : rel.slice(scope.base.length + 1);
      const verdict = scope.rules.test(isDir ? `${sub}/` : sub);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }

  /**
   * Capped read of a root-relative file; cached until `invalidate`. `label` names the file in a refusal the first
   * time it is read ("env_file ../x.env of service api").
   */
  read(rel: string, label = rel): ReadResult {
    this.tracker?.add(rel);
    const cached = this.contents.get(rel);
    if (cached) return cached;
    const { result, refusal } = this.readUncached(rel, label);
    this.contents.set(rel, result);
    if (refusal) {
      this.report({ severity: 'warning', code: refusal.code, file: rel, message: refusal.message });
      return result;
    }
    if (result.truncated && !this.problems.some((p) => p.code === 'file-too-large' && p.file === rel)) {
      this.problems.push({
        severity: 'warning',
        code: 'file-too-large',
        file: rel,
        message: `${rel} is ${Math.round(result.size / 1024)} KiB; only its first ${Math.round(this.maxFileBytes / 1024)} KiB were read. Facts further down are not seen.`,
      });
    }
    if (result.error && result.error !== 'ENOENT') {
      this.problems.push({
        severity: 'warning',
        code: 'unreadable',
        file: rel,
        message: `Cannot read ${rel} (${result.error}); check its permissions.`,
      });
    }
    return result;
  }

  /**
   * The refusal when the real path of `rel` (a folder or file Kyozo would hand to the engine) leaves the workspace;
   * undefined when it stays inside or does not exist.
   */
  escapes(rel: string, label: string): WorkspaceFileError | undefined {
    this.tracker?.add(rel);
    try {
      this.files.resolve(rel, label);
      return undefined;
    } catch (err) {
      return err instanceof WorkspaceFileError ? err : undefined;
    }
  }

  /** True when the file's content was read (and is cached) since it last changed. */
  wasRead(rel: string): boolean {
    return this.contents.has(rel);
  }

  invalidate(rel: string): void {
    this.contents.delete(rel);
  }

  /**
   * Re-lists one folder after a change inside it. New subfolders are walked; vanished ones are dropped with
   * everything below them. With `deep` (a .gitignore changed) the whole subtree is walked again.
   * Returns the folders added and removed (root-relative).
   */
  refresh(dir: string, deep = false): { added: string[]; removed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const before = this.folders.get(dir);
    const scopes = this.scopesFor(dir);
    if (scopes === undefined || !fs.existsSync(this.abs(dir))) {
      if (before) this.dropSubtree(dir, removed);
      return { added, removed };
    }
    if (deep || !before) {
      if (before) this.dropSubtree(dir, removed);
      this.walk(dir, scopes, added);
      this.linkIntoParent(dir);
      return { added, removed };
    }
    this.fileCount -= before.files.length;
    this.folders.delete(dir);
    this.problems = this.problems.filter((p) => p.file === undefined || parentRel(p.file) !== dir);
    const listing = this.listOne(dir, scopes);
    if (!listing) return { added, removed };
    const old = new Set(before.subdirs);
    for (const sub of listing.subdirs) {
      if (old.delete(sub) && this.folders.has(joinRel(dir, sub))) continue;
      this.walk(joinRel(dir, sub), listing.scopes, added);
    }
    for (const gone of old) this.dropSubtree(joinRel(dir, gone), removed);
    return { added, removed };
  }

  // ── internals ──

  private walk(start: string, startScopes: readonly IgnoreScope[], added?: string[]): void {
    for (const listing of this.listings(start, startScopes)) added?.push(listing.dir);
  }

  /** Lists `start` and every folder below it that is not ignored, depth first, indexing each as it goes. */
  private *listings(start: string, startScopes: readonly IgnoreScope[]): Generator<FolderListing> {
    const stack: [string, readonly IgnoreScope[]][] = [[start, startScopes]];
    while (stack.length) {
      const [dir, scopes] = stack.pop()!;
      const listing = this.listOne(dir, scopes);
      if (!listing) continue;
      yield listing;
      for (let i = listing.subdirs.length - 1; i >= 0; i--)
        stack.push([joinRel(dir, listing.subdirs[i]), listing.scopes]);
    }
  }

  private listOne(dir: string, inherited: readonly IgnoreScope[]): FolderListing | undefined {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.abs(dir), { withFileTypes: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.problems.push({
        severity: 'warning',
        code: 'unreadable',
        file: dir,
        message: `Cannot read folder ${dir} (${e.code ?? e.message}); it was skipped. Check its permissions.`,
      });
      return undefined;
    }
    const files: string[] = [];
    const subdirs: string[] = [];
    const special: fs.Dirent[] = [];
    let gitignore = false;
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory()) {
        if (!DEFAULT_IGNORED_DIRS.has(name)) subdirs.push(name);
      } else if (entry.isFile()) {
        files.push(name);
        if (name === '.gitignore') gitignore = true;
      } else if (entry.isSymbolicLink()) {
        this.classifySymlink(dir, name, files);
      } else {
        special.push(entry);
      }
    }
    if (files.includes('pyvenv.cfg')) return undefined; // a Python virtual environment, whatever its name
    let scopes = inherited;
    if (gitignore) {
      this.invalidate(joinRel(dir, '.gitignore'));
      const text = this.read(joinRel(dir, '.gitignore')).text;
      if (text) scopes = [...inherited, { base: dir, rules: ignore().add(text) }];
    }
    files.sort();
    subdirs.sort();
    const listing: FolderListing = { dir, files, subdirs: [], scopes };
    // Ignore rules decide which folders are walked; files are checked when a detector asks for them.
    for (const sub of subdirs) if (!this.isIgnored(listing, sub, true)) listing.subdirs.push(sub);
    // A FIFO, socket or device is never listed (a read would block or never end); it is reported, as one named like a
    // manifest or an env_file would otherwise be missing from the analysis without a word.
    for (const entry of special) {
      if (this.isIgnored(listing, entry.name)) continue;
      const rel = joinRel(dir, entry.name);
      const refusal = notRegularFile(rel, rel, entry);
      this.report({ severity: 'warning', code: refusal.code, file: rel, message: refusal.message });
    }
    this.folders.set(dir, listing);
    this.fileCount += files.length;
    return listing;
  }

  private classifySymlink(dir: string, name: string, files: string[]): void {
    const rel = joinRel(dir, name);
    const abs = this.abs(rel);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        this.problems.push({
          severity: 'warning',
          code: 'symlink-loop',
          file: rel,
          message: `Symbolic link ${rel} loops back on itself; it was skipped.`,
        });
      }
      return; // dangling links are not worth a problem
    }
    if (!stat.isDirectory()) {
      // Listed whatever it points to: a read decides (inside the real root, a regular file), and names the link if not.
      files.push(name);
      return;
    }
    // Linked folders are not followed (they would list the same files twice); a link to one of its own
    // ancestors is reported, since it makes naive tools loop forever.
    const target = fs.realpathSync(abs);
    const here = fs.realpathSync(this.abs(dir));
    if (here === target || here.startsWith(target + path.sep)) {
      this.problems.push({
        severity: 'warning',
        code: 'symlink-loop',
        file: rel,
        message: `Symbolic link ${rel} points to its own ancestor ${target}; it was not followed.`,
      });
    }
  }

  /** One buffer for every read (cap + 1 bytes, so a read that fills it tells the file is over the cap). */
  private scratch: Buffer | undefined;

  private readUncached(rel: string, label: string): { result: ReadResult; refusal?: WorkspaceFileError } {
    try {
      const scratch = (this.scratch ??= Buffer.allocUnsafe(this.maxFileBytes + 1));
      const { bytes, truncated, size } = this.files.read(rel, this.maxFileBytes, label, scratch);
      return { result: { text: utf8(bytes), truncated, size } };
    } catch (err) {
      if (err instanceof WorkspaceFileError) {
        return { result: { truncated: false, size: 0, error: err.code }, refusal: err };
      }
      const e = err as NodeJS.ErrnoException;
      return { result: { truncated: false, size: 0, error: e.code ?? e.message } };
    }
  }

  /** Adds a problem about a file once, however often the file is listed or read. */
  private report(problem: Problem): void {
    if (!this.problems.some((p) => p.code === problem.code && p.file === problem.file)) this.problems.push(problem);
  }

  /** Scopes inherited by `dir` from its parent; undefined when the parent is not indexed or ignores it. */
  private scopesFor(dir: string): readonly IgnoreScope[] | undefined {
    if (dir === '.') return this.rootScopes;
    const parent = this.folders.get(parentRel(dir));
    if (!parent) return undefined;
    const name = dir.slice(dir.lastIndexOf('/') + 1);
    if (DEFAULT_IGNORED_DIRS.has(name) || this.isIgnored(parent, name, true)) return undefined;
    return parent.scopes;
  }

  private linkIntoParent(dir: string): void {
    if (dir === '.' || !this.folders.has(dir)) return;
    const parent = this.folders.get(parentRel(dir));
    const name = dir.slice(dir.lastIndexOf('/') + 1);
    if (parent && !parent.subdirs.includes(name)) {
      parent.subdirs.push(name);
      parent.subdirs.sort();
    }
  }

  private dropSubtree(dir: string, removed: string[]): void {
    const prefix = dir === '.' ? '' : `${dir}/`;
    for (const [key, listing] of this.folders) {
      if (key === dir || (prefix && key.startsWith(prefix)) || dir === '.') {
        this.fileCount -= listing.files.length;
        this.folders.delete(key);
        removed.push(key);
      }
    }
    for (const key of this.contents.keys()) if (dir === '.' || key.startsWith(prefix)) this.contents.delete(key);
    const parent = this.folders.get(parentRel(dir));
    if (parent && dir !== '.') {
      const name = dir.slice(dir.lastIndexOf('/') + 1);
      parent.subdirs = parent.subdirs.filter((s) => s !== name);
    }
  }
}
