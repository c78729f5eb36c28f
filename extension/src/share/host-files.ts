// What a host shares of its workspace folder: every file that .gitignore files (nested ones too, as git reads them)
// and the `kyozo.ignore` patterns leave in, confined to the folder's real path. A text file is shared with its text;
// a binary file (a NUL byte, or bytes that are not UTF-8), a file over 1 MiB, a link that leads outside the folder,
// a linked folder and a special file are listed with the reason they are not shared. Plain Node: the share commands
// call it, and Node's tests run it on real folders.
//
// The confinement rules are the engine's (server/src/engine/scan/workspace-files.ts), repeated here in a few lines
// because the extension may not import the engine: every path resolves to its real path inside the real root, a file
// is opened without following a last link and without blocking, its descriptor must be a regular file, and at most
// the cap plus one byte is read.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore'; // the full gitignore grammar (negation, anchoring, folder-only rules)
import { normalizeSharePath, SharePathError, type ExclusionReason, type WorkspaceDoc } from './workspace-doc';

export const MAX_SHARED_FILE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_FILES = 20_000;
/** The suffix of the temporary files writeHostFile makes; never shared, and a watcher skips them. */
export const TEMP_SUFFIX = '.kyozo-tmp';
/** Folders never shared, whatever .gitignore says. */
const ALWAYS_SKIPPED = new Set(['.git', '.hg', '.svn']);

export interface HostFile {
  /** Relative to the root, '/'-separated, normalised. */
  path: string;
  kind: 'file' | 'directory';
  size: number;
  /** The text of a shared file (without a byte-order mark). */
  text?: string;
  bom?: boolean;
  excluded?: { reason: ExclusionReason; detail: string };
}

export interface HostScan {
  root: string;
  files: HostFile[];
  /** Shared text files, and their bytes. */
  shared: number;
  sharedBytes: number;
  excluded: number;
  /** Names that cannot be shared under any path (a backslash in a file name): skipped, with why. */
  problems: string[];
}

export interface HostScanOptions {
  /** gitignore-style patterns beside .gitignore (the `kyozo.ignore` setting). */
  ignore?: readonly string[];
  maxFileBytes?: number;
  /** Files past this many are listed as not shared (reason 'limit'). */
  maxFiles?: number;
}

export class HostFileError extends Error {
  constructor(
    readonly reason: ExclusionReason | 'ignored' | 'missing',
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'HostFileError';
  }
}

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function inside(realRoot: string, real: string): boolean {
  const rel = path.relative(realRoot, real);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The .gitignore rules of a folder tree plus extra patterns, read once per folder. */
export class HostIgnore {
  private readonly scopes = new Map<string, Ignore | null>();
  private readonly extra: Ignore;

  constructor(
    readonly realRoot: string,
    patterns: readonly string[] = [],
  ) {
    this.extra = ignore().add([...patterns]);
  }

  /** Forgets a folder's .gitignore (it changed on disk). */
  invalidate(dir: string): void {
    this.scopes.delete(dir);
  }

  /** Whether a root-relative path is left out (a folder with `isDir`). */
  ignores(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    if (parts.some((p) => ALWAYS_SKIPPED.has(p)) || rel.endsWith(TEMP_SUFFIX)) return true;
    if (this.extra.ignores(isDir ? `${rel}/` : rel)) return true;
    // A path under an ignored folder is ignored too (git never looks inside it).
    for (let i = 1; i < parts.length; i++) if (this.decide(parts.slice(0, i).join('/'), true)) return true;
    return this.decide(rel, isDir);
  }

  private decide(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    // As git does: the deepest .gitignore with an opinion (a match, or a `!` re-include) decides.
    for (let depth = parts.length - 1; depth >= 0; depth--) {
      const base = parts.slice(0, depth).join('/');
      const rules = this.rules(base);
      if (!rules) continue;
      const sub = parts.slice(depth).join('/');
      const verdict = rules.test(isDir ? `${sub}/` : sub);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }

  private rules(base: string): Ignore | null {
    if (this.scopes.has(base)) return this.scopes.get(base)!;
    let rules: Ignore | null = null;
    try {
      const file = path.join(this.realRoot, base, '.gitignore');
      const st = fs.lstatSync(file);
      if (st.isFile() && st.size <= MAX_SHARED_FILE_BYTES) rules = ignore().add(fs.readFileSync(file, 'utf8'));
    } catch {
      // no .gitignore here
    }
    this.scopes.set(base, rules);
    return rules;
  }
}

/** Reads a file's bytes for sharing: the regular file at `real`, at most `max` + 1 bytes, never following a link. */
function readCapped(real: string, max: number): { bytes: Buffer; size: number; over: boolean } {
  const fd = fs.openSync(real, OPEN_FLAGS);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new HostFileError('not-a-regular-file', real, `${real} is not a regular file.`);
    if (st.size > max) return { bytes: Buffer.alloc(0), size: st.size, over: true };
    const buf = Buffer.allocUnsafe(Math.min(max + 1, st.size + 1));
    let read = 0;
    while (read < buf.length) {
      const n = fs.readSync(fd, buf, read, buf.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return { bytes: buf.subarray(0, read), size: Math.max(read, st.size), over: read > max };
  } finally {
    fs.closeSync(fd);
  }
}

/** A file's bytes as shared text, or the reason it is not shared. */
export function classify(bytes: Buffer): { text: string; bom: boolean } | { reason: 'binary'; detail: string } {
  if (bytes.includes(0)) return { reason: 'binary', detail: 'binary file (it holds a NUL byte)' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { reason: 'binary', detail: 'binary file (not valid UTF-8)' };
  }
  const bom = text.charCodeAt(0) === 0xfeff;
  return { text: bom ? text.slice(1) : text, bom };
}

/** One entry for `abs` (already known to be under the root as written), following the sharing rules. */
function describe(realRoot: string, rel: string, abs: string, lst: fs.Stats, max: number): HostFile | 'walk' {
  let real = abs;
  let st = lst;
  if (lst.isSymbolicLink()) {
    try {
      real = fs.realpathSync.native(abs);
      st = fs.statSync(real);
    } catch {
      return {
        path: rel,
        kind: 'file',
        size: 0,
        excluded: { reason: 'broken-link', detail: 'a link whose target does not exist' },
      };
    }
    if (!inside(realRoot, real))
      return {
        path: rel,
        kind: st.isDirectory() ? 'directory' : 'file',
        size: 0,
        excluded: { reason: 'outside-workspace', detail: `a link to ${real}, outside the workspace folder` },
      };
    if (st.isDirectory())
      return {
        path: rel,
        kind: 'directory',
        size: 0,
        excluded: {
          reason: 'linked-folder',
          detail: `a link to the folder ${path.relative(realRoot, real) || '.'}, shared there`,
        },
      };
  }
  if (st.isDirectory()) return 'walk';
  if (!st.isFile())
    return {
      path: rel,
      kind: 'file',
      size: 0,
      excluded: { reason: 'not-a-regular-file', detail: 'a FIFO, socket or device' },
    };
  if (st.size > max)
    return {
      path: rel,
      kind: 'file',
      size: st.size,
      excluded: { reason: 'too-large', detail: `${mib(st.size)}, over the ${mib(max)} shared` },
    };
  let r: ReturnType<typeof readCapped>;
  try {
    r = readCapped(real, max);
  } catch (e) {
    const reason = e instanceof HostFileError ? e.reason : 'unreadable';
    return {
      path: rel,
      kind: 'file',
      size: st.size,
      excluded: { reason: reason as ExclusionReason, detail: (e as Error).message },
    };
  }
  if (r.over)
    return {
      path: rel,
      kind: 'file',
      size: r.size,
      excluded: { reason: 'too-large', detail: `${mib(r.size)}, over the ${mib(max)} shared` },
    };
  const c = classify(r.bytes);
  if ('reason' in c) return { path: rel, kind: 'file', size: r.size, excluded: c };
  const out: HostFile = { path: rel, kind: 'file', size: r.size, text: c.text };
  if (c.bom) out.bom = true;
  return out;
}

/** Walks the workspace folder and lists what a host shares. Never follows a folder link; never reads outside. */
export function scanHostFiles(root: string, opts: HostScanOptions = {}): HostScan {
  const realRoot = fs.realpathSync.native(root);
  const max = opts.maxFileBytes ?? MAX_SHARED_FILE_BYTES;
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
  const ig = new HostIgnore(realRoot, opts.ignore);
  const scan: HostScan = { root: realRoot, files: [], shared: 0, sharedBytes: 0, excluded: 0, problems: [] };
  const walk = (dirRel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(realRoot, dirRel), { withFileTypes: true });
    } catch (e) {
      scan.problems.push(`could not list ${dirRel || '.'}: ${(e as Error).message}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of entries) {
      const relRaw = dirRel ? `${dirRel}/${d.name}` : d.name;
      let rel: string;
      try {
        rel = normalizeSharePath(relRaw);
      } catch (e) {
        scan.problems.push(`not shared: ${(e as SharePathError).message}`);
        continue;
      }
      if (ig.ignores(rel, d.isDirectory())) continue;
      const abs = path.join(realRoot, rel);
      let lst: fs.Stats;
      try {
        lst = fs.lstatSync(abs);
      } catch {
        continue; // deleted while walking
      }
      if (!lst.isDirectory() && scan.shared >= maxFiles) {
        scan.files.push({
          path: rel,
          kind: 'file',
          size: lst.size,
          excluded: { reason: 'limit', detail: `past the ${maxFiles} files shared` },
        });
        scan.excluded++;
        continue;
      }
      const f = describe(realRoot, rel, abs, lst, max);
      if (f === 'walk') {
        scan.files.push({ path: rel, kind: 'directory', size: 0 });
        walk(rel);
        continue;
      }
      scan.files.push(f);
      if (f.excluded) scan.excluded++;
      else if (f.kind === 'file') {
        scan.shared++;
        scan.sharedBytes += f.size;
      }
    }
  };
  walk('');
  return scan;
}

/**
 * One file of the workspace under the same rules as the walk (used when a file changes on disk). Throws
 * HostFileError 'ignored' or 'missing' when there is nothing to share at that path.
 */
export function readHostFile(
  root: string,
  relPath: string,
  opts: { ignore?: HostIgnore; maxFileBytes?: number } = {},
): HostFile {
  const realRoot = opts.ignore?.realRoot ?? fs.realpathSync.native(root);
  const rel = normalizeSharePath(relPath);
  const abs = path.join(realRoot, rel);
  let lst: fs.Stats;
  try {
    lst = fs.lstatSync(abs);
  } catch {
    throw new HostFileError('missing', rel, `${rel} does not exist in the workspace folder.`);
  }
  // A folder above it may be a link: the file's real parent must still be inside the root.
  const parent = fs.realpathSync.native(path.dirname(abs));
  if (!inside(realRoot, parent))
    throw new HostFileError(
      'outside-workspace',
      rel,
      `${rel} lies under a link that leads outside the workspace folder.`,
    );
  if (opts.ignore?.ignores(rel, lst.isDirectory()))
    throw new HostFileError('ignored', rel, `${rel} is left out by .gitignore or kyozo.ignore.`);
  const f = describe(realRoot, rel, abs, lst, opts.maxFileBytes ?? MAX_SHARED_FILE_BYTES);
  return f === 'walk' ? { path: rel, kind: 'directory', size: 0 } : f;
}

/**
 * Writes a shared file's text to disk atomically (a temporary file beside it, then a rename), confined to the
 * workspace: the real folder it goes in must be inside the real root; a link inside the root is written through to
 * its target; the file keeps its mode.
 */
export function writeHostFile(root: string, relPath: string, text: string, opts: { bom?: boolean } = {}): void {
  const realRoot = fs.realpathSync.native(root);
  const rel = normalizeSharePath(relPath);
  let target = path.join(realRoot, rel);
  let mode = 0o644;
  try {
    const lst = fs.lstatSync(target);
    if (lst.isSymbolicLink()) {
      target = fs.realpathSync.native(target);
      if (!inside(realRoot, target))
        throw new HostFileError(
          'outside-workspace',
          rel,
          `${rel} is a link to ${target}, outside the workspace folder; not written.`,
        );
    }
    const st = fs.statSync(target);
    if (!st.isFile()) throw new HostFileError('not-a-regular-file', rel, `${rel} is not a regular file; not written.`);
    mode = st.mode & 0o7777;
  } catch (e) {
    if (e instanceof HostFileError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  if (!inside(realRoot, fs.realpathSync.native(dir)))
    throw new HostFileError(
      'outside-workspace',
      rel,
      `${rel} would be written outside the workspace folder; not written.`,
    );
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const body = Buffer.from(opts.bom ? `\ufeff${text}` : text, 'utf8');
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  try {
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, target);
}

/** Puts a scan into the room's document in one transaction (the host does it when it shares). */
export function shareHostFiles(w: WorkspaceDoc, scan: HostScan): void {
  w.doc.transact(() => {
    w.initLayout();
    for (const f of scan.files) {
      if (w.files.has(f.path)) continue; // already shared (a host sharing again into its room)
      if (f.kind === 'directory' && !f.excluded) w.createDirectory(f.path);
      else w.createFile(f.path, { text: f.text, excluded: f.excluded, size: f.size, bom: f.bom, kind: f.kind });
    }
  }, w.origin);
}

/**
 * The absolute path of a root-relative path whose folder lies inside the real root (the last name is not followed,
 * so a link there is removed or renamed itself, never its target). Throws HostFileError 'outside-workspace'.
 */
export function confinedPath(root: string, relPath: string): string {
  const realRoot = fs.realpathSync.native(root);
  const rel = normalizeSharePath(relPath);
  const abs = path.join(realRoot, rel);
  let dir = path.dirname(abs);
  // The folder may not exist yet (a rename into a new folder): check the nearest one that does.
  for (;;) {
    try {
      dir = fs.realpathSync.native(dir);
      break;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  if (!inside(realRoot, dir))
    throw new HostFileError(
      'outside-workspace',
      rel,
      `${rel} lies under a link that leads outside the workspace folder.`,
    );
  return abs;
}
