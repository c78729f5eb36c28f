// An end-to-end encrypted Yjs provider: keeps a Y.Doc in sync with one room through the relay, which only sees
// ciphertext. Local edits are batched for `batchMs` and sealed as one signed frame; every frame carries this
// device's next clock; frames stay queued until the server acknowledges them as durable and are resent (re-sealed,
// renumbered from the server's last durable clock) after a reconnect. Joining loads the snapshot plus the trailing
// log, applying updates one at a time (never one flat merge over the whole log).
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { applyAwarenessUpdate, encodeAwarenessUpdate, type Awareness } from 'y-protocols/awareness';
import {
  CloseCode, FrameKind, authSignedBytes, decodeJsonFrame, decodeU64Frame, encodeAuth, type ErrorBody, type HelloBody,
} from '../wire';
import { signBytes, type DeviceIdentity } from './identity';
import { OpenError, openData, openSnapshot, sealData, sealSnapshot, type RoomKeyring } from './room-crypto';

export interface ProviderOptions {
  /** ws://host:port of the sync server. */
  url: string;
  roomId: string;
  token: string;
  identity: DeviceIdentity;
  keyring: RoomKeyring;
  /** Reloads the keyring (for example SyncApi.loadKeyring); called when the room key rotates. */
  refreshKeys?: () => Promise<void>;
  awareness?: Awareness;
  /** Local edits within this window become one signed frame. */
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
const PERMANENT = new Set<number>([CloseCode.Unauthorized, CloseCode.Forbidden, CloseCode.NotFound, CloseCode.MemberRemoved]);
const DEFAULT_COMPACT_AFTER = 500; // trailing updates; a joining client then applies at most ~625 on top of a snapshot
const MAX_BATCH = 64; // a merge never spans more than this many inputs (local updates, or queued frames)
// Queued frames are merged only while the result stays this small, well under the server's frame limit.
const MAX_MERGED_BYTES = 256 * 1024;

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
      if (group.length > 1 && group.reduce((n, u) => n + u.length, 0) <= MAX_MERGED_BYTES) next.push(Y.mergeUpdates(group));
      else next.push(...group);
    }
    if (next.length === list.length) break;
    list = next;
  }
  return list;
}

interface Outgoing { clock: number; update: Uint8Array }

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
  private retryTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
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
  private readonly seen = new Map<string, number>();
  private readonly me: string;
  private readonly onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === this) return;
    this.unsent.push(update);
    if (this.unsent.length >= MAX_BATCH) this.flush();
    else if (!this.batchTimer && this.live) this.batchTimer = setTimeout(() => this.flush(), this.opts.batchMs ?? 20);
  };
  // Presence speaks only for this client (peers time out the others themselves) and, like edits, goes out at most once
  // per batch window: a cursor dragged across a file is one signed frame per window, not one per position.
  private readonly onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
    const aw = this.opts.awareness;
    if (origin === this || !aw) return;
    const id = aw.clientID;
    if (added.includes(id) || updated.includes(id) || removed.includes(id)) this.scheduleAwareness();
  };

  constructor(doc: Y.Doc, private readonly opts: ProviderOptions) {
    super();
    this.doc = doc;
    this.me = opts.identity.signPublicKey.toString('hex');
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
    const ws = new WebSocket(`${this.opts.url}/v1/rooms/${this.opts.roomId}/sync`, { perMessageDeflate: false });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => this.touch(ws));
    ws.on('ping', () => this.touch(ws));
    ws.on('message', (data: Buffer) => { this.touch(ws); this.onFrame(ws, data); });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
    ws.on('error', (err) => this.emit('socket-error', err));
  }

  /** Closes the socket without reconnecting; local edits stay queued and are sent on the next connect(). */
  disconnect(): void {
    this.stopped = true;
    // Peers drop this client's cursor now rather than when it times out (30 s).
    if (this.live && this.opts.awareness) this.sendAwareness(new Map());
    this.live = false; // edits from here on are queued for the next connect (merged then), not sent to a closing socket
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
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
        const held = this.held ? `; held behind an edit larger than the server's ${this.maxFrameBytes}-byte frame limit` : '';
        throw new Error(`${this.pendingCount} updates still unacknowledged after ${timeoutMs} ms${held}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Seals the local edits batched so far into frames now (offline: queues them for the reconnect). */
  flush(): void {
    if (this.batchTimer) { clearTimeout(this.batchTimer); this.batchTimer = null; }
    if (this.unsent.length === 0) return;
    const key = this.opts.keyring.get(this.opts.keyring.current);
    if (this.live && !key) return; // sent once the rotated key has loaded
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
    const frame = sealSnapshot(this.opts.roomId, this.opts.identity, this.opts.keyring.current, key, this.head, new Map(this.seen), Y.encodeStateAsUpdate(this.doc));
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
    const frame = sealData(FrameKind.Update, this.opts.roomId, this.opts.identity, epoch, this.opts.keyring.get(epoch)!, out.clock, out.update);
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
    if (this.status !== s) { this.status = s; this.emit('status', s); }
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
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    this.ws = null;
    this.live = false;
    this.synced = false;
    this.compacting = false;
    this.setStatus('disconnected');
    this.emit('close', { code, reason });
    if (PERMANENT.has(code)) { this.stopped = true; this.emit('denied', { code, reason }); return; }
    if (this.stopped) return;
    const delay = Math.min(5000, 100 * 2 ** Math.min(this.attempts++, 6)) * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; if (!this.stopped) this.connect(); }, delay);
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
        case FrameKind.Hello: return void this.onHello(decodeJsonFrame<HelloBody>(frame));
        case FrameKind.Update: return this.applyUpdateFrame(frame);
        case FrameKind.Snapshot: return this.applySnapshotFrame(frame);
        case FrameKind.Awareness: return this.applyAwarenessFrame(frame);
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
          void this.reloadKeys();
          return;
        case FrameKind.Error: return this.onServerError(decodeJsonFrame<ErrorBody>(frame));
        default:
          this.refuse('bad-frame', { kind: frame[0] });
      }
    } catch (err) {
      this.refuse(err instanceof OpenError ? err.reason : 'bad-frame', { message: (err as Error).message });
    }
  }

  private async onHello(h: HelloBody): Promise<void> {
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
    await this.opts.refreshKeys();
    const retry = this.deferred;
    this.deferred = [];
    for (const f of retry) this.onFrame(this.ws!, f);
    this.emit('keys', this.opts.keyring.current);
  }

  private onServerError(e: ErrorBody): void {
    this.emit('server-error', e);
    if (e.code === 'snapshot-ahead' || e.code === 'stale-head' || e.code === 'bad-signature') { this.compacting = false; return; }
    if (e.code === 'forbidden') { this.inflight = []; return; }
    if (e.code === 'stale-epoch' || e.code === 'clock-gap' || e.code === 'replay' || e.code === 'no-room-key') {
      // Resynchronise: reload keys, reconnect, and let HELLO tell us where the durable log ends.
      void this.reloadKeys().finally(() => this.ws?.close(4000, 'resync'));
    }
  }

  private keyFor = (epoch: number) => this.opts.keyring.get(epoch);

  private applyUpdateFrame(frame: Buffer): void {
    let opened;
    try {
      opened = openData(this.opts.roomId, frame, this.keyFor);
    } catch (err) {
      if (err instanceof OpenError && err.reason === 'unknown-epoch' && this.opts.refreshKeys && this.deferred.length < 10_000) {
        this.deferred.push(frame);
        if (this.deferred.length === 1) void this.reloadKeys();
        return;
      }
      throw err;
    }
    const sender = opened.header.sender.toString('hex');
    const last = this.seen.get(sender) ?? 0;
    if (opened.header.clock <= last) return this.refuse('replay', { sender, clock: opened.header.clock });
    if (opened.header.clock !== last + 1 && last !== 0) return this.refuse('clock-gap', { sender, clock: opened.header.clock, expected: last + 1 });
    this.seen.set(sender, opened.header.clock);
    Y.applyUpdate(this.doc, opened.plaintext, this);
    this.trailing++;
    if (this.synced) this.maybeCompact();
  }

  private applySnapshotFrame(frame: Buffer): void {
    const { header, plaintext } = openSnapshot(this.opts.roomId, frame, this.keyFor);
    Y.applyUpdate(this.doc, plaintext, this);
    for (const [s, c] of header.clocks) if (c > (this.seen.get(s) ?? 0)) this.seen.set(s, c);
  }

  private applyAwarenessFrame(frame: Buffer): void {
    const aw = this.opts.awareness;
    if (!aw) return;
    const { plaintext } = openData(this.opts.roomId, frame, this.keyFor);
    const known = aw.getStates().size;
    applyAwarenessUpdate(aw, plaintext, this);
    // The server keeps no presence: a peer seen for the first time (one who just joined) hears this client's state
    // now instead of at its next renewal (15 s). Peers who already know it see an update, not an addition, and stay quiet.
    if (aw.getStates().size > known) this.scheduleAwareness();
  }

  private scheduleAwareness(): void {
    if (this.live && !this.awarenessTimer) this.awarenessTimer = setTimeout(() => this.sendAwareness(), this.opts.batchMs ?? 20);
  }

  /** Sends this client's presence; `states` overrides the awareness's own (an empty map announces leaving). */
  private sendAwareness(states?: Map<number, Record<string, unknown>>): void {
    if (this.awarenessTimer) { clearTimeout(this.awarenessTimer); this.awarenessTimer = null; }
    const aw = this.opts.awareness;
    const key = this.opts.keyring.get(this.opts.keyring.current);
    if (!aw || !key || !this.live) return;
    const body = encodeAwarenessUpdate(aw, [aw.clientID], states ?? aw.getStates());
    this.sendRaw(sealData(FrameKind.Awareness, this.opts.roomId, this.opts.identity, this.opts.keyring.current, key, ++this.awarenessClock, body));
  }


  private maybeCompact(): void {
    const n = this.opts.autoCompactAfter ?? DEFAULT_COMPACT_AFTER;
    // A viewer's snapshot would be refused: compaction is a member's job.
    if (n > 0 && this.role !== 'viewer' && this.trailing >= Math.round(n * (1 + this.compactJitter))) this.compact();
  }
}
