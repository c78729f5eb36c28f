// The build context of a service as a tar stream, honouring .dockerignore, plus a content hash of
// exactly what goes into it (files, modes, the Dockerfile text, build args) so an unchanged folder
// reuses its image instead of rebuilding. Nothing is written into the user's folder: a generated
// Dockerfile is added to the tar only. The context folder must lie inside the workspace (its real path), links
// inside it go into the tar as links (never their targets), and only regular files are read.
import { createHash } from 'node:crypto';
import { readdirSync, lstatSync, readlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ignore from 'ignore'; // gitignore-compatible matcher; .dockerignore uses the same shape of patterns
import * as tar from 'tar-stream'; // builds the context tar in memory without a temp directory
import { DEFAULT_MAX_FILE_BYTES } from '../scan/default-ignores';
import { readRegularFile, WorkspaceFileError, WorkspaceFiles } from '../scan/workspace-files';

/** What a generated Dockerfile never needs (reinstalled or rebuilt inside the image), and local secrets. */
export const GENERATED_CONTEXT_IGNORES = [
  'node_modules',
  '.git',
  '__pycache__',
  '.venv',
  'venv',
  'target',
  '.next',
  '.turbo',
  '.nuxt',
  '.output',
  '.svelte-kit',
  '*.pyc',
  '.env',
  '.env.*',
  '!.env.example',
  '!.env.sample',
];

/**
 * The context of a folder's own Dockerfile when the folder has no .dockerignore: local secrets and what is always
 * reinstalled stay out, build outputs (target/, build/) stay in, as Dockerfiles often copy a jar built beforehand.
 */
export const DEFAULT_DOCKERIGNORE = [
  '.git',
  'node_modules',
  '__pycache__',
  '*.pyc',
  '.venv',
  '.env',
  '.env.*',
  '!.env.example',
  '!.env.sample',
];

export interface ContextFile {
  path: string; // posix, relative to the context
  mode: number;
  content?: Buffer;
  linkTarget?: string;
}

export interface BuildContext {
  files: ContextFile[];
  dockerfileName: string;
  hash: string;
}

/** The .dockerignore of a context: an unreadable one is an error, since building without it could ship secrets. */
function dockerignorePatterns(workspace: WorkspaceFiles, dir: string, context: string): string[] | undefined {
  let text: string;
  try {
    text = workspace.readWhole(join(dir, '.dockerignore'), DEFAULT_MAX_FILE_BYTES, `.dockerignore of ${context}`);
  } catch (err) {
    if (err instanceof WorkspaceFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const why = code ?? (err as Error).message;
    throw new Error(`cannot read the .dockerignore of ${context} (${why}); check its permissions`, { cause: err });
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/^\.\//, '').replace(/^\//, ''));
}

export interface CollectOptions {
  /** The workspace root the context must stay inside (its real path); the context folder itself by default. */
  root?: string;
  dockerfile?: { name: string; text: string };
  extraIgnores?: string[];
  /** Patterns applied only when the context has no .dockerignore of its own. */
  defaultIgnores?: string[];
  buildArgs?: Record<string, string>;
  maxBytes?: number;
}

export function collectContext(dir: string, options: CollectOptions = {}): BuildContext {
  const workspace = new WorkspaceFiles(options.root ?? dir);
  const context = `build context ${workspace.display(dir)}`;
  // Refused before anything is read: a context linked out of the workspace would copy that host folder.
  const realDir = workspace.folder(dir, context);
  const own = dockerignorePatterns(workspace, realDir, context);
  const ig = ignore()
    .add(own ?? options.defaultIgnores ?? [])
    .add(options.extraIgnores ?? []);
  const files: ContextFile[] = [];
  let total = 0;
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const tooLarge = () =>
    new Error(
      `${context} is larger than ${maxBytes >> 20} MiB; add a .dockerignore for large folders (node_modules, data)`,
    );
  // lstat throughout: a linked folder is not descended into, and a link is added as a link.
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const full = join(abs, name);
      const rel = relative(realDir, full).split(sep).join('/');
      const st = lstatSync(full);
      if (ig.ignores(st.isDirectory() ? `${rel}/` : rel)) continue;
      if (st.isDirectory()) walk(full);
      else if (st.isSymbolicLink()) files.push({ path: rel, mode: 0o777, linkTarget: readlinkSync(full) });
      else if (st.isFile()) {
        if (total + st.size > maxBytes) throw tooLarge();
        const read = readRegularFile(full, maxBytes - total, `${rel} in ${context}`, rel, st);
        if (read.truncated) throw tooLarge();
        total += read.bytes.length;
        files.push({ path: rel, mode: st.mode & 0o777, content: read.bytes });
      }
      // FIFOs, sockets and devices are left out, as a read of one would block or never end.
    }
  };
  walk(realDir);
  let dockerfileName = 'Dockerfile';
  if (options.dockerfile) {
    dockerfileName = options.dockerfile.name;
    const i = files.findIndex((f) => f.path === dockerfileName);
    if (i >= 0) files.splice(i, 1);
    files.push({ path: dockerfileName, mode: 0o644, content: Buffer.from(options.dockerfile.text) });
  }
  const hash = createHash('sha256');
  for (const f of files.slice().sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`${f.path}\0${f.mode}\0${f.linkTarget ?? ''}\0`);
    if (f.content) hash.update(createHash('sha256').update(f.content).digest());
  }
  hash.update(`dockerfile:${dockerfileName}\0args:${JSON.stringify(Object.entries(options.buildArgs ?? {}).sort())}`);
  return { files, dockerfileName, hash: hash.digest('hex') };
}

export function contextTar(ctx: BuildContext): NodeJS.ReadableStream {
  const pack = tar.pack();
  for (const f of ctx.files) {
    if (f.linkTarget !== undefined)
      pack.entry({ name: f.path, type: 'symlink', linkname: f.linkTarget, mode: f.mode, mtime: new Date(0) });
    else pack.entry({ name: f.path, mode: f.mode, mtime: new Date(0) }, f.content ?? Buffer.alloc(0));
  }
  pack.finalize();
  return pack as unknown as NodeJS.ReadableStream;
}
