// Edits not yet acknowledged by the sync server, kept in a file (the extension's global storage) so that a window
// reload or a crash loses none of them: every local Y.Doc update is appended as a sealed record, the file is emptied
// once the provider reports everything acknowledged, and on start the records are applied again (the provider then
// sends them like any local edit; Yjs ignores what the server already had).
//
// Records are sealed with AES-256-GCM (node:crypto) under a 32-byte key the caller keeps in SecretStorage. The
// associated data names the room and the record's number, so a record cannot be moved to another room's file or
// reordered without failing its tag. A record cut short by a crash while it was written is ignored.
//   file:   "KYZOFF01" record*
//   record: [u32 length of what follows][12-byte nonce][ciphertext][16-byte tag]
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as Y from 'yjs';

const MAGIC = Buffer.from('KYZOFF01', 'ascii');
const NONCE = 12;
const TAG = 16;
const DOMAIN = 'kyozo-offline-edits-v1';

export class OfflineEditsError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'OfflineEditsError';
  }
}

/** The origin restored updates are applied with (not the provider's, so the provider sends them). */
export const RESTORED = { offlineEdits: 'restored' };

/** What a provider exposes for this: EncryptedProvider from sync-server/src/client has both. */
export interface AckSource {
  readonly pendingCount: number;
  readonly synced: boolean;
  on(event: 'acked' | 'synced', listener: (clock: number) => void): unknown;
  off(event: 'acked' | 'synced', listener: (clock: number) => void): unknown;
}

export interface OfflineEditsOptions {
  /** The room's id: records of one room do not open in another's file. */
  roomId: string;
  /** 32 bytes, kept by the caller in SecretStorage. */
  key: Buffer;
  /** Updates with this origin came from the server and are not recorded (the provider). */
  isRemote?: (origin: unknown) => boolean;
}

export class OfflineEdits {
  private seq = 0;
  private recording = false;
  /** Restored edits Yjs could not integrate yet (what they build on comes from the server): sent once synced. */
  private waiting: Uint8Array | null = null;
  private stopAcks: (() => void) | null = null;
  private readonly onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === RESTORED || this.opts.isRemote?.(origin)) return;
    this.append(update);
  };

  constructor(
    readonly doc: Y.Doc,
    readonly file: string,
    private readonly opts: OfflineEditsOptions,
  ) {
    if (!Buffer.isBuffer(opts.key) || opts.key.length !== 32)
      throw new OfflineEditsError(file, `The key for offline edits must be 32 bytes; got ${opts.key?.length ?? 0}.`);
  }

  /**
   * Applies the edits the file holds (from a session that ended before the server acknowledged them), then keeps
   * them as one record and starts recording. Returns how many updates were restored. A file that does not open
   * under this key is moved aside to `<file>.unreadable` and reported.
   */
  restore(): number {
    const updates = this.read();
    const merged = updates.length ? Y.mergeUpdates(updates) : null;
    if (merged) {
      Y.applyUpdate(this.doc, merged, RESTORED);
      // Integrated now, the provider saw it as a local update; held back by Yjs, it surfaces later under the
      // provider's origin and would not be sent, so it is handed to the provider once it has synced (follow).
      if (this.doc.store.pendingStructs || this.doc.store.pendingDs) this.waiting = merged;
    }
    this.rewrite(merged ? [merged] : []);
    this.start();
    return updates.length;
  }

  /** Starts recording local updates without restoring (a first share). */
  start(): void {
    if (this.recording) return;
    this.recording = true;
    if (!fs.existsSync(this.file)) this.rewrite([]);
    this.doc.on('update', this.onUpdate);
  }

  /** Everything recorded so far is acknowledged as durable: the file is emptied. */
  markDurable(): void {
    this.rewrite([]);
  }

  /**
   * Empties the file whenever the provider has nothing left unacknowledged, and once it has synced, sends restored
   * edits that had to wait for the server's state (as a local update of the document, which the provider sends).
   */
  follow(provider: AckSource): void {
    this.stopAcks?.();
    const onAcked = () => {
      if (provider.pendingCount === 0 && !this.waiting) this.markDurable();
    };
    const onSynced = () => {
      const update = this.waiting;
      this.waiting = null;
      if (update) this.doc.emit('update', [update, RESTORED, this.doc, null as unknown as Y.Transaction]);
    };
    provider.on('acked', onAcked);
    provider.on('synced', onSynced);
    if (provider.synced) onSynced();
    this.stopAcks = () => {
      provider.off('acked', onAcked);
      provider.off('synced', onSynced);
    };
  }

  /** Stops recording; the file stays (what it holds is restored next time). */
  dispose(): void {
    this.recording = false;
    this.doc.off('update', this.onUpdate);
    this.stopAcks?.();
  }

  private aad(seq: number): Buffer {
    return Buffer.from(`${DOMAIN}|${this.opts.roomId}|${seq}`, 'utf8');
  }

  private seal(update: Uint8Array, seq: number): Buffer {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.opts.key, nonce);
    c.setAAD(this.aad(seq));
    const body = Buffer.concat([nonce, c.update(update), c.final(), c.getAuthTag()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  }

  private append(update: Uint8Array): void {
    try {
      fs.appendFileSync(this.file, this.seal(update, this.seq++));
    } catch (e) {
      throw new OfflineEditsError(
        this.file,
        `Could not save an edit for offline use in ${this.file}: ${(e as Error).message}`,
      );
    }
  }

  /** Replaces the file atomically with these updates as records 0..n-1. */
  private rewrite(updates: Uint8Array[]): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    this.seq = 0;
    const parts = [MAGIC, ...updates.map((u) => this.seal(u, this.seq++))];
    fs.writeFileSync(tmp, Buffer.concat(parts), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  private read(): Uint8Array[] {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new OfflineEditsError(
        this.file,
        `Could not read the offline edits in ${this.file}: ${(e as Error).message}`,
      );
    }
    if (buf.length === 0) return [];
    if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC))
      this.unreadable('it is not a Kyozo offline edits file');
    const out: Uint8Array[] = [];
    let at = MAGIC.length;
    for (let seq = 0; at + 4 <= buf.length; seq++) {
      const len = buf.readUInt32BE(at);
      if (at + 4 + len > buf.length) break; // cut short by a crash while it was written
      const body = buf.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      if (len < NONCE + TAG) this.unreadable(`record ${seq} is too short`);
      try {
        const d = createDecipheriv('aes-256-gcm', this.opts.key, body.subarray(0, NONCE));
        d.setAAD(this.aad(seq));
        d.setAuthTag(body.subarray(len - TAG));
        out.push(Buffer.concat([d.update(body.subarray(NONCE, len - TAG)), d.final()]));
      } catch {
        this.unreadable(`record ${seq} does not open under this device's key for room ${this.opts.roomId}`);
      }
    }
    return out;
  }

  private unreadable(why: string): never {
    const aside = `${this.file}.unreadable`;
    try {
      fs.renameSync(this.file, aside);
    } catch {
      // left where it is
    }
    throw new OfflineEditsError(
      this.file,
      `The offline edits saved for this room cannot be restored: ${why}. The file was altered, or written with ` +
        `another key (secret storage was reset). It was moved to ${aside}; edits it held are not applied.`,
    );
  }
}
