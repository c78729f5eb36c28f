// The one way Kyozo reads a file of a workspace, or hands a folder of it to the engine. A repository is untrusted
// input: a link may point anywhere on the host, and a FIFO or a device named like a manifest would block a read or
// never end. So every path is resolved to its real path and must stay inside the real workspace root, must be a
// regular file (checked before the open and again on the open descriptor), is opened without following a last link
// and without blocking, and is read up to a cap. Refusals never carry the refused file's contents.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type RefusalCode = 'outside-workspace' | 'not-a-regular-file' | 'file-too-large';

/** A path Kyozo will not read; `file` is root-relative (posix) when it lies under the root as written. */
export class WorkspaceFileError extends Error {
  constructor(
    readonly code: RefusalCode,
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkspaceFileError';
  }
}

export interface FileBytes {
  /** At most the cap; a view of the caller's scratch buffer when one was passed. */
  bytes: Buffer;
  /** True when the file holds more than the cap; `bytes` is then its head. */
  truncated: boolean;
  /** Bytes read, or the file's size on disk when truncated. */
  size: number;
}

// Windows has neither flag; there a link is still refused by the real-path check and the type check before the open.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

/** The refusal for a special file (FIFO, socket, device) met while listing a folder or before reading it. */
export function notRegularFile(label: string, file: string, st: fs.Stats | fs.Dirent): WorkspaceFileError {
  const kind = st instanceof fs.Stats ? kindOf(st) : direntKind(st);
  return new WorkspaceFileError(
    'not-a-regular-file',
    file,
    `${label} is ${kind}, not a regular file; Kyozo reads only regular files. ` +
      'Replace it with a regular file or remove it.',
  );
}

function direntKind(d: fs.Dirent): string {
  if (d.isFIFO()) return 'a FIFO (named pipe)';
  if (d.isSocket()) return 'a socket';
  if (d.isCharacterDevice()) return 'a character device';
  if (d.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/**
 * Reads a regular file that was already confined to the workspace: the open refuses a last link, never waits on a
 * FIFO, and the descriptor's own type and identity are checked, so a file swapped after `expected` was taken is not
 * read. Reads at most `maxBytes`, into `scratch` when it is large enough.
 */
export function readRegularFile(
  abs: string,
  maxBytes: number,
  label: string,
  file: string,
  expected?: fs.Stats,
  scratch?: Buffer,
): FileBytes {
  const fd = fs.openSync(abs, OPEN_FLAGS);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegularFile(label, file, st);
    if (expected && (st.ino !== expected.ino || st.dev !== expected.dev)) {
      throw new WorkspaceFileError('not-a-regular-file', file, `${label} changed while Kyozo opened it; try again.`);
    }
    const room = maxBytes + 1; // one byte over the cap tells a file over the cap
    let buf = scratch && scratch.length >= room ? scratch : Buffer.allocUnsafe(Math.min(room, st.size + 1));
    let read = 0;
    // Small requests first: most files read are manifests of a few KiB, and a large request costs the kernel more than
    // the bytes it returns.
    for (let want = 16 * 1024; read < room; want *= 2) {
      if (read === buf.length) {
        // The file grew since fstat: keep going, still bounded by the cap.
        const bigger = Buffer.allocUnsafe(Math.min(room, buf.length * 2));
        buf.copy(bigger, 0, 0, read);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, read, Math.min(want, buf.length - read), read);
      if (n === 0) break;
      read += n;
    }
    const truncated = read > maxBytes;
    const size = truncated ? Math.max(st.size, read) : read;
    return { bytes: buf.subarray(0, Math.min(read, maxBytes)), truncated, size };
  } finally {
    fs.closeSync(fd);
  }
}

/** Decodes file bytes as UTF-8 without the byte-order mark editors on Windows write (no parser downstream wants it). */
export function utf8(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The files of one workspace root. The root's real path is taken once, on first use. */
export class WorkspaceFiles {
  readonly root: string;
  private real: string | undefined;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The real path of the root (links in the path to the workspace itself are the user's, and trusted). */
  get realRoot(): string {
    return (this.real ??= fs.realpathSync.native(this.root));
  }

  /** Root-relative posix path of a path as written, for problems; the path itself when it lies outside. */
  display(p: string): string {
    const rel = path.relative(this.root, path.resolve(this.root, p));
    if (rel === '') return '.';
    return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel.split(path.sep).join('/');
  }

  /**
   * The real path of `p` (root-relative or absolute), which must lie inside the real root. Throws WorkspaceFileError
   * when it does not, and the file system's error (ENOENT, ELOOP, EACCES) when it cannot be resolved.
   */
  resolve(p: string, label = this.display(p)): string {
    const real = fs.realpathSync.native(path.resolve(this.root, p));
    const rel = path.relative(this.realRoot, real);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new WorkspaceFileError(
        'outside-workspace',
        this.display(p),
        `${label} resolves outside the workspace (${real}); Kyozo reads only files inside the workspace. ` +
          'Copy what is needed into the workspace instead of linking to it.',
      );
    }
    return real;
  }

  /** The real path of a folder inside the workspace (a build context); refuses anything but a folder. */
  folder(p: string, label = this.display(p)): string {
    const real = this.resolve(p, label);
    const st = fs.statSync(real);
    if (!st.isDirectory()) {
      throw new WorkspaceFileError(
        'not-a-regular-file',
        this.display(p),
        `${label} is ${kindOf(st)}, not a folder; point it at a folder of the workspace.`,
      );
    }
    return real;
  }

  /** Up to `maxBytes` of a regular file inside the workspace. */
  read(p: string, maxBytes: number, label = this.display(p), scratch?: Buffer): FileBytes {
    const real = this.resolve(p, label);
    // Stat before the open: opening a device can have effects of its own (a tape rewinds, a watchdog arms).
    const st = fs.lstatSync(real);
    if (!st.isFile()) throw notRegularFile(label, this.display(p), st);
    return readRegularFile(real, maxBytes, label, this.display(p), st, scratch);
  }

  /** `read` as text; a file over the cap is refused rather than used by its head. */
  readWhole(p: string, maxBytes: number, label = this.display(p)): string {
    const r = this.read(p, maxBytes, label);
    if (r.truncated) {
      throw new WorkspaceFileError(
        'file-too-large',
        this.display(p),
        `${label} is ${Math.round(r.size / 1024)} KiB, over the ${Math.round(maxBytes / 1024)} KiB Kyozo reads; ` +
          'shorten it.',
      );
    }
    return utf8(r.bytes);
  }
}
