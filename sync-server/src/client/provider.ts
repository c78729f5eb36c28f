// An end-to-end encrypted Yjs provider: keeps a Y.Doc in sync with one room through the relay, which only sees
// ciphertext. Local edits are batched for `batchMs` and sealed as one signed frame; every frame carries this
// device's next clock; frames stay queued until the server acknowledges them as durable and are resent (re-sealed,
// renumbered from the server's last durable clock) after a reconnect. Joining loads the snapshot plus the trailing
// log, applying updates one at a time (never one flat merge over the whole log).
//
// The relay is not trusted with anything but delivery. What a frame may do is decided here, from the team's signed
// roster (`trust`): updates and snapshots count only from devices of members with a writing role, presence only from
// members, and a presence client id stays with the device that first used it (in an update or in presence). Once the
// room's key has rotated, an update under an older key is refused, and no sender goes back to an older key; a
// snapshot may not claim updates of this device beyond the last one this device sent.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { applyAwarenessUpdate, encodeAwarenessUpdate, type Awareness } from 'y-protocols/awareness';
import {
  CloseCode,
  FrameKind,
  authSignedBytes,
  decodeJsonFrame,
  decodeU64Frame,
  encodeAuth,
  type ErrorBody,
  type HelloBody,
} from '../wire';
import * as decoding from 'lib0/decoding'; // the varint reader Yjs and y-protocols encode awareness updates with
import type { RoomTrust } from './device-trust';
import { signBytes, type DeviceIdentity } from './identity';
import { OpenError, openData, openSnapshot, sealData, sealSnapshot, type RoomKeyring } from './room-crypto';

export interface ProviderOptions {
  /** ws://host:port of the sync server. */
  url: string;
  /**
   * Further instances of the same server (several sharing one PostgreSQL database and Redis): after a socket that
   * failed before HELLO, or dropped abnormally (1006), or whose instance shut down (1001, 1012), the next attempt
   * goes to the next URL in turn.
   */
  fallbackUrls?: string[];
  roomId: string;
  token: string;
  identity: DeviceIdentity;
  keyring: RoomKeyring;
  /**
   * Who may write and who is present, from the team's signed roster (DeviceTrust.forTeam). Required: a frame is
   * never applied on the relay's word alone.
   */
  trust: RoomTrust;
  /**
   * Reloads the keyring and the roster (SyncApi.loadKeyring with the DeviceTrust does both); called when the room key
   * rotates, and when a frame comes from a device the roster does not list yet.
   */
  refreshKeys?: () => Promise<void>;
  awareness?: Awareness;
  /** At most one signed frame of local edits per window (ms, default 20); the first after a quiet one goes at once. */
  batchMs?: number;
  /**
   * Upload a snapshot once about this many updates trail the current one (default 500; 0 disables). Each client adds
   * up to a quarter at random, so the members of a room rarely race for the same head.
   */
  autoCompactAfter?: number;
  connect?: boolean;
  /**
   * A socket on which the server has sent nothing (no frame, no ping) for this long is dropped and reconnected: a
   * network that vanished without closing the connection is noticed. Default: 2.5 of the server's heartbeat
   * intervals (from HELLO; 75 s for the default 30 s).
   */
  idleTimeoutMs?: number;
}

export type ProviderStatus = 'connecting' | 'connected' | 'disconnected';
const PERMANENT = new Set<number>([
  CloseCode.Unauthorized,
  CloseCode.Forbidden,
  CloseCode.NotFound,
  CloseCode.MemberRemoved,
]);
const DEFAULT_COMPACT_AFTER = 500; // trailing updates; a joining client then applies at most ~625 on top of a snapshot
const MAX_BATCH = 64; // a merge never spans more than this many inputs (local updates, or queued frames)
// Queued frames are merged only while the result stays this small, well under the server's frame limit.
const MAX_MERGED_BYTES = 256 * 1024;
// A device outside the roster triggers at most one roster reload per this interval (a flood of them costs nothing).
const TRUST_REFRESH_MS = 1000;

/**
 * Merges frames queued for resending, MAX_BATCH at a time and in passes, until at most MAX_BATCH remain (or merging
 * would pass MAX_MERGED_BYTES). No merge spans more than MAX_BATCH inputs: one flat mergeUpdates over everything typed
 * offline would block for seconds (20,000 keystrokes: ~10 s, against ~80 ms in merges of 64), and a reconnect that
 * resent one frame per batch could run into the server's frames-per-second limit.
 */
function mergeForResend(queue: Uint8Array[]): Uint8Array[] {
  let list = queue;
  while (list.length > MAX_BATCH) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < list.length; i += MAX_BATCH) {
      const group = list.slice(i, i + MAX_BATCH);
      if (group.length > 1 && group.reduce((n, u) => n + u.length, 0) <= MAX_MERGED_BYTES)
        next.push(Y.mergeUpdates(group));
      else next.push(...group);
    }
    if (next.length === list.length) break;
    list = next;
  }
  return list;
}

interface Outgoing {
  clock: number;
  update: Uint8Array;
}

export class EncryptedProvider extends EventEmitter {
  readonly doc: Y.Doc;
  status: ProviderStatus = 'disconnected';
  synced = false;
  head = 0;
  role = '';
  /** Frames this provider refused to apply (tampered, replayed, unknown key), by reason. */
  readonly refused: Record<string, number> = {};
  private ws: WebSocket | null = null;
  private live = false;
  private stopped = false;
  private clock = 0;
  private unsent: Uint8Array[] = [];
  private inflight: Outgoing[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0; // when local edits last went out: the batch window counts from it
  private retryTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private urlIndex = 0; // into [url, ...fallbackUrls]
  private trailing = 0;
  private compacting = false;
  private awarenessClock = 0;
  private awarenessTimer: NodeJS.Timeout | null = null;
  private maxFrameBytes = 8 * 1024 * 1024; // until HELLO says otherwise
  private held = false; // a queued frame is past maxFrameBytes: it and the frames after it wait
  private readonly compactJitter = Math.random() / 4;
  private idleMs = 75_000; // until HELLO names the server's heartbeat
  private idleTimer: NodeJS.Timeout | null = null;
  private deferred: Buffer[] = [];
  private retrying = false; // deferred frames are being retried after a reload: they are not deferred again
  private lastTrustRefresh = 0;
  private readonly seen = new Map<string, number>(); // per sender: the newest clock applied or covered by a snapshot
  private readonly applied = new Map<string, number>(); // per sender: the newest clock of an update applied here
  private readonly senderEpochs = new Map<string, number>(); // the newest key epoch each sender was applied under
  private epochSeen = 0; // the newest key epoch the server announced (HELLO, KEY_ROTATED)
  private helloClock = 0; // the last clock of this device the server said it stored
  private readonly presenceOwners = new Map<number, string>(); // Yjs client id -> hex sender key
  private readonly me: string;
  private readonly onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === this) return;
    this.unsent.push(update);
    if (this.unsent.length >= MAX_BATCH) this.flush();
    else if (!this.batchTimer && this.live) {
      // At most one frame per window, and no wait after a quiet one: a keystroke after a pause goes out on the next
      // tick (with whatever the same tick added); the edits that follow it within the window share the next frame.
      const wait = Math.max(0, this.lastFlushAt + (this.opts.batchMs ?? 20) - Date.now());
      this.batchTimer = setTimeout(() => this.flush(), wait);
    }
  };
  // Presence speaks only for this client (peers time out the others themselves) and, like edits, goes out at most once
  // per batch window: a cursor dragged across a file is one signed frame per window, not one per position.
  private readonly onAwareness = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    const aw = this.opts.awareness;
    if (origin === this || !aw) return;
    const id = aw.clientID;
    if (added.includes(id) || updated.includes(id) || removed.includes(id)) this.scheduleAwareness();
  };

  constructor(
    doc: Y.Doc,
    private readonly opts: ProviderOptions,
  ) {
    super();
    this.doc = doc;
    this.me = opts.identity.signPublicKey.toString('hex');
    this.presenceOwners.set(doc.clientID, this.me);
    if (opts.awareness) this.presenceOwners.set(opts.awareness.clientID, this.me);
    doc.on('update', this.onDocUpdate);
    opts.awareness?.on('update', this.onAwareness);
    if (opts.connect !== false) this.connect();
  }

  /** Local updates not yet acknowledged as durable by the server. */
  get pendingCount(): number {
    return this.unsent.length + this.inflight.length;
  }

  connect(): void {
    this.stopped = false;
    if (this.ws) return;
    this.setStatus('connecting');
    const urls = [this.opts.url, ...(this.opts.fallbackUrls ?? [])];
    const url = urls[this.urlIndex % urls.length];
    const ws = new WebSocket(`${url}/v1/rooms/${this.opts.roomId}/sync`, { perMessageDeflate: false });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => this.touch(ws));
    ws.on('ping', () => this.touch(ws));
    ws.on('message', (data: Buffer) => {
      this.touch(ws);
      this.onFrame(ws, data);
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
    ws.on('error', (err) => this.emit('socket-error', err));
  }

  /** Closes the socket without reconnecting; local edits stay queued and are sent on the next connect(). */
  disconnect(): void {
    this.stopped = true;
    // Peers drop this client's cursor now rather than when it times out (30 s).
    if (this.live && this.opts.awareness) this.sendAwareness(new Map());
    this.live = false; // edits from here on are queued for the next connect (merged then), not sent to a closing socket
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.ws?.close(1000, 'client disconnect');
  }

  destroy(): void {
    this.disconnect();
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.awarenessTimer) clearTimeout(this.awarenessTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.doc.off('update', this.onDocUpdate);
    this.opts.awareness?.off('update', this.onAwareness);
    this.removeAllListeners();
  }

  whenSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.once('synced', () => resolve()));
  }

  /** Resolves once every local edit so far is acknowledged as durable. */
  async whenAcked(timeoutMs = 10_000): Promise<void> {
    this.flush();
    const deadline = Date.now() + timeoutMs;
    while (this.pendingCount > 0) {
      if (Date.now() > deadline) {
        const held = this.held
          ? `; held behind an edit larger than the server's ${this.maxFrameBytes}-byte frame limit`
          : '';
        throw new Error(`${this.pendingCount} updates still unacknowledged after ${timeoutMs} ms${held}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Seals the local edits batched so far into frames now (offline: queues them for the reconnect). */
  flush(): void {
    if (this.batchTimer) {
      clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
    if (this.unsent.length === 0) return;
    if (this.live && !this.keyed()) return; // sent once the rotated key has loaded
    this.lastFlushAt = Date.now();
    // One frame per MAX_BATCH updates or MAX_MERGED_BYTES, whichever comes first: a batch of large pastes never
    // becomes one frame past the server's limit (which would close the socket, again after every reconnect).
    let group: Uint8Array[] = [];
    let bytes = 0;
    const send = () => {
      const out: Outgoing = { clock: ++this.clock, update: group.length === 1 ? group[0] : Y.mergeUpdates(group) };
      this.inflight.push(out); // renumbered from the server's last durable clock on HELLO
      if (this.live) this.sendUpdate(out);
      group = [];
      bytes = 0;
    };
    for (const u of this.unsent) {
      if (group.length && bytes + u.length > MAX_MERGED_BYTES) send();
      group.push(u);
      bytes += u.length;
    }
    send();
    this.unsent = [];
  }

  /** Uploads an encrypted snapshot of the whole document that replaces the log it covers. */
  compact(): boolean {
    const key = this.opts.keyring.get(this.opts.keyring.current);
    if (!this.live || !this.synced || !key || this.pendingCount > 0 || this.compacting) return false;
    const frame = sealSnapshot(
      this.opts.roomId,
      this.opts.identity,
      this.opts.keyring.current,
      key,
      this.head,
      new Map(this.seen),
      Y.encodeStateAsUpdate(this.doc),
    );
    if (frame.length > this.maxFrameBytes) {
      // The server would close the socket (1009). The log stays as it is; the next try comes after as many updates.
      this.trailing = 0;
      this.emit('compact-skipped', { bytes: frame.length, limit: this.maxFrameBytes });
      return false;
    }
    this.compacting = true;
    this.sendRaw(frame);
    return true;
  }

  private sendUpdate(out: Outgoing): void {
    if (this.held) return; // queued behind the frame the server cannot take: clocks go in order
    const epoch = this.opts.keyring.current;
    const frame = sealData(
      FrameKind.Update,
      this.opts.roomId,
      this.opts.identity,
      epoch,
      this.opts.keyring.get(epoch)!,
      out.clock,
      out.update,
    );
    if (frame.length > this.maxFrameBytes) {
      // One edit larger than the server's frame limit (a single huge paste): sending it would close the socket with
      // 1009 after every reconnect. It stays queued, with everything after it, until a server with a larger limit
      // says so in HELLO; nothing is lost, and the application hears why.
      this.held = true;
      this.emit('update-too-large', { bytes: frame.length, limit: this.maxFrameBytes });
      return;
    }
    this.sendRaw(frame);
    this.trailing++;
  }

  private sendRaw(frame: Buffer): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  private setStatus(s: ProviderStatus): void {
    if (this.status !== s) {
      this.status = s;
      this.emit('status', s);
    }
  }

  /** The server was heard from on `ws`: the idle watchdog starts over. */
  private touch(ws: WebSocket): void {
    if (this.ws !== ws) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.ws !== ws) return;
      this.emit('idle', { ms: this.idleMs });
      ws.terminate(); // closes with 1006; the close handler reconnects
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    if (this.status !== 'connected' || code === 1006 || code === 1001 || code === 1012) this.urlIndex++;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    this.ws = null;
    this.live = false;
    this.synced = false;
    this.compacting = false;
    this.setStatus('disconnected');
    this.emit('close', { code, reason });
    if (PERMANENT.has(code)) {
      this.stopped = true;
      this.emit('denied', { code, reason });
      return;
    }
    if (this.stopped) return;
    const delay = Math.min(5000, 100 * 2 ** Math.min(this.attempts++, 6)) * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private refuse(reason: string, detail: Record<string, unknown> = {}): void {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    this.emit('refused', { reason, ...detail });
  }

  private onFrame(ws: WebSocket, frame: Buffer): void {
    if (this.ws !== ws || frame.length === 0) return;
    try {
      switch (frame[0]) {
        case FrameKind.Challenge: {
          const sig = signBytes(this.opts.identity, authSignedBytes(frame.subarray(1), this.opts.roomId));
          ws.send(encodeAuth(this.opts.identity.signPublicKey, sig, this.opts.token));
          return;
        }
        case FrameKind.Hello:
          return void this.onHello(decodeJsonFrame<HelloBody>(frame));
        case FrameKind.Update:
          return this.applyUpdateFrame(frame);
        case FrameKind.Snapshot:
          return this.applySnapshotFrame(frame);
        case FrameKind.Awareness:
          return this.applyAwarenessFrame(frame);
        case FrameKind.Synced:
          this.synced = true;
          this.attempts = 0;
          if (this.opts.awareness?.getLocalState()) this.sendAwareness(); // present to the room on every (re)join
          this.emit('synced');
          this.maybeCompact();
          return;
        case FrameKind.Ack: {
          const clock = decodeU64Frame(frame);
          while (this.inflight.length && this.inflight[0].clock <= clock) this.inflight.shift();
          if (clock > (this.seen.get(this.me) ?? 0)) this.seen.set(this.me, clock);
          this.emit('acked', clock);
          this.maybeCompact();
          return;
        }
        case FrameKind.Head:
          this.head = decodeU64Frame(frame);
          this.compacting = false;
          this.trailing = 0;
          this.emit('head', this.head);
          return;
        case FrameKind.KeyRotated:
          if (frame.length >= 5) this.epochSeen = Math.max(this.epochSeen, frame.readUInt32BE(1));
          void this.reloadKeys().then(() => this.resumeIfKeyed());
          return;
        case FrameKind.Error:
          return this.onServerError(decodeJsonFrame<ErrorBody>(frame));
        default:
          this.refuse('bad-frame', { kind: frame[0] });
      }
    } catch (err) {
      this.refuse(err instanceof OpenError ? err.reason : 'bad-frame', { message: (err as Error).message });
    }
  }

  private async onHello(h: HelloBody): Promise<void> {
    const ws = this.ws;
    this.helloClock = h.lastClock;
    this.epochSeen = Math.max(this.epochSeen, h.epoch);
    this.role = h.role;
    this.head = h.head;
    this.trailing = h.trailing;
    if (Number.isInteger(h.maxFrameBytes) && h.maxFrameBytes! >= 64 * 1024) this.maxFrameBytes = h.maxFrameBytes!;
    this.held = false;
    const beat = Number.isFinite(h.heartbeatMs) && h.heartbeatMs! >= 100 ? h.heartbeatMs! : 30_000;
    this.idleMs = this.opts.idleTimeoutMs ?? 2.5 * beat;
    if (this.ws) this.touch(this.ws);
    this.setStatus('connected');
    if (h.epoch > this.opts.keyring.current) await this.reloadKeys();
    if (this.ws !== ws) return;
    if (!this.keyed()) {
      // The server names a key this device does not hold, or holds only from a signer it does not trust (a forged
      // wrap): nothing is sealed until a trusted key for that epoch arrives. Edits stay queued; the socket stays open
      // for the rotation notice, after which the provider reconnects and sends them.
      this.emit('keys-missing', { epoch: this.epochSeen, have: this.opts.keyring.current });
      return;
    }
    // Everything up to lastClock is durable on the server; the server has none of the rest, so it is merged, renumbered
    // from there and resent.
    const queued = mergeForResend(this.inflight.filter((o) => o.clock > h.lastClock).map((o) => o.update));
    this.clock = h.lastClock;
    this.inflight = queued.map((update) => ({ clock: ++this.clock, update }));
    this.live = true;
    // A viewer's frames are sent too: the server is the authority and answers 'forbidden'.
    for (const o of this.inflight) this.sendUpdate(o);
    this.flush();
  }

  private async reloadKeys(): Promise<void> {
    if (!this.opts.refreshKeys) return;
    this.lastTrustRefresh = Date.now();
    try {
      await this.opts.refreshKeys();
    } catch (err) {
      this.emit('refresh-failed', err);
    }
    const retry = this.deferred;
    this.deferred = [];
    this.retrying = true;
    try {
      for (const f of retry) this.onFrame(this.ws!, f);
    } finally {
      this.retrying = false;
    }
    this.emit('keys', this.opts.keyring.current);
  }

  /** The key of the newest epoch the server announced is here: seal with it (and not with an older one). */
  private keyed(): boolean {
    const k = this.opts.keyring;
    return k.current >= this.epochSeen && k.get(k.current) !== undefined;
  }

  /**
   * Edits held for want of the announced key go out once it has loaded: at once on a live socket, and after a
   * rejoin (HELLO renumbers them) on one that never went live.
   */
  private resumeIfKeyed(): void {
    if (!this.keyed()) {
      this.emit('keys-missing', { epoch: this.epochSeen, have: this.opts.keyring.current });
      return;
    }
    if (this.live) this.flush();
    else if (this.ws && this.status === 'connected') this.ws.close(4000, 'resync');
  }

  /**
   * A verified frame from a device the roster does not give this right: reload the roster once (the sender may have
   * joined since) and try the frame again, or refuse it.
   */
  private untrusted(frame: Buffer, sender: Buffer, what: string): void {
    const canReload = this.opts.refreshKeys && !this.retrying && this.deferred.length < 10_000;
    if (canReload && (this.deferred.length > 0 || Date.now() - this.lastTrustRefresh >= TRUST_REFRESH_MS)) {
      this.deferred.push(frame);
      if (this.deferred.length === 1) void this.reloadKeys();
      return;
    }
    this.refuse('untrusted-sender', { sender: sender.toString('hex'), what });
  }

  private onServerError(e: ErrorBody): void {
    this.emit('server-error', e);
    if (e.code === 'snapshot-ahead' || e.code === 'stale-head' || e.code === 'bad-signature') {
      this.compacting = false;
      return;
    }
    if (e.code === 'forbidden') {
      this.inflight = [];
      return;
    }
    if (e.code === 'stale-epoch' || e.code === 'clock-gap' || e.code === 'replay' || e.code === 'no-room-key') {
      // Resynchronise: reload keys, reconnect, and let HELLO tell us where the durable log ends.
      void this.reloadKeys().finally(() => this.ws?.close(4000, 'resync'));
    }
  }

  private keyFor = (epoch: number) => this.opts.keyring.get(epoch);

  private openDeferring<T>(frame: Buffer, open: () => T): T | undefined {
    try {
      return open();
    } catch (err) {
      const retry = !this.retrying && this.opts.refreshKeys && this.deferred.length < 10_000;
      if (err instanceof OpenError && err.reason === 'unknown-epoch' && retry) {
        this.deferred.push(frame);
        if (this.deferred.length === 1) void this.reloadKeys();
        return undefined;
      }
      throw err;
    }
  }

  private applyUpdateFrame(frame: Buffer): void {
    const opened = this.openDeferring(frame, () => openData(this.opts.roomId, frame, this.keyFor));
    if (!opened) return;
    const { header } = opened;
    if (!this.opts.trust.canWrite(header.sender)) return this.untrusted(frame, header.sender, 'update');
    const sender = header.sender.toString('hex');
    // Live, every update was accepted by the relay under the room's current key; only the log a join replays holds
    // older ones. A sender never goes back to an older key.
    if ((this.synced && header.epoch < this.epochSeen) || header.epoch < (this.senderEpochs.get(sender) ?? 0)) {
      return this.refuse('stale-epoch', { sender, epoch: header.epoch, current: this.epochSeen });
    }
    // Replays are judged against the updates applied here; a snapshot's claim only says where the sender's clocks
    // go on. An update a snapshot claimed to cover is applied anyway (Yjs ignores what it already has), so a snapshot
    // that claims more than it holds cannot hide the updates it left out.
    const last = this.applied.get(sender) ?? 0;
    const base = Math.max(last, this.seen.get(sender) ?? 0);
    if (header.clock <= last) return this.refuse('replay', { sender, clock: header.clock });
    if (base !== 0 && header.clock > base + 1) {
      return this.refuse('clock-gap', { sender, clock: header.clock, expected: base + 1 });
    }
    this.applied.set(sender, header.clock);
    if (header.clock > base) this.seen.set(sender, header.clock);
    this.senderEpochs.set(sender, header.epoch);
    // The Yjs client ids whose items this update creates belong to its sender: nobody else may speak for them.
    for (const client of Y.parseUpdateMeta(opened.plaintext).from.keys()) {
      if (!this.presenceOwners.has(client)) this.presenceOwners.set(client, sender);
    }
    Y.applyUpdate(this.doc, opened.plaintext, this);
    this.trailing++;
    if (this.synced) this.maybeCompact();
  }

  private applySnapshotFrame(frame: Buffer): void {
    const opened = this.openDeferring(frame, () => openSnapshot(this.opts.roomId, frame, this.keyFor));
    if (!opened) return;
    const { header, plaintext } = opened;
    if (!this.opts.trust.canWrite(header.sender)) return this.untrusted(frame, header.sender, 'snapshot');
    // Its writer saw at most what this device sent and the server stored: a snapshot that covers more of this
    // device's updates was not made from the room's log, and applying it would also hide updates still to come.
    const mine = header.clocks.get(this.me) ?? 0;
    const sent = Math.max(this.clock, this.helloClock);
    if (mine > sent) return this.refuse('snapshot-ahead', { sender: header.sender.toString('hex'), mine, sent });
    Y.applyUpdate(this.doc, plaintext, this);
    for (const [s, c] of header.clocks) if (c > (this.seen.get(s) ?? 0)) this.seen.set(s, c);
  }

  private applyAwarenessFrame(frame: Buffer): void {
    const aw = this.opts.awareness;
    if (!aw) return;
    const { header, plaintext } = openData(this.opts.roomId, frame, this.keyFor);
    if (!this.opts.trust.isMember(header.sender)) return this.untrusted(frame, header.sender, 'presence');
    const sender = header.sender.toString('hex');
    const clients = awarenessClients(plaintext);
    const taken = clients.find((c) => (this.presenceOwners.get(c) ?? sender) !== sender);
    if (taken !== undefined) {
      return this.refuse('presence-spoofed', { sender, client: taken, owner: this.presenceOwners.get(taken) });
    }
    for (const c of clients) this.presenceOwners.set(c, sender);
    const known = aw.getStates().size;
    applyAwarenessUpdate(aw, plaintext, this);
    // The server keeps no presence: a peer seen for the first time (one who just joined) hears this client's state
    // now instead of at its next renewal (15 s). Peers who already know it see an update, not an addition, and stay quiet.
    if (aw.getStates().size > known) this.scheduleAwareness();
  }

  private scheduleAwareness(): void {
    if (this.live && !this.awarenessTimer)
      this.awarenessTimer = setTimeout(() => this.sendAwareness(), this.opts.batchMs ?? 20);
  }

  /** Sends this client's presence; `states` overrides the awareness's own (an empty map announces leaving). */
  private sendAwareness(states?: Map<number, Record<string, unknown>>): void {
    if (this.awarenessTimer) {
      clearTimeout(this.awarenessTimer);
      this.awarenessTimer = null;
    }
    const aw = this.opts.awareness;
    const key = this.opts.keyring.get(this.opts.keyring.current);
    if (!aw || !key || !this.live) return;
    const body = encodeAwarenessUpdate(aw, [aw.clientID], states ?? aw.getStates());
    this.sendRaw(
      sealData(
        FrameKind.Awareness,
        this.opts.roomId,
        this.opts.identity,
        this.opts.keyring.current,
        key,
        ++this.awarenessClock,
        body,
      ),
    );
  }

  /** The device key a Yjs client id (a cursor, an author) is bound to, hex; undefined if none spoke for it yet. */
  ownerOf(clientId: number): string | undefined {
    return this.presenceOwners.get(clientId);
  }

  private maybeCompact(): void {
    const n = this.opts.autoCompactAfter ?? DEFAULT_COMPACT_AFTER;
    // A viewer's snapshot would be refused: compaction is a member's job.
    if (n > 0 && this.role !== 'viewer' && this.trailing >= Math.round(n * (1 + this.compactJitter))) this.compact();
  }
}

/** The client ids an awareness update speaks for (y-protocols: count, then id, clock and JSON state for each). */
function awarenessClients(update: Uint8Array): number[] {
  const d = decoding.createDecoder(update);
  const n = decoding.readVarUint(d);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(decoding.readVarUint(d));
    decoding.readVarUint(d);
    decoding.readVarString(d);
  }
  return out;
}
