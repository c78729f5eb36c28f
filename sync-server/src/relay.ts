// The WebSocket relay: authenticates a socket to one room, enforces per-sender clocks, stores and relays frames.
//
// DESIGN: the relay never decrypts (it has no key) and does not verify update signatures on the hot path: an Ed25519
// verify costs ~130 us here, which at 10,000 updates/s would be more than a core. Instead the socket is bound to one
// device key at authentication (proof of possession: the client signs a fresh server challenge with the key the
// account registered), and every frame's sender field must equal that key. Integrity against the relay itself is
// what matters for end-to-end encryption, and that is enforced where it counts: every receiving client verifies the
// signature and the AEAD tag and drops anything tampered. Snapshots, which delete log entries, are verified here too.
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
import { tokenHash } from './auth';
import type { SyncServerConfig } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { ROLE_RANK, type Role, type SyncStore } from './store/store';
import {
  CloseCode, FrameError, FrameKind, SIGNATURE_BYTES, authSignedBytes, decodeAuth, encodeJsonFrame, encodeU64Frame,
  readDataHeader, readSnapshotHeader, signedBytes, type ErrorBody, type HelloBody,
} from './wire';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
export function ed25519Key(raw: Buffer) {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

const MAX_AUTH_FRAME = 4096;
// How often the relay adds up what waits in the sockets' send queues (see watchOutgoing).
const OUTGOING_CHECK_MS = 100;
// Heartbeats go out in slices: every socket is still pinged once per heartbeat interval, but a twentieth of them at a
// time. Pinging thousands at once (and reading their pongs) was a burst of syscalls that held every relay behind it
// for ~100 ms on a loaded machine.
const HEARTBEAT_SLICES = 20;

interface Inflight { sender: string; clock: number; frame: Buffer }

class RoomState {
  readonly conns = new Set<Conn>();
  readonly inflight = new Set<Inflight>();
  constructor(
    readonly id: string,
    readonly teamId: string,
    public epoch: number,
    public head: number,
    readonly clocks: Map<string, number>,
  ) {}
}

type ConnState = 'pre-auth' | 'joining' | 'live' | 'closed';

class Conn {
  state: ConnState = 'pre-auth';
  userId = '';
  role: Role = 'viewer';
  sender = '';
  senderKey: Buffer = Buffer.alloc(0);
  ackClock = 0; // highest durable clock not yet acknowledged (acks are cumulative, one per commit batch)
  room: RoomState | null = null;
  alive = true;
  slot = 0; // heartbeat slice
  corked = false; // the socket holds this turn's frames until Relay.uncorkAll
  inflight = 0; // accepted updates not yet durable
  paused = false; // this socket's updates wait for the log writer (backpressure)
  reading = true; // whether the socket is read: not while paused, nor while every outgoing queue is full
  tokens: number;
  lastRefill = Date.now();
  preAuthBytes = 0;
  readonly pending: Buffer[] = []; // frames received while authenticating or joining
  readonly joinQueue: Buffer[] = []; // relayed frames that arrived while the initial state was being sent
  readonly challenge = randomBytes(32);
  authTimer: NodeJS.Timeout | null = null;
  constructor(readonly ws: WebSocket, readonly socket: Socket, readonly roomId: string, burst: number) {
    this.tokens = burst;
  }
}

export class Relay {
  private readonly rooms = new Map<string, RoomState>();
  private readonly loading = new Map<string, Promise<RoomState | undefined>>();
  private readonly conns = new Set<Conn>();
  private heartbeat: NodeJS.Timeout;
  private outgoingTimer: NodeJS.Timeout;
  private stopping = false; // shutdown has begun: no socket is read, no frame accepted
  private throttled = false; // reading every client stopped until the outgoing queues drain
  private throttles = 0;
  private outgoingEstimate = 0; // the last measured total plus what was sent since: measured again past the limit
  private throttleLoggedAt = 0;
  private readonly slices: Set<Conn>[] = Array.from({ length: HEARTBEAT_SLICES }, () => new Set());
  private nextSlot = 0;
  private beatCount = 0;
  private readonly corked: Conn[] = [];
  private readonly inUpdate;
  private readonly inAwareness;

  constructor(
    wss: WebSocketServer,
    private readonly store: SyncStore,
    private readonly cfg: SyncServerConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.inUpdate = metrics.framesIn.labels('update');
    this.inAwareness = metrics.framesIn.labels('awareness');
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.heartbeat = setInterval(() => this.beat(), cfg.heartbeatMs / HEARTBEAT_SLICES);
    this.heartbeat.unref();
    this.outgoingTimer = setInterval(() => this.watchOutgoing(), OUTGOING_CHECK_MS);
    this.outgoingTimer.unref();
  }

  // ---- hooks called by the HTTP API ----
  /** Closes every socket of a removed member in the team's rooms; returns how many were closed. */
  memberRemoved(teamId: string, userId: string): number {
    let n = 0;
    for (const c of this.conns) {
      if (c.room?.teamId === teamId && c.userId === userId) {
        this.close(c, CloseCode.MemberRemoved, 'removed from the team');
        n++;
      }
    }
    return n;
  }

  roleChanged(teamId: string, userId: string, role: Role): void {
    for (const c of this.conns) if (c.room?.teamId === teamId && c.userId === userId) c.role = role;
  }

  keysRotated(roomId: string, epoch: number): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.epoch = epoch;
    const frame = Buffer.alloc(5);
    frame[0] = FrameKind.KeyRotated;
    frame.writeUInt32BE(epoch, 1);
    for (const c of room.conns) this.send(c, frame);
  }

  connectionCount(): number {
    return this.conns.size;
  }

  /** Graceful shutdown: commit and acknowledge everything accepted, then close every socket. */
  async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.outgoingTimer);
    // Nothing is accepted once shutdown begins, so the flush below covers every accepted update. A frame that still
    // arrives is left unacknowledged, and its client resends it after reconnecting.
    this.stopping = true;
    for (const c of this.conns) this.applyReading(c);
    await this.store.flush();
    await new Promise((r) => setImmediate(r)); // let the acknowledgements of the last commit go out
    for (const c of this.conns) this.close(c, CloseCode.ShuttingDown, 'server shutting down');
  }

  // ---- connection lifecycle ----
  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const m = /^\/v1\/rooms\/([A-Za-z0-9_-]{1,64})\/sync(?:\?.*)?$/.exec(req.url ?? '');
    const conn = new Conn(ws, req.socket, m ? m[1] : '', this.cfg.rateLimitBurst);
    this.conns.add(conn);
    conn.slot = this.nextSlot++ % HEARTBEAT_SLICES;
    this.slices[conn.slot].add(conn);
    ws.on('pong', () => { conn.alive = true; });
    ws.on('close', () => this.onClose(conn));
    ws.on('error', (err) => this.log.debug({ err: err.message, room: conn.roomId }, 'socket error'));
    if (!m) {
      this.reject(conn, CloseCode.NotFound, 'unknown path: connect to /v1/rooms/<roomId>/sync');
      return;
    }
    conn.authTimer = setTimeout(() => this.reject(conn, CloseCode.AuthTimeout, `not authenticated within ${this.cfg.authTimeoutMs} ms`), this.cfg.authTimeoutMs);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data as Buffer, isBinary));
    const challenge = Buffer.concat([Buffer.from([FrameKind.Challenge]), conn.challenge]);
    ws.send(challenge);
  }

  private onClose(conn: Conn): void {
    if (conn.authTimer) clearTimeout(conn.authTimer);
    const wasAuthed = conn.state === 'live' || conn.state === 'joining';
    conn.state = 'closed';
    this.conns.delete(conn);
    this.slices[conn.slot].delete(conn);
    const room = conn.room;
    if (room) {
      room.conns.delete(conn);
      if (wasAuthed) this.metrics.connections.dec();
      this.maybeDropRoom(room);
    }
  }

  private maybeDropRoom(room: RoomState): void {
    if (room.conns.size === 0 && room.inflight.size === 0 && this.rooms.get(room.id) === room) {
      this.rooms.delete(room.id);
      this.metrics.rooms.set(this.rooms.size);
    }
  }

  private reject(conn: Conn, code: number, reason: string): void {
    this.metrics.rejected.inc({ reason: String(code) });
    this.log.info({ room: conn.roomId, code, reason }, 'connection refused');
    this.close(conn, code, reason);
  }

  private close(conn: Conn, code: number, reason: string): void {
    if (conn.state === 'closed') return;
    try {
      conn.ws.close(code, reason.slice(0, 120));
    } catch {
      conn.ws.terminate();
    }
    // A peer that never answers the close handshake is cut off; the close handler does the bookkeeping.
    setTimeout(() => conn.ws.terminate(), 1000).unref();
  }

  /** Pings one slice; a socket that has not answered its previous ping (one interval ago) is cut off. */
  private beat(): void {
    for (const c of this.slices[this.beatCount++ % HEARTBEAT_SLICES]) {
      if (!c.alive) { c.ws.terminate(); continue; }
      c.alive = false;
      if (c.state === 'closed') continue;
      this.cork(c); // leaves with whatever else this turn sends to the socket
      try { c.ws.ping(); } catch { /* closed meanwhile */ }
    }
  }

  private send(conn: Conn, frame: Buffer): void {
    if (conn.state === 'closed') return;
    if (conn.ws.bufferedAmount > this.cfg.maxBufferedPerConnection) {
      this.close(conn, 1013, 'client too slow: outgoing buffer full, reconnect');
      return;
    }
    this.cork(conn);
    conn.ws.send(frame);
    this.outgoingEstimate += frame.length;
    if (!this.throttled && this.outgoingEstimate > this.cfg.maxBufferedTotal) this.watchOutgoing();
  }

  // Frames sent to one socket in the same event-loop turn leave in one writev: a group commit releases hundreds of
  // relays and acks at once, and one syscall per frame was most of the relay's CPU (loopback: ~12 us per writev).
  private cork(conn: Conn): void {
    if (conn.corked) return;
    conn.corked = true;
    conn.socket.cork();
    if (this.corked.push(conn) === 1) setImmediate(this.uncorkAll);
  }

  private readonly uncorkAll = (): void => {
    for (const c of this.corked) {
      c.corked = false;
      c.socket.uncork();
    }
    this.corked.length = 0;
  };

  private sendError(conn: Conn, body: ErrorBody): void {
    this.metrics.rejected.inc({ reason: body.code });
    this.send(conn, encodeJsonFrame(FrameKind.Error, body));
  }

  private onMessage(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (conn.state === 'closed' || this.stopping) return;
    if (!isBinary || data.length === 0) {
      if (conn.state === 'pre-auth' && conn.userId === '') { this.reject(conn, CloseCode.Unauthorized, 'expected a binary AUTH frame'); return; }
      this.sendError(conn, { code: 'bad-frame', message: 'frames are binary; text frames are not part of the protocol' });
      return;
    }
    if (conn.state === 'pre-auth') {
      conn.preAuthBytes += data.length;
      if (conn.preAuthBytes > this.cfg.preAuthBufferBytes) { this.reject(conn, CloseCode.TooLarge, 'pre-authentication buffer exceeded'); return; }
      if (conn.userId === '' && conn.pending.length === 0 && conn.authTimer) {
        // First frame: must be AUTH.
        if (data[0] !== FrameKind.Auth || data.length > MAX_AUTH_FRAME) { this.reject(conn, CloseCode.Unauthorized, 'the first frame must be AUTH with a token'); return; }
        conn.userId = 'pending';
        void this.authenticate(conn, data);
        return;
      }
      conn.pending.push(data);
      return;
    }
    if (conn.state === 'joining') { conn.pending.push(data); return; }
    this.handle(conn, data);
  }

  private async authenticate(conn: Conn, data: Buffer): Promise<void> {
    try {
      const auth = decodeAuth(data);
      const user = await this.store.userByTokenHash(tokenHash(auth.token), Date.now());
      if (!user) return this.reject(conn, CloseCode.Unauthorized, 'invalid or expired token: create one with POST /v1/tokens');
      const key = await this.store.deviceKey(Buffer.from(auth.signPublicKey));
      if (!key || key.userId !== user.id) return this.reject(conn, CloseCode.Unauthorized, 'device key not registered to this account: PUT /v1/me/keys');
      if (!verify(null, authSignedBytes(conn.challenge, conn.roomId), ed25519Key(Buffer.from(auth.signPublicKey)), auth.signature)) {
        return this.reject(conn, CloseCode.Unauthorized, 'challenge signature does not verify for the device key');
      }
      const roomRow = await this.store.room(conn.roomId);
      if (!roomRow) return this.reject(conn, CloseCode.NotFound, `room ${conn.roomId} does not exist`);
      const member = await this.store.membership(roomRow.teamId, user.id);
      if (!member) return this.reject(conn, CloseCode.Forbidden, 'room belongs to a team you are not a member of');
      if (conn.state === 'closed') return;
      if (conn.authTimer) { clearTimeout(conn.authTimer); conn.authTimer = null; }
      conn.userId = user.id;
      conn.role = member.role;
      conn.senderKey = Buffer.from(auth.signPublicKey);
      conn.sender = conn.senderKey.toString('hex');
      await this.join(conn);
    } catch (err) {
      if (err instanceof FrameError) return this.reject(conn, CloseCode.Unauthorized, err.message);
      this.log.error({ err: (err as Error).message, room: conn.roomId }, 'authentication failed');
      this.reject(conn, 1011, 'internal error during authentication');
    }
  }

  private async roomState(roomId: string): Promise<RoomState | undefined> {
    const existing = this.rooms.get(roomId);
    if (existing) return existing;
    let p = this.loading.get(roomId);
    if (!p) {
      p = (async () => {
        const row = await this.store.room(roomId);
        if (!row) return undefined;
        const clocks = await this.store.senderClocks(roomId);
        const state = new RoomState(roomId, row.teamId, row.keyEpoch, row.head, clocks);
        this.rooms.set(roomId, state);
        this.metrics.rooms.set(this.rooms.size);
        return state;
      })().finally(() => this.loading.delete(roomId));
      this.loading.set(roomId, p);
    }
    return p;
  }

  private async join(conn: Conn): Promise<void> {
    const room = await this.roomState(conn.roomId);
    if (!room || conn.state === 'closed') return;
    conn.state = 'joining';
    conn.room = room;
    room.conns.add(conn);
    this.metrics.connections.inc();
    // Everything accepted so far becomes durable first, so lastClock tells the client exactly what it may forget.
    await this.store.flush();
    // Frames committed from here on are relayed into joinQueue; the log below may contain some of them as well,
    // and the client drops such duplicates by (sender, clock).
    const log = await this.store.loadRoomLog(room.id);
    if ((conn.state as ConnState) === 'closed') return;
    const hello: HelloBody = {
      room: room.id, role: conn.role, lastClock: room.clocks.get(conn.sender) ?? 0, epoch: room.epoch, head: room.head,
      trailing: log.updates.length, maxFrameBytes: this.cfg.maxFrameBytes, heartbeatMs: this.cfg.heartbeatMs,
    };
    this.send(conn, encodeJsonFrame(FrameKind.Hello, hello));
    if (log.snapshot) this.send(conn, log.snapshot);
    for (const f of log.updates) this.send(conn, f);
    const seen = new Map<string, number>(log.snapshot ? readSnapshotHeader(log.snapshot).clocks : []);
    for (const f of log.updates) {
      const h = readDataHeader(f);
      seen.set(h.sender.toString('hex'), h.clock);
    }
    for (const f of conn.joinQueue) {
      if (f[0] === FrameKind.Update) {
        const h = readDataHeader(f);
        if (h.clock <= (seen.get(h.sender.toString('hex')) ?? 0)) continue; // already in the log just sent
      }
      this.send(conn, f);
    }
    conn.joinQueue.length = 0;
    this.send(conn, Buffer.from([FrameKind.Synced]));
    conn.state = 'live';
    this.log.info({ room: room.id, user: conn.userId, role: conn.role, sender: conn.sender.slice(0, 16) }, 'joined');
    for (const f of conn.pending.splice(0)) {
      if ((conn.state as ConnState) !== 'live' || this.stopping) break;
      this.handle(conn, f);
    }
  }

  private takeToken(conn: Conn): boolean {
    const now = Date.now();
    conn.tokens = Math.min(this.cfg.rateLimitBurst, conn.tokens + ((now - conn.lastRefill) * this.cfg.rateLimitPerSecond) / 1000);
    conn.lastRefill = now;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }

  private handle(conn: Conn, frame: Buffer): void {
    if (!this.takeToken(conn)) {
      this.sendError(conn, { code: 'rate-limited', message: `more than ${this.cfg.rateLimitPerSecond} frames/s; reconnect and slow down` });
      this.close(conn, CloseCode.RateLimited, 'rate limit exceeded');
      return;
    }
    const room = conn.room!;
    try {
      switch (frame[0]) {
        case FrameKind.Update: return this.onUpdate(conn, room, frame);
        case FrameKind.Awareness: return this.onAwareness(conn, room, frame);
        case FrameKind.Snapshot: return this.onSnapshot(conn, room, frame);
        default:
          this.sendError(conn, { code: 'bad-frame', message: `unknown frame kind 0x${frame[0].toString(16)}` });
      }
    } catch (err) {
      if (err instanceof FrameError) this.sendError(conn, { code: err.code, message: err.message });
      else {
        this.log.error({ err: (err as Error).message, room: room.id }, 'frame handling failed');
        this.sendError(conn, { code: 'internal', message: 'internal error; the frame was not stored' });
      }
    }
  }

  private checkSender(conn: Conn, sender: Buffer): boolean {
    if (sender.equals(conn.senderKey)) return true;
    this.sendError(conn, { code: 'sender-mismatch', message: 'frame sender is not the device key this socket authenticated with' });
    return false;
  }

  private canWrite(conn: Conn): boolean {
    if (ROLE_RANK[conn.role] >= ROLE_RANK.member) return true;
    this.sendError(conn, { code: 'forbidden', message: `role ${conn.role} is read-only; ask an admin for the member role` });
    return false;
  }

  private relay(room: RoomState, from: Conn, frame: Buffer): void {
    let n = 0;
    for (const c of room.conns) {
      if (c === from) continue;
      if (c.state === 'joining') c.joinQueue.push(frame);
      else { this.send(c, frame); n++; }
    }
    this.metrics.framesOut.inc(n);
  }

  private onUpdate(conn: Conn, room: RoomState, frame: Buffer): void {
    if (!this.canWrite(conn)) return;
    const h = readDataHeader(frame);
    if (!this.checkSender(conn, h.sender)) return;
    if (room.epoch === 0) return this.sendError(conn, { code: 'no-room-key', message: 'the room has no key yet: an admin must upload wrapped keys first' });
    if (h.epoch !== room.epoch) return this.sendError(conn, { code: 'stale-epoch', message: `frame uses key epoch ${h.epoch}; the room is at ${room.epoch}: fetch keys and re-seal`, expected: room.epoch, clock: h.clock });
    const last = room.clocks.get(conn.sender) ?? 0;
    if (h.clock !== last + 1) {
      return this.sendError(conn, { code: h.clock <= last ? 'replay' : 'clock-gap', message: `clock ${h.clock} refused: expected ${last + 1}`, clock: h.clock, expected: last + 1 });
    }
    room.clocks.set(conn.sender, h.clock);
    const entry: Inflight = { sender: conn.sender, clock: h.clock, frame };
    room.inflight.add(entry);
    this.holdBack(conn, 1);
    this.inUpdate.inc();
    if (this.log.isLevelEnabled('trace')) this.log.trace({ room: room.id, sender: conn.sender.slice(0, 16), clock: h.clock, bytes: frame.length }, 'update');
    // Relayed only once durable: a peer can then never build on an update that a crash could still lose, so every
    // acknowledged update stays readable after a restart (its causal dependencies are durable too).
    this.store.appendUpdate({ roomId: room.id, sender: h.sender, clock: h.clock, frame }).then(
      () => {
        room.inflight.delete(entry);
        this.holdBack(conn, -1);
        this.relay(room, conn, frame);
        // Every write of a commit batch resolves in the same tick: one cumulative ACK per socket per batch.
        if (conn.ackClock === 0) queueMicrotask(() => { this.send(conn, encodeU64Frame(FrameKind.Ack, conn.ackClock)); conn.ackClock = 0; });
        conn.ackClock = Math.max(conn.ackClock, h.clock);
        if (room.conns.size === 0) this.maybeDropRoom(room);
      },
      (err: Error) => this.storageFailed(room, err),
    );
  }

  // Backpressure: a connection whose updates outrun the log writer stops being read, so the frames awaiting
  // durability (and the memory they hold) stay bounded; TCP then slows the client down.
  private holdBack(conn: Conn, delta: number): void {
    conn.inflight += delta;
    const max = this.cfg.maxInflightPerConnection;
    if (!conn.paused && conn.inflight >= max) {
      conn.paused = true;
      this.applyReading(conn);
    } else if (conn.paused && conn.inflight <= max / 2) {
      conn.paused = false;
      this.applyReading(conn);
    }
  }

  private applyReading(conn: Conn): void {
    // Sockets still authenticating are read on: their frames are few and bounded, and their auth timer runs.
    const read = !this.stopping && !conn.paused && !(this.throttled && conn.state === 'live');
    if (read === conn.reading) return;
    conn.reading = read;
    if (read) conn.ws.resume();
    else conn.ws.pause();
  }

  // Overload: when receivers fall behind, what the relay sends them waits in the sockets' queues, in this process.
  // Past maxBufferedTotal the relay stops reading every client, so senders are held back by TCP (and the frames
  // wait in their own processes) instead of the relay's memory growing with the backlog; it reads again at half.
  // Measured every OUTGOING_CHECK_MS, and at once when what was sent since the last measurement could pass the limit.
  private watchOutgoing(): void {
    let total = 0;
    for (const c of this.conns) total += c.ws.bufferedAmount;
    this.outgoingEstimate = total;
    this.metrics.outgoingBytes.set(total);
    const max = this.cfg.maxBufferedTotal;
    const throttle = this.throttled ? total > max / 2 : total > max;
    const changed = throttle !== this.throttled;
    this.throttled = throttle;
    // Also while throttled: a socket that went live since the last check stops being read too.
    if (changed || throttle) for (const c of this.conns) this.applyReading(c);
    if (!changed) return;
    this.metrics.readingPaused.set(throttle ? 1 : 0);
    if (throttle) this.throttles++;
    const now = Date.now();
    if (throttle && now - this.throttleLoggedAt >= 10_000) { // at most one line per 10 s of sustained overload
      this.throttleLoggedAt = now;
      this.log.warn({ bufferedBytes: total, connections: this.conns.size, pausesSinceLastLine: this.throttles }, 'outgoing queues full: reading clients paused until half has drained');
      this.throttles = 0;
    }
  }

  private storageFailed(room: RoomState, err: Error): void {
    // Nothing of the failed batch was acknowledged; dropping the room state makes the next join reload the durable
    // clocks, and clients resend what was not acknowledged.
    this.log.error({ room: room.id, err: err.message }, 'storage write failed; closing the room');
    room.inflight.clear();
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    for (const c of room.conns) this.close(c, CloseCode.StorageFailure, 'storage failure; reconnect to resend');
  }

  private onAwareness(conn: Conn, room: RoomState, frame: Buffer): void {
    const h = readDataHeader(frame);
    if (!this.checkSender(conn, h.sender)) return;
    this.inAwareness.inc();
    this.relay(room, conn, frame);
  }

  private onSnapshot(conn: Conn, room: RoomState, frame: Buffer): void {
    if (!this.canWrite(conn)) return;
    const h = readSnapshotHeader(frame);
    if (!this.checkSender(conn, h.sender)) return;
    if (h.epoch !== room.epoch) return this.sendError(conn, { code: 'stale-epoch', message: `snapshot uses epoch ${h.epoch}; the room is at ${room.epoch}`, expected: room.epoch });
    if (h.baseHead !== room.head) return this.sendError(conn, { code: 'stale-head', message: `snapshot builds on head ${h.baseHead}; the current head is ${room.head}`, expected: room.head });
    for (const [sender, clock] of h.clocks) {
      if (clock > (room.clocks.get(sender) ?? 0)) return this.sendError(conn, { code: 'snapshot-ahead', message: 'snapshot claims updates the server has not stored' });
    }
    const body = frame.subarray(0, frame.length - SIGNATURE_BYTES);
    if (!verify(null, signedBytes(room.id, body), ed25519Key(h.sender), frame.subarray(frame.length - SIGNATURE_BYTES))) {
      return this.sendError(conn, { code: 'bad-signature', message: 'snapshot signature does not verify' });
    }
    room.head += 1;
    const head = room.head;
    this.metrics.framesIn.inc({ kind: 'snapshot' });
    this.store.putSnapshot({ roomId: room.id, head, frame, covers: h.clocks }).then(
      () => {
        this.log.info({ room: room.id, head, bytes: frame.length, covers: h.clocks.size }, 'snapshot stored; covered updates dropped');
        const f = encodeU64Frame(FrameKind.Head, head);
        for (const c of room.conns) this.send(c, f);
      },
      (err: Error) => this.storageFailed(room, err),
    );
  }
}
