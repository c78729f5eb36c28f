// The data folder holds the invite-signing secret, password hashes and token hashes: anyone who can read it can forge
// an admin invite. It is created 0700 with its database 0600 (SQLite gives the -wal and -shm files it creates the
// database file's mode), and the server refuses to start on one that other local users can open.
import { closeSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DATABASE_FILES = ['sync.db', 'sync.db-wal', 'sync.db-shm'];

/** Creates the folder (0700) and an empty database file (0600) if they do not exist yet; existing ones are kept. */
export function createPrivateDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(join(dir, DATABASE_FILES[0]), 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Throws, naming the path and the fix, if the folder or a database file is open to other users or is not a file. */
export function checkPrivateDataDir(dir: string): void {
  const open = (path: string, mode: number, fix: string) =>
    new Error(
      `${path} is readable or writable by other users ` +
        `(mode ${(mode & 0o777).toString(8)}): it holds the invite secret and password hashes, from which anyone could ` +
        `forge an admin invite; run ${fix}, then start again`,
    );
  const dirStat = statOrUndefined(dir);
  if (!dirStat) return; // created private by createPrivateDataDir
  if (!dirStat.isDirectory()) throw new Error(`data folder ${dir} is not a folder: point --data-dir at a folder`);
  if (dirStat.mode & 0o077) throw open(`data folder ${dir}`, dirStat.mode, `chmod 700 ${dir}`);
  for (const name of DATABASE_FILES) {
    const path = join(dir, name);
    const st = statOrUndefined(path); // a symlink counts as what it points to
    if (!st && statOrUndefined(path, lstatSync)) throw new Error(`${path} is a symlink to nothing: remove or fix it`);
    if (!st) continue;
    if (!st.isFile()) throw new Error(`${path} is not a regular file: move it away, or point --data-dir elsewhere`);
    if (st.mode & 0o077) throw open(path, st.mode, `chmod 600 ${path}`);
  }
}

function statOrUndefined(path: string, stat: typeof statSync = statSync) {
  try {
    return stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
