// The layout of a shared workspace in its room's Y.Doc, and the tree operations on it. Plain Yjs, no editor API, so
// the host, the guest's file system and Node's tests all use the same code.
//
//   kyozo.meta   Y.Map   layout -> 1
//   kyozo.files  Y.Map   path -> FileEntry (a plain object, replaced as a whole)
//   kyozo.texts  Y.Map   text id -> Y.Text (one per shared text file)
//
// A path is relative, '/'-separated and normalised (no '', '.', '..' segments, no leading '/', no drive letter, no
// backslash, no NUL). A file's text lives under an id of its own rather than under its path, so a rename moves the
// entry and keeps the Y.Text, with every edit and every peer's cursor in it. Entries arrive from peers, so everything
// read from the maps is checked again: an entry with a bad path or shape is skipped and reported, never used.
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { diffDelta } from './text-delta';

export const LAYOUT_VERSION = 1;

/** Why a file of the host is listed but its contents are not shared. */
export type ExclusionReason =
  | 'binary'
  | 'too-large'
  | 'outside-workspace'
  | 'linked-folder'
  | 'broken-link'
  | 'not-a-regular-file'
  | 'unreadable'
  | 'unsupported-name'
  | 'limit';

export interface FileEntry {
  kind: 'file' | 'directory';
  /** Bytes on the host when listed; for a shared text file, see WorkspaceDoc.size. */
  size: number;
  /** The id of the file's Y.Text in kyozo.texts; absent for folders and excluded files. */
  text?: string;
  /** Set when the file is listed but not shared. */
  excluded?: { reason: ExclusionReason; detail: string };
  /** The file on the host starts with a UTF-8 byte-order mark, which the text leaves out and disk writes restore. */
  bom?: boolean;
}

export type TreeChange =
  | { type: 'created'; path: string; entry: FileEntry }
  | { type: 'deleted'; path: string; entry: FileEntry }
  | { type: 'renamed'; from: string; to: string; entry: FileEntry }
  | { type: 'changed'; path: string; entry: FileEntry };

export class SharePathError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'SharePathError';
  }
}

export class ShareTreeError extends Error {
  constructor(
    readonly code: 'exists' | 'not-found' | 'not-a-directory' | 'is-a-directory' | 'not-empty' | 'not-shared',
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShareTreeError';
  }
}

const MAX_PATH = 4096;
const MAX_SEGMENT = 255;

/**
 * The normal form of a workspace-relative path: '/'-separated, without empty or '.' segments. Refuses an absolute
 * path, a drive letter, '..', a backslash or a NUL with a message that names the path.
 */
export function normalizeSharePath(p: string): string {
  const shown = JSON.stringify(String(p).slice(0, 200));
  if (typeof p !== 'string' || p.length === 0) throw new SharePathError(String(p), 'A shared path cannot be empty.');
  if (p.length > MAX_PATH) throw new SharePathError(p, `The path ${shown}... is over ${MAX_PATH} characters.`);
  if (p.includes('\0')) throw new SharePathError(p, `The path ${shown} contains a NUL character.`);
  if (p.includes('\\'))
    throw new SharePathError(p, `The path ${shown} contains a backslash; shared paths use '/' between folders.`);
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p))
    throw new SharePathError(p, `The path ${shown} is absolute; give it relative to the workspace folder.`);
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw new SharePathError(p, `The path ${shown} leaves the workspace folder ('..').`);
    if (seg.length > MAX_SEGMENT) throw new SharePathError(p, `A name in ${shown} is over ${MAX_SEGMENT} characters.`);
    parts.push(seg);
  }
  if (parts.length === 0) throw new SharePathError(p, `The path ${shown} names the workspace folder itself.`);
  return parts.join('/');
}

/** True when `p` is a path in normal form (what every key of kyozo.files must be). */
export function isNormalSharePath(p: unknown): p is string {
  if (typeof p !== 'string') return false;
  try {
    return normalizeSharePath(p) === p;
  } catch {
    return false;
  }
}

export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

const REASONS = new Set<string>([
  'binary',
  'too-large',
  'outside-workspace',
  'linked-folder',
  'broken-link',
  'not-a-regular-file',
  'unreadable',
  'unsupported-name',
  'limit',
]);

/** The entry if `v` has the shape of one (it may come from a peer), else undefined. */
function checkEntry(v: unknown): FileEntry | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const e = v as Record<string, unknown>;
  if (e.kind !== 'file' && e.kind !== 'directory') return undefined;
  if (typeof e.size !== 'number' || !Number.isFinite(e.size) || e.size < 0) return undefined;
  if (e.text !== undefined && (typeof e.text !== 'string' || e.kind !== 'file')) return undefined;
  if (e.excluded !== undefined) {
    const x = e.excluded as Record<string, unknown> | null;
    if (!x || typeof x !== 'object' || !REASONS.has(x.reason as string) || typeof x.detail !== 'string')
      return undefined;
  }
  if (e.bom !== undefined && typeof e.bom !== 'boolean') return undefined;
  return v as FileEntry;
}

export interface CreateFileOptions {
  /** The file's text; a new shared file gets a Y.Text holding it. */
  text?: string;
  /** List the file without sharing it. */
  excluded?: FileEntry['excluded'];
  size?: number;
  bom?: boolean;
  /** 'directory' for a folder listed but not shared (a linked folder); only with `excluded`. */
  kind?: 'file' | 'directory';
  /** Replace an existing file at the path (its text is dropped unless another entry names it). */
  overwrite?: boolean;
}

export class WorkspaceDoc {
  readonly files: Y.Map<FileEntry>;
  readonly texts: Y.Map<Y.Text>;
  readonly meta: Y.Map<unknown>;
  /** Entries skipped because a peer wrote them in a shape or under a path this layout does not allow. */
  readonly problems: string[] = [];

  constructor(
    readonly doc: Y.Doc,
    /** The transaction origin of this object's own tree operations. */
    readonly origin: unknown = null,
  ) {
    this.files = doc.getMap<FileEntry>('kyozo.files');
    this.texts = doc.getMap<Y.Text>('kyozo.texts');
    this.meta = doc.getMap('kyozo.meta');
  }

  /** Marks the document with this layout's version (the host does it once, when it shares). */
  initLayout(): void {
    if (this.meta.get('layout') === undefined)
      this.doc.transact(() => this.meta.set('layout', LAYOUT_VERSION), this.origin);
  }

  /** The layout version the document says it holds; a guest refuses one it does not know. */
  layoutVersion(): number | undefined {
    const v = this.meta.get('layout');
    return typeof v === 'number' ? v : undefined;
  }

  entry(p: string): FileEntry | undefined {
    const key = normalizeSharePath(p);
    return checkEntry(this.files.get(key));
  }

  /** Every valid entry, sorted by path; bad ones are skipped and noted in `problems`. */
  list(): { path: string; entry: FileEntry }[] {
    const out: { path: string; entry: FileEntry }[] = [];
    for (const [key, value] of this.files.entries()) {
      const entry = checkEntry(value);
      if (!isNormalSharePath(key) || !entry) {
        this.note(`skipped the entry ${JSON.stringify(key.slice(0, 200))}: not a valid path or entry`);
        continue;
      }
      out.push({ path: key, entry });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The direct children of a folder ('' for the workspace root). */
  children(dir: string): { name: string; entry: FileEntry }[] {
    const prefix = dir === '' ? '' : `${normalizeSharePath(dir)}/`;
    const out: { name: string; entry: FileEntry }[] = [];
    for (const { path, entry } of this.list()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      if (rest.includes('/')) continue;
      out.push({ name: rest, entry });
    }
    return out;
  }

  /** The Y.Text of a shared text file, or undefined (folder, excluded file, no such path). */
  textOf(p: string): Y.Text | undefined {
    const e = this.entry(p);
    if (!e?.text) return undefined;
    const t = this.texts.get(e.text);
    return t instanceof Y.Text ? t : undefined;
  }

  /** The size of a file in UTF-8 bytes: from its text when shared, else as listed. */
  size(p: string): number {
    const e = this.entry(p);
    if (!e) throw this.notFound(normalizeSharePath(p));
    const t = e.text ? this.texts.get(e.text) : undefined;
    return t instanceof Y.Text ? Buffer.byteLength(t.toString(), 'utf8') + (e.bom ? 3 : 0) : e.size;
  }

  /** Creates (or with `overwrite`, replaces) a file, and the folders above it that are missing. */
  createFile(p: string, opts: CreateFileOptions = {}): FileEntry {
    const key = normalizeSharePath(p);
    let entry!: FileEntry;
    this.doc.transact(() => {
      const old = checkEntry(this.files.get(key));
      if (old?.kind === 'directory')
        throw new ShareTreeError('is-a-directory', key, `${key} is a folder; a file cannot replace it.`);
      if (old && !opts.overwrite) throw new ShareTreeError('exists', key, `${key} already exists.`);
      this.ensureParents(key);
      entry = { kind: opts.excluded && opts.kind === 'directory' ? 'directory' : 'file', size: opts.size ?? 0 };
      if (opts.excluded) entry.excluded = opts.excluded;
      else {
        const id = randomUUID();
        const text = new Y.Text();
        this.texts.set(id, text);
        if (opts.text) text.insert(0, opts.text);
        entry.text = id;
        entry.size = opts.size ?? Buffer.byteLength(opts.text ?? '', 'utf8');
      }
      if (opts.bom) entry.bom = true;
      this.files.set(key, entry);
      if (old?.text) this.dropTextIfUnused(old.text);
    }, this.origin);
    return entry;
  }

  createDirectory(p: string): void {
    const key = normalizeSharePath(p);
    this.doc.transact(() => {
      const old = checkEntry(this.files.get(key));
      if (old) throw new ShareTreeError('exists', key, `${key} already exists.`);
      this.ensureParents(key);
      this.files.set(key, { kind: 'directory', size: 0 });
    }, this.origin);
  }

  /**
   * Moves a file or a folder (with everything under it) in one transaction. The entries move; their Y.Texts stay, so
   * edits made concurrently to a renamed file land in it under its new name.
   */
  rename(from: string, to: string, opts: { overwrite?: boolean } = {}): void {
    const src = normalizeSharePath(from);
    const dst = normalizeSharePath(to);
    if (src === dst) return;
    if (dst.startsWith(`${src}/`))
      throw new SharePathError(to, `Cannot move ${src} into itself (${dst}); choose a path outside it.`);
    this.doc.transact(() => {
      const entry = checkEntry(this.files.get(src));
      if (!entry) throw this.notFound(src);
      const target = checkEntry(this.files.get(dst));
      if (target && !opts.overwrite) throw new ShareTreeError('exists', dst, `${dst} already exists.`);
      if (target?.kind === 'directory' && this.hasChildren(dst))
        throw new ShareTreeError('not-empty', dst, `${dst} is a folder that is not empty.`);
      if (target) this.remove(dst);
      this.ensureParents(dst);
      const moves: [string, FileEntry][] = [[src, entry]];
      if (entry.kind === 'directory') {
        for (const { path, entry: e } of this.list()) if (path.startsWith(`${src}/`)) moves.push([path, e]);
      }
      for (const [path] of moves) this.files.delete(path);
      for (const [path, e] of moves) this.files.set(dst + path.slice(src.length), e);
    }, this.origin);
  }

  /** Deletes a file, or a folder and everything under it (`recursive`); texts no entry names any more go too. */
  delete(p: string, opts: { recursive?: boolean } = {}): void {
    const key = normalizeSharePath(p);
    this.doc.transact(() => {
      const entry = checkEntry(this.files.get(key));
      if (!entry) throw this.notFound(key);
      if (entry.kind === 'directory' && !opts.recursive && this.hasChildren(key))
        throw new ShareTreeError('not-empty', key, `${key} is a folder that is not empty.`);
      this.remove(key);
    }, this.origin);
  }

  /** Replaces the text of a shared file by a minimal diff (a whole new content read from disk, say). */
  setText(p: string, text: string, origin: unknown = this.origin): void {
    const t = this.textOf(p);
    if (!t) throw new ShareTreeError('not-shared', normalizeSharePath(p), `${p} is not a shared text file.`);
    const delta = diffDelta(t.toString(), text);
    if (delta.ops.length) this.doc.transact(() => t.applyDelta(delta.ops), origin);
  }

  /**
   * Calls `fn` with the tree changes of each transaction: a delete and an add of the same text id in one transaction
   * is a rename. `origin` is the transaction's, so a caller can tell its own operations from a peer's.
   */
  onTreeChange(fn: (changes: TreeChange[], origin: unknown) => void): () => void {
    const handler = (event: Y.YMapEvent<FileEntry>, tx: Y.Transaction) => {
      const added = new Map<string, FileEntry>();
      const deleted = new Map<string, FileEntry>();
      const changes: TreeChange[] = [];
      for (const [key, change] of event.changes.keys) {
        const now = checkEntry(this.files.get(key));
        const before = checkEntry(change.oldValue);
        if (!isNormalSharePath(key)) {
          this.note(`ignored a change to ${JSON.stringify(String(key).slice(0, 200))}: not a valid path`);
          continue;
        }
        if (change.action === 'add' && now) added.set(key, now);
        else if (change.action === 'delete' && before) deleted.set(key, before);
        else if (change.action === 'update' && now) changes.push({ type: 'changed', path: key, entry: now });
      }
      const byText = new Map<string, string>();
      for (const [path, e] of deleted) if (e.text) byText.set(e.text, path);
      const renames: { from: string; to: string; entry: FileEntry }[] = [];
      const addedDirs = [...added].filter(([, e]) => e.kind === 'directory');
      const deletedDirs = [...deleted].filter(([, e]) => e.kind === 'directory');
      for (const [path, e] of added) {
        let from = e.text ? byText.get(e.text) : undefined;
        if (from === undefined && e.kind === 'directory')
          from = deletedDirs.find(
            ([d]) => deleted.has(d) && movedFolder(d, path, added, deleted, addedDirs.length, deletedDirs.length),
          )?.[0];
        if (from !== undefined && deleted.has(from)) {
          deleted.delete(from);
          renames.push({ from, to: path, entry: e });
        } else changes.push({ type: 'created', path, entry: e });
      }
      // A folder's move carries everything under it: only the top of each move is reported.
      const tops = renames.filter(
        (r) =>
          !renames.some(
            (o) => o !== r && r.from.startsWith(`${o.from}/`) && r.to === o.to + r.from.slice(o.from.length),
          ),
      );
      for (const r of tops) changes.push({ type: 'renamed', ...r });
      for (const [path, e] of deleted) changes.push({ type: 'deleted', path, entry: e });
      if (changes.length) fn(changes, tx.origin);
    };
    this.files.observe(handler);
    return () => this.files.unobserve(handler);
  }

  private note(problem: string): void {
    if (this.problems.length < 100) this.problems.push(problem);
  }

  private notFound(key: string): ShareTreeError {
    return new ShareTreeError('not-found', key, `${key} is not in the shared workspace.`);
  }

  private hasChildren(dir: string): boolean {
    for (const key of this.files.keys()) if (key.startsWith(`${dir}/`)) return true;
    return false;
  }

  private ensureParents(key: string): void {
    for (let dir = parentOf(key); dir !== ''; dir = parentOf(dir)) {
      const e = checkEntry(this.files.get(dir));
      if (e?.kind === 'directory') return; // the folders above it exist too
      if (e)
        throw new ShareTreeError('not-a-directory', dir, `${dir} is a file, so ${key} cannot be created under it.`);
      this.files.set(dir, { kind: 'directory', size: 0 });
    }
  }

  private remove(key: string): void {
    const texts: string[] = [];
    const gone = [key, ...[...this.files.keys()].filter((k) => k.startsWith(`${key}/`))];
    for (const k of gone) {
      const e = checkEntry(this.files.get(k));
      if (e?.text) texts.push(e.text);
      this.files.delete(k);
    }
    for (const id of texts) this.dropTextIfUnused(id);
  }

  private dropTextIfUnused(id: string): void {
    for (const v of this.files.values()) if (checkEntry(v)?.text === id) return;
    this.texts.delete(id);
  }
}

/**
 * Whether the folder `to` (added) is `from` (deleted) moved: every entry under `from` that was deleted has a twin
 * under `to` that was added with the same entry. Empty folders match only when one folder went and one came.
 */
function movedFolder(
  from: string,
  to: string,
  added: Map<string, FileEntry>,
  deleted: Map<string, FileEntry>,
  addedDirs: number,
  deletedDirs: number,
): boolean {
  let children = 0;
  for (const [path, e] of deleted) {
    if (!path.startsWith(`${from}/`)) continue;
    children++;
    const twin = added.get(to + path.slice(from.length));
    if (!twin || twin.kind !== e.kind || twin.text !== e.text) return false;
  }
  return children > 0 || (addedDirs === 1 && deletedDirs === 1);
}
