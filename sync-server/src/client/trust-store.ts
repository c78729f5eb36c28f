// Where a device keeps what it decided to trust: the fingerprints the user verified or pinned, and the newest signed
// roster it accepted per team (so a server cannot roll a roster back after a restart). The extension backs TrustStore
// with its own storage; this file has an in-memory store (tests, short-lived tools) and a JSON file readable and
// writable by the user only.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { dirname } from 'node:path';

export type TrustState = 'verified' | 'pinned' | 'unverified';

/** One device as stored: public keys base64, the state the user (or first use) gave it, who it belongs to. */
export interface StoredDevice {
  signPublicKey: string;
  dhPublicKey: string;
  state: TrustState;
  userId?: string;
  username?: string;
  firstSeen: number;
  /** The user withdrew trust (unverify): a roster that lists the device does not pin it again. */
  revoked?: boolean;
}

export interface TrustSnapshot {
  format: 1;
  devices: StoredDevice[];
  /** The newest roster accepted per team, as the signed blob (base64). */
  rosters: { teamId: string; blob: string }[];
}

export interface TrustStore {
  /** The saved snapshot, or undefined when nothing was saved yet. */
  load(): Promise<TrustSnapshot | undefined>;
  save(snapshot: TrustSnapshot): Promise<void>;
}

export class TrustStoreError extends Error {}

export class MemoryTrustStore implements TrustStore {
  private json: string | undefined;
  async load() {
    return this.json === undefined ? undefined : (JSON.parse(this.json) as TrustSnapshot);
  }
  async save(snapshot: TrustSnapshot) {
    this.json = JSON.stringify(snapshot);
  }
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A JSON file (mode 0600, written through a temporary file and a rename, so a crash leaves the old or the new one).
 * Whoever can write this file decides whom the device trusts, so a file that other users may read or write, or that
 * is not a regular file (a symlink, a FIFO, a folder), is refused with what to do rather than used.
 */
export class JsonFileTrustStore implements TrustStore {
  constructor(readonly path: string) {}

  async load(): Promise<TrustSnapshot | undefined> {
    let handle: fs.FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: a symlink is refused, not followed.
      handle = await fs.open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP') throw new TrustStoreError(`trust file ${this.path} is a symlink: put the file there`);
      throw new TrustStoreError(`cannot open trust file ${this.path}: ${(e as Error).message}`);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new TrustStoreError(`trust file ${this.path} is not a regular file: move it away`);
      if (st.mode & 0o077) {
        const mode = (st.mode & 0o777).toString(8);
        throw new TrustStoreError(`trust file ${this.path} is open to other users (mode ${mode}): run chmod 600 on it`);
      }
      if (st.size > MAX_FILE_BYTES) {
        throw new TrustStoreError(`trust file ${this.path} is ${st.size} bytes, past any trust file: move it away`);
      }
      const text = await handle.readFile('utf8');
      return parseSnapshot(text, this.path);
    } finally {
      await handle.close();
    }
  }

  async save(snapshot: TrustSnapshot): Promise<void> {
    await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(JSON.stringify(snapshot, null, 1));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(tmp, this.path);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw new TrustStoreError(`cannot replace trust file ${this.path}: ${(e as Error).message}`);
    }
  }
}

function parseSnapshot(text: string, where: string): TrustSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const why = (e as Error).message;
    throw new TrustStoreError(`trust file ${where} is not valid JSON (${why}): restore it or remove it`);
  }
  const s = data as Partial<TrustSnapshot> | null;
  if (!s || s.format !== 1 || !Array.isArray(s.devices) || !Array.isArray(s.rosters)) {
    throw new TrustStoreError(`trust file ${where} is not a format-1 trust snapshot: restore it or remove it`);
  }
  return s as TrustSnapshot;
}
