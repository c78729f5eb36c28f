// The WebSocket relay: authenticates a socket to one room, enforces per-sender clocks, stores and relays frames.
//
// DESIGN: the relay never decrypts (it has no key). The socket is bound to one device key at authentication (proof of
// possession: the client signs a fresh server challenge with the key the account registered), and every frame's
// sender field must equal that key. Every frame it stores (updates and snapshots) must also carry a valid signature
// of that key, so no member can fill a room with bytes every client would refuse; the checks run on verifier threads,
// a turn's frames at a time (frame-verifier.ts), and each socket's frames are then taken in arrival order, so clocks,
// epochs and quotas are checked exactly as if verification were instant. Awareness is relayed, never stored, and
// only its receivers verify it. Integrity against the relay itself is still enforced where it counts: every receiving
// client verifies the signature and the AEAD tag and drops anything tampered.
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
import { tokenHash } from './auth';
import type { ByteQuota, RoomBytes } from './byte-quota';
import { addressKey } from './client-address';
import type { SyncServerConfig } from './config';
import { FrameVerifier, type Verdict } from './frame-verifier';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { ControlMessage, Fanout } from './fanout/fanout';
import { ROLE_RANK, StoreRefusal, type Role, type SyncStore } from './store/store';
import {
  CloseCode,
  FrameError,
  FrameKind,
  MIN_DATA_FRAME,
  SENDER_BYTES,
  SIGNATURE_BYTES,
  authSignedBytes,
  decodeAuth,
  decodeU64Frame,
  encodeJsonFrame,
  encodeU64Frame,
  readDataHeader,
  readSnapshotHeader,
  signedBytes,
  type ErrorBody,
  type HelloBody,
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
// At most one warning line per this long about sockets refused past the per-address cap.
const CAP_WARNING_MS = 10_000;

interface Inflight {
  sender: string;
  clock: number;
  frame: Buffer;
}
/** A frame waiting its turn on its socket: 'pending' until its signature is checked, 'unchecked' if it needs none. */
interface Queued {
  frame: Buffer;
  verdict: Verdict | 'pending' | 'unchecked';
}

/** Work for a room's feed of updates from other instances: a frame to relay, or a sender's clock to catch up to. */
type FeedItem = { frame: Buffer; from: Conn | null } | { sender: string; upTo: number };

class RoomState {
  readonly conns = new Set<Conn>();
  readonly inflight = new Set<Inflight>();
  /** With fan-out: each sender's highest clock relayed to this instance's sockets (or in the log they loaded). */
  readonly relayed: Map<string, number>;
  /** With fan-out: set while missing updates are read from the store; later frames wait here, in order. */
  feed: FeedItem[] | null = null;
  constructor(
    readonly id: string,
    readonly teamId: string,
    public epoch: number,
    public head: number,
    readonly clocks: Map<string, number>,
    public rotationRequired: boolean, // a member left and the key has not been rotated since: no writes
    readonly bytes: RoomBytes,
  ) {
    this.relayed = new Map(clocks);
  }
}

type ConnState = 'pre-auth' | 'joining' | 'live' | 'closed';

class Conn {
  state: ConnState = 'pre-auth';
  userId = '';
  role: Role = 'viewer';
  sender = '';
  senderKey: Buffer = Buffer.alloc(0);
  tokenHash = ''; // of the token it authenticated with, re-checked at heartbeats
  userSenders: string[] = []; // the user's device keys (hex): the user quota counts all of them
  closing = false; // a close frame went out: never read again
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
  preAuthBytes = 0; // bytes received, partial frames included, while not authenticated
  countsPreAuth = false; // counted among its address's unauthenticated sockets
  stopCounting: () => void = () => undefined;
  readonly queue: Queued[] = []; // frames of a live socket, in arrival order, while one awaits its signature check
  readonly pending: Buffer[] = []; // frames received while authenticating or joining
  readonly joinQueue: Buffer[] = []; // relayed frames that arrived while the initial state was being sent
  readonly challenge = randomBytes(32);
  authTimer: NodeJS.Timeout | null = null;
  constructor(
    readonly ws: WebSocket,
    readonly socket: Socket,
    readonly roomId: string,
    burst: number,
    readonly address: string,
  ) {
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
  private readonly preAuthByAddress = new Map<string, number>();
  private capWarnedAt = 0;
  private capRefusals = 0;
  private readonly verifier: FrameVerifier;

  constructor(
    wss: WebSocketServer,
    private readonly store: SyncStore,
    private readonly cfg: SyncServerConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly quota: ByteQuota,
    private readonly fanout: Fanout | null = null,
  ) {
    this.verifier = new FrameVerifier(undefined, (err) => log.error({ err: err.message }, 'frame verifier failed'));
    this.inUpdate = metrics.framesIn.labels('update');
    this.inAwareness = metrics.framesIn.labels('awareness');
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.heartbeat = setInterval(() => this.beat(), cfg.heartbeatMs / HEARTBEAT_SLICES);
    this.heartbeat.unref();
    this.outgoingTimer = setInterval(() => this.watchOutgoing(), OUTGOING_CHECK_MS);
    this.outgoingTimer.unref();
  }

  /** Joins the other instances' fan-out; with none, this relay alone serves its rooms. */
  async startFanout(): Promise<void> {
    await this.fanout?.start({
      frame: (roomId, frame) => this.onFanoutFrame(roomId, frame),
      control: (m) => this.applyControl(m),
      gap: () => {
        this.log.warn('fan-out reconnected: reading what the other instances stored meanwhile from the log');
        for (const room of this.rooms.values()) void this.catchUp(room);
      },
    });
  }

  // ---- hooks called by the HTTP API; with fan-out, every instance acts on them ----
  /** Closes every socket of a removed member in the team's rooms; returns how many were closed here. */
  memberRemoved(teamId: string, userId: string): number {
    this.fanout?.publishControl({ type: 'member-removed', teamId, userId });
    return this.closeMember(teamId, userId);
  }

  roleChanged(teamId: string, userId: string, role: Role): void {
    this.fanout?.publishControl({ type: 'role-changed', teamId, userId, role });
    this.setRole(teamId, userId, role);
  }

  /** A member left the team: its keyed rooms take no writes until their key is rotated (keysRotated). */
  rotationRequired(teamId: string): void {
    this.fanout?.publishControl({ type: 'rotation-required', teamId });
    this.requireRotation(teamId);
  }

  /** Closes every socket authenticated with a token that was just revoked; returns how many were closed here. */
  tokenRevoked(hash: string): number {
    this.fanout?.publishControl({ type: 'token-revoked', hash });
    return this.closeToken(hash);
  }

  keysRotated(roomId: string, epoch: number): void {
    this.fanout?.publishControl({ type: 'keys-rotated', roomId, epoch });
    this.announceRotation(roomId, epoch);
  }

  private applyControl(m: ControlMessage): void {
    this.log.debug({ control: m.type }, 'change from another instance');
    switch (m.type) {
      case 'member-removed':
        return void this.closeMember(m.teamId, m.userId);
      case 'role-changed':
        return this.setRole(m.teamId, m.userId, m.role);
      case 'rotation-required':
        return this.requireRotation(m.teamId);
      case 'token-revoked':
        return void this.closeToken(m.hash);
      case 'keys-rotated':
        return this.announceRotation(m.roomId, m.epoch);
    }
  }

  private closeMember(teamId: string, userId: string): number {
    let n = 0;
    for (const c of this.conns) {
      if (c.room?.teamId === teamId && c.userId === userId) {
        this.close(c, CloseCode.MemberRemoved, 'removed from the team');
        n++;
      }
    }
    return n;
  }

  private setRole(teamId: string, userId: string, role: Role): void {
    for (const c of this.conns) if (c.room?.teamId === teamId && c.userId === userId) c.role = role;
  }

  private requireRotation(teamId: string): void {
    const mark = (room: RoomState | undefined) => {
      if (room?.teamId === teamId && room.epoch > 0) room.rotationRequired = true;
    };
    for (const room of this.rooms.values()) mark(room);
    for (const loading of this.loading.values()) void loading.then(mark); // read from the database before the change
  }

  private closeToken(hash: string): number {
    let n = 0;
    for (const c of this.conns) {
      if (c.tokenHash !== hash) continue;
      this.close(c, CloseCode.Unauthorized, 'token revoked: log in again');
      n++;
    }
    return n;
  }

  private announceRotation(roomId: string, epoch: number): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.epoch = epoch;
    room.rotationRequired = false;
    const frame = Buffer.alloc(5);
    frame[0] = FrameKind.KeyRotated;
    frame.writeUInt32BE(epoch, 1);
    const announce = () => {
      for (const c of room.conns) this.send(c, frame);
    };
    // Updates accepted under the old key are relayed once durable; the notice goes after them, so a client that has
    // seen the rotation (and refuses older keys from then on) never receives one of them live.
    if (room.inflight.size === 0) announce();
    else this.store.flush().then(announce, announce);
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
    await this.verifier.close();
    await this.fanout?.close();
  }

  // ---- connection lifecycle ----
  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const m = /^\/v1\/rooms\/([A-Za-z0-9_-]{1,64})\/sync(?:\?.*)?$/.exec(req.url ?? '');
    const conn = new Conn(ws, req.socket, m ? m[1] : '', this.cfg.rateLimitBurst, addressKey(req.socket.remoteAddress));
    this.conns.add(conn);
    conn.slot = this.nextSlot++ % HEARTBEAT_SLICES;
    this.slices[conn.slot].add(conn);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('close', () => this.onClose(conn));
    ws.on('error', (err) => this.log.debug({ err: err.message, room: conn.roomId }, 'socket error'));
    if (!m) {
      this.reject(conn, CloseCode.NotFound, 'unknown path: connect to /v1/rooms/<roomId>/sync');
      return;
    }
    const waiting = this.preAuthByAddress.get(conn.address) ?? 0;
    if (waiting >= this.cfg.maxPreAuthPerAddress) {
      this.refuseOverCap(conn);
      return;
    }
    this.preAuthByAddress.set(conn.address, waiting + 1);
    conn.countsPreAuth = true;
    // Counted as bytes arrive, not as whole frames: ws holds a frame until it is complete, and an unauthenticated
    // peer may not make it hold more than a few KiB (a declared 8 MiB frame was 8 MiB per idle socket).
    const count = (chunk: Buffer) => {
      conn.preAuthBytes += chunk.length;
      if (conn.preAuthBytes <= this.cfg.preAuthBufferBytes || conn.closing) return;
      this.reject(conn, CloseCode.TooLarge, `more than ${this.cfg.preAuthBufferBytes} bytes before authentication`);
      ws.pause(); // the close frame still goes out; nothing more is read or held
    };
    req.socket.prependListener('data', count);
    conn.stopCounting = () => req.socket.off('data', count);
    conn.authTimer = setTimeout(
      () => this.reject(conn, CloseCode.AuthTimeout, `not authenticated within ${this.cfg.authTimeoutMs} ms`),
      this.cfg.authTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.onMessage(conn, data as Buffer, isBinary));
    const challenge = Buffer.concat([Buffer.from([FrameKind.Challenge]), conn.challenge]);
    ws.send(challenge);
  }

  /** The socket is authenticated, or gone: it no longer counts against its address. */
  private leavePreAuth(conn: Conn): void {
    conn.stopCounting();
    if (!conn.countsPreAuth) return;
    conn.countsPreAuth = false;
    const n = (this.preAuthByAddress.get(conn.address) ?? 1) - 1;
    if (n > 0) this.preAuthByAddress.set(conn.address, n);
    else this.preAuthByAddress.delete(conn.address);
  }

  private refuseOverCap(conn: Conn): void {
    const limit = this.cfg.maxPreAuthPerAddress;
    const reason = `too many unauthenticated connections from your address (limit ${limit}): retry later`;
    this.reject(conn, CloseCode.RateLimited, reason);
    conn.ws.pause(); // whatever it sends until it is cut off is not read, so not held
    this.capRefusals++;
    const now = Date.now();
    if (now - this.capWarnedAt < CAP_WARNING_MS) return;
    this.capWarnedAt = now;
    this.log.warn(
      { address: conn.address, limit, refusedSinceLastLine: this.capRefusals },
      `too many unauthenticated connections from ${conn.address}: more are refused (4429) until some authenticate`,
    );
    this.capRefusals = 0;
  }

  private onClose(conn: Conn): void {
    if (conn.authTimer) clearTimeout(conn.authTimer);
    this.leavePreAuth(conn);
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
      this.fanout?.leaveRoom(room.id);
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
    conn.closing = true;
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
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      if (c.state === 'closed') continue;
      if (c.tokenHash) this.checkToken(c);
      this.cork(c); // leaves with whatever else this turn sends to the socket
      try {
        c.ws.ping();
      } catch {
        /* closed meanwhile */
      }
    }
  }

  /** A socket lives as long as its token: one revoked or expired since the socket opened closes it (4401). */
  private checkToken(c: Conn): void {
    this.store.tokenExpiresAt(c.tokenHash).then(
      (expires) => {
        if (expires !== undefined && expires > Date.now()) return;
        this.close(c, CloseCode.Unauthorized, `token ${expires === undefined ? 'revoked' : 'expired'}: log in again`);
      },
      (err: Error) => this.log.error({ err: err.message }, 'token check failed; checked again at the next heartbeat'),
    );
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
      if (conn.state === 'pre-auth' && conn.userId === '') {
        this.reject(conn, CloseCode.Unauthorized, 'expected a binary AUTH frame');
        return;
      }
      this.sendError(conn, {
        code: 'bad-frame',
        message: 'frames are binary; text frames are not part of the protocol',
      });
      return;
    }
    if (conn.state === 'pre-auth') {
      if (conn.closing) return;
      if (conn.userId === '' && conn.pending.length === 0 && conn.authTimer) {
        // First frame: must be AUTH.
        if (data[0] !== FrameKind.Auth || data.length > MAX_AUTH_FRAME) {
          this.reject(conn, CloseCode.Unauthorized, 'the first frame must be AUTH with a token');
          return;
        }
        conn.userId = 'pending';
        void this.authenticate(conn, data);
        return;
      }
      conn.pending.push(data);
      return;
    }
    if (conn.state === 'joining') {
      conn.pending.push(data);
      return;
    }
    this.handle(conn, data);
  }

  private async authenticate(conn: Conn, data: Buffer): Promise<void> {
    try {
      const auth = decodeAuth(data);
      const user = await this.store.userByTokenHash(tokenHash(auth.token), Date.now());
      if (!user)
        return this.reject(conn, CloseCode.Unauthorized, 'invalid or expired token: create one with POST /v1/tokens');
      const key = await this.store.deviceKey(Buffer.from(auth.signPublicKey));
      if (!key || key.userId !== user.id)
        return this.reject(conn, CloseCode.Unauthorized, 'device key not registered to this account: PUT /v1/me/keys');
      if (
        !verify(
          null,
          authSignedBytes(conn.challenge, conn.roomId),
          ed25519Key(Buffer.from(auth.signPublicKey)),
          auth.signature,
        )
      ) {
        return this.reject(conn, CloseCode.Unauthorized, 'challenge signature does not verify for the device key');
      }
      const roomRow = await this.store.room(conn.roomId);
      if (!roomRow) return this.reject(conn, CloseCode.NotFound, `room ${conn.roomId} does not exist`);
      const member = await this.store.membership(roomRow.teamId, user.id);
      if (!member) return this.reject(conn, CloseCode.Forbidden, 'room belongs to a team you are not a member of');
      const devices = await this.store.deviceKeysOf(user.id);
      if (conn.state === 'closed' || conn.closing) return;
      if (conn.authTimer) {
        clearTimeout(conn.authTimer);
        conn.authTimer = null;
      }
      this.leavePreAuth(conn);
      conn.userId = user.id;
      conn.role = member.role;
      conn.senderKey = Buffer.from(auth.signPublicKey);
      conn.sender = conn.senderKey.toString('hex');
      conn.tokenHash = tokenHash(auth.token);
      conn.userSenders = devices.map((d) => d.signPublicKey.toString('hex'));
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
        // Subscribed before the clocks are read: what another instance stores later arrives through the fan-out,
        // what it stored before is in the log a joining socket loads.
        await this.fanout?.joinRoom(roomId);
        const [clocks, bytes] = await Promise.all([this.store.senderClocks(roomId), this.quota.room(roomId)]);
        const state = new RoomState(roomId, row.teamId, row.keyEpoch, row.head, clocks, row.rotationRequired, bytes);
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
    // With several instances the database is the authority: this device may have written through another one (which
    // may have died before acknowledging, or before publishing what it stored).
    if (this.fanout) await this.catchUp(room);
    // Frames committed from here on are relayed into joinQueue; the log below may contain some of them as well,
    // and the client drops such duplicates by (sender, clock).
    const log = await this.store.loadRoomLog(room.id);
    if ((conn.state as ConnState) === 'closed') return;
    const hello: HelloBody = {
      room: room.id,
      role: conn.role,
      lastClock: room.clocks.get(conn.sender) ?? 0,
      epoch: room.epoch,
      head: room.head,
      trailing: log.updates.length,
      maxFrameBytes: this.cfg.maxFrameBytes,
      heartbeatMs: this.cfg.heartbeatMs,
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
    conn.tokens = Math.min(
      this.cfg.rateLimitBurst,
      conn.tokens + ((now - conn.lastRefill) * this.cfg.rateLimitPerSecond) / 1000,
    );
    conn.lastRefill = now;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }

  private handle(conn: Conn, frame: Buffer): void {
    if (!this.takeToken(conn)) {
      this.sendError(conn, {
        code: 'rate-limited',
        message: `more than ${this.cfg.rateLimitPerSecond} frames/s; reconnect and slow down`,
      });
      this.close(conn, CloseCode.RateLimited, 'rate limit exceeded');
      return;
    }
    const stored = frame[0] === FrameKind.Update || frame[0] === FrameKind.Snapshot;
    if (!stored && conn.queue.length === 0) return this.dispatch(conn, frame, 'unchecked');
    // Frames that will be refused anyway (a viewer's, a malformed one, another key's) cost no signature check.
    const item: Queued = { frame, verdict: stored && this.mayStore(conn, frame) ? 'pending' : 'unchecked' };
    conn.queue.push(item);
    this.holdBack(conn, 1); // counts against the socket's in-flight limit until it is taken
    if (item.verdict === 'unchecked') return this.drain(conn);
    this.verifier.check(conn.roomId, frame, (verdict) => {
      item.verdict = verdict;
      this.drain(conn);
    });
  }

  /** Takes the socket's frames whose turn has come: in arrival order, up to the first still being checked. */
  private drain(conn: Conn): void {
    let n = 0;
    while (n < conn.queue.length && conn.queue[n].verdict !== 'pending') n++;
    for (const item of conn.queue.splice(0, n)) {
      this.holdBack(conn, -1);
      // Not accepted, so not acknowledged: its client sends it again after reconnecting.
      if (conn.state !== 'live' || this.stopping) continue;
      this.dispatch(conn, item.frame, item.verdict as Verdict | 'unchecked');
    }
  }

  private mayStore(conn: Conn, frame: Buffer): boolean {
    if (ROLE_RANK[conn.role] < ROLE_RANK.member || frame.length < MIN_DATA_FRAME) return false;
    return frame.subarray(1, 1 + SENDER_BYTES).equals(conn.senderKey);
  }

  private dispatch(conn: Conn, frame: Buffer, verdict: Verdict | 'unchecked'): void {
    const room = conn.room!;
    try {
      switch (frame[0]) {
        case FrameKind.Update:
          return this.onUpdate(conn, room, frame, verdict);
        case FrameKind.Awareness:
          return this.onAwareness(conn, room, frame);
        case FrameKind.Snapshot:
          return this.onSnapshot(conn, room, frame, verdict);
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

  /** Whether the frame's signature verifies for its sender; a frame that skipped the threads is checked here. */
  private signed(room: RoomState, frame: Buffer, verdict: Verdict | 'unchecked'): boolean {
    if (verdict === 'error') throw new Error('no verifier thread could check the signature');
    if (verdict !== 'unchecked') return verdict === 'valid';
    // Rare: the frame looked unstorable when it arrived (its sender's role has been raised since).
    const body = frame.subarray(0, frame.length - SIGNATURE_BYTES);
    const signer = ed25519Key(frame.subarray(1, 1 + SENDER_BYTES));
    try {
      return verify(null, signedBytes(room.id, body), signer, frame.subarray(frame.length - SIGNATURE_BYTES));
    } catch {
      return false;
    }
  }

  /** A member was removed and the room key not rotated since: the removed member could still read new writes. */
  private refuseBeforeRotation(conn: Conn, room: RoomState, clock?: number): boolean {
    if (!room.rotationRequired) return false;
    this.sendError(conn, {
      code: 'rotation-required',
      message:
        `a member left this room's team and still holds key epoch ${room.epoch}: nothing is stored until an ` +
        `admin rotates the room key (epoch ${room.epoch + 1})`,
      ...(clock !== undefined ? { clock } : {}),
      expected: room.epoch + 1,
    });
    return true;
  }

  private checkSender(conn: Conn, sender: Buffer): boolean {
    if (sender.equals(conn.senderKey)) return true;
    this.sendError(conn, {
      code: 'sender-mismatch',
      message: 'frame sender is not the device key this socket authenticated with',
    });
    return false;
  }

  private canWrite(conn: Conn): boolean {
    if (ROLE_RANK[conn.role] >= ROLE_RANK.member) return true;
    this.sendError(conn, {
      code: 'forbidden',
      message: `role ${conn.role} is read-only; ask an admin for the member role`,
    });
    return false;
  }

  private relay(room: RoomState, from: Conn | null, frame: Buffer): void {
    let n = 0;
    for (const c of room.conns) {
      if (c === from) continue;
      if (c.state === 'joining') c.joinQueue.push(frame);
      else {
        this.send(c, frame);
        n++;
      }
    }
    this.metrics.framesOut.inc(n);
  }

  private onUpdate(conn: Conn, room: RoomState, frame: Buffer, verdict: Verdict | 'unchecked'): void {
    if (!this.canWrite(conn)) return;
    const h = readDataHeader(frame);
    if (!this.checkSender(conn, h.sender)) return;
    if (room.epoch === 0)
      return this.sendError(conn, {
        code: 'no-room-key',
        message: 'the room has no key yet: an admin must upload wrapped keys first',
      });
    if (h.epoch !== room.epoch)
      return this.sendError(conn, {
        code: 'stale-epoch',
        message: `frame uses key epoch ${h.epoch}; the room is at ${room.epoch}: fetch keys and re-seal`,
        expected: room.epoch,
        clock: h.clock,
      });
    if (this.refuseBeforeRotation(conn, room, h.clock)) return;
    const last = room.clocks.get(conn.sender) ?? 0;
    if (h.clock !== last + 1) {
      return this.sendError(conn, {
        code: h.clock <= last ? 'replay' : 'clock-gap',
        message: `clock ${h.clock} refused: expected ${last + 1}`,
        clock: h.clock,
        expected: last + 1,
      });
    }
    if (!this.signed(room, frame, verdict)) {
      const message = `update ${h.clock} is not signed by its sender key for this room: not stored`;
      return this.sendError(conn, { code: 'bad-signature', message, clock: h.clock });
    }
    const over = this.quota.refusal(room.id, room.bytes, conn.userSenders, frame.length);
    if (over) return this.sendError(conn, { code: 'quota-exceeded', message: over, clock: h.clock });
    room.clocks.set(conn.sender, h.clock);
    const entry: Inflight = { sender: conn.sender, clock: h.clock, frame };
    room.inflight.add(entry);
    this.quota.accepted(room.bytes, entry.sender, frame.length);
    this.holdBack(conn, 1);
    this.inUpdate.inc();
    if (this.log.isLevelEnabled('trace'))
      this.log.trace(
        { room: room.id, sender: conn.sender.slice(0, 16), clock: h.clock, bytes: frame.length },
        'update',
      );
    // Relayed only once durable: a peer can then never build on an update that a crash could still lose, so every
    // acknowledged update stays readable after a restart (its causal dependencies are durable too).
    this.store.appendUpdate({ roomId: room.id, sender: h.sender, clock: h.clock, frame }).then(
      () => {
        room.inflight.delete(entry);
        this.quota.durable(room.bytes, entry.sender, frame.length);
        this.holdBack(conn, -1);
        if (this.fanout) {
          this.fanout.publish(room.id, frame);
          this.feedUpdate(room, conn, frame);
        } else this.relay(room, conn, frame);
        // Every write of a commit batch resolves in the same tick: one cumulative ACK per socket per batch.
        if (conn.ackClock === 0)
          queueMicrotask(() => {
            this.send(conn, encodeU64Frame(FrameKind.Ack, conn.ackClock));
            conn.ackClock = 0;
          });
        conn.ackClock = Math.max(conn.ackClock, h.clock);
        if (room.conns.size === 0) this.maybeDropRoom(room);
      },
      (err: Error) => {
        if (!(err instanceof StoreRefusal)) return this.storageFailed(room, err);
        // Another instance stored this sender's clock first: not stored, not acknowledged; the client resynchronises.
        room.inflight.delete(entry);
        this.quota.lost(entry.sender, frame.length);
        this.holdBack(conn, -1);
        room.clocks.set(conn.sender, err.expected - 1);
        this.sendError(conn, { code: err.code, message: err.message, clock: h.clock, expected: err.expected });
        if (room.conns.size === 0) this.maybeDropRoom(room);
      },
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
    if (conn.closing) return; // its close frame is out: whatever it still sends is not read
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
    if (throttle && now - this.throttleLoggedAt >= 10_000) {
      // at most one line per 10 s of sustained overload
      this.throttleLoggedAt = now;
      this.log.warn(
        { bufferedBytes: total, connections: this.conns.size, pausesSinceLastLine: this.throttles },
        'outgoing queues full: reading clients paused until half has drained',
      );
      this.throttles = 0;
    }
  }

  private storageFailed(room: RoomState, err: Error): void {
    // Nothing of the failed batch was acknowledged; dropping the room state makes the next join reload the durable
    // clocks, and clients resend what was not acknowledged.
    this.log.error({ room: room.id, err: err.message }, 'storage write failed; closing the room');
    for (const e of room.inflight) this.quota.lost(e.sender, e.frame.length);
    room.inflight.clear();
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    for (const c of room.conns) this.close(c, CloseCode.StorageFailure, 'storage failure; reconnect to resend');
  }

  private onAwareness(conn: Conn, room: RoomState, frame: Buffer): void {
    const h = readDataHeader(frame);
    if (!this.checkSender(conn, h.sender)) return;
    this.inAwareness.inc();
    this.relay(room, conn, frame);
    this.fanout?.publish(room.id, frame);
  }

  private onSnapshot(conn: Conn, room: RoomState, frame: Buffer, verdict: Verdict | 'unchecked'): void {
    if (!this.canWrite(conn)) return;
    const h = readSnapshotHeader(frame);
    if (!this.checkSender(conn, h.sender)) return;
    if (h.epoch !== room.epoch)
      return this.sendError(conn, {
        code: 'stale-epoch',
        message: `snapshot uses epoch ${h.epoch}; the room is at ${room.epoch}`,
        expected: room.epoch,
      });
    if (this.refuseBeforeRotation(conn, room)) return;
    if (h.baseHead !== room.head)
      return this.sendError(conn, {
        code: 'stale-head',
        message: `snapshot builds on head ${h.baseHead}; the current head is ${room.head}`,
        expected: room.head,
      });
    for (const [sender, clock] of h.clocks) {
      if (clock > (room.clocks.get(sender) ?? 0))
        return this.sendError(conn, {
          code: 'snapshot-ahead',
          message: 'snapshot claims updates the server has not stored',
        });
    }
    if (!this.signed(room, frame, verdict)) {
      return this.sendError(conn, { code: 'bad-signature', message: 'snapshot signature does not verify' });
    }
    const over = this.quota.snapshotRefusal(room.id, frame.length);
    if (over) return this.sendError(conn, { code: 'quota-exceeded', message: over });
    room.head += 1;
    const head = room.head;
    this.metrics.framesIn.inc({ kind: 'snapshot' });
    this.store.putSnapshot({ roomId: room.id, head, frame, covers: h.clocks }).then(
      () => {
        this.log.info(
          { room: room.id, head, bytes: frame.length, covers: h.clocks.size },
          'snapshot stored; covered updates dropped',
        );
        const f = encodeU64Frame(FrameKind.Head, head);
        for (const c of room.conns) this.send(c, f);
        this.fanout?.publish(room.id, f);
        // Recounted once the writes committed after it in the same batch have counted themselves durable (their
        // callbacks were queued before this one), or they would count twice.
        queueMicrotask(() =>
          this.quota.recount(room.id, room.bytes).catch((err: Error) => {
            this.log.error({ room: room.id, err: err.message }, "recounting the room's bytes after a snapshot failed");
          }),
        );
      },
      (err: Error) => {
        if (!(err instanceof StoreRefusal)) return this.storageFailed(room, err);
        // Another instance compacted first: this snapshot builds on a head that is gone. The room's sockets learn
        // the current head from here (its own notice may have been passed over while this one was pending).
        room.head = err.expected;
        this.sendError(conn, { code: 'stale-head', message: err.message, expected: err.expected });
        const f = encodeU64Frame(FrameKind.Head, err.expected);
        for (const c of room.conns) this.send(c, f);
      },
    );
  }

  // ---- several instances: what the others stored and sent ----
  private onFanoutFrame(roomId: string, frame: Buffer): void {
    const room = this.rooms.get(roomId);
    if (!room || frame.length === 0) return;
    try {
      if (frame[0] === FrameKind.Update) this.feedUpdate(room, null, frame);
      else if (frame[0] === FrameKind.Awareness) this.relay(room, null, frame);
      else if (frame[0] === FrameKind.Head) {
        const head = decodeU64Frame(frame);
        if (head <= room.head) return;
        room.head = head;
        for (const c of room.conns) this.send(c, frame);
        this.quota.recount(room.id, room.bytes).catch((err: Error) => {
          this.log.error({ room: room.id, err: err.message }, "recounting the room's bytes after a snapshot failed");
        });
      }
    } catch (err) {
      this.log.warn({ room: roomId, err: (err as Error).message }, 'unreadable frame from another instance');
    }
  }

  /**
   * Relays a stored update to this instance's sockets once, in each sender's clock order. An update whose sender's
   * earlier ones never arrived (their instance died between commit and publish, or the broker dropped them) waits
   * while those are read from the log, so a client never sees a gap in a sender's clocks.
   */
  private feedUpdate(room: RoomState, from: Conn | null, frame: Buffer): void {
    if (room.feed) {
      room.feed.push({ frame, from });
      return;
    }
    const h = readDataHeader(frame);
    const sender = h.sender.toString('hex');
    const last = room.relayed.get(sender) ?? 0;
    if (h.clock <= last) return; // relayed already, or in the log its sockets loaded
    if (h.clock === last + 1) return this.relayStored(room, from, frame, sender, h.clock);
    room.feed = [{ frame, from }];
    void this.runFeed(room);
  }

  private relayStored(room: RoomState, from: Conn | null, frame: Buffer, sender: string, clock: number): void {
    room.relayed.set(sender, clock);
    if (from === null) {
      // Stored by another instance: it counts toward the quotas here too, and is the sender's newest clock.
      this.quota.accepted(room.bytes, sender, frame.length);
      this.quota.durable(room.bytes, sender, frame.length);
      if (clock > (room.clocks.get(sender) ?? 0)) room.clocks.set(sender, clock);
    }
    this.relay(room, from, frame);
  }

  private async runFeed(room: RoomState): Promise<void> {
    const feed = room.feed!;
    while (feed.length) {
      const item = feed[0];
      const h = 'frame' in item ? readDataHeader(item.frame) : null;
      const sender = h ? h.sender.toString('hex') : (item as { sender: string }).sender;
      const upTo = h ? h.clock - 1 : (item as { upTo: number }).upTo;
      await this.fill(room, sender, upTo);
      feed.shift();
      if (h && 'frame' in item && h.clock === (room.relayed.get(sender) ?? 0) + 1)
        this.relayStored(room, item.from, item.frame, sender, h.clock);
    }
    room.feed = null;
  }

  /** Reads a sender's updates this instance has not relayed, up to `upTo`, relays them and publishes them again. */
  private async fill(room: RoomState, sender: string, upTo: number): Promise<void> {
    const after = room.relayed.get(sender) ?? 0;
    if (upTo <= after) return;
    let frames: Buffer[];
    try {
      frames = await this.store.updatesBetween(room.id, Buffer.from(sender, 'hex'), after, upTo);
    } catch (err) {
      this.log.error({ room: room.id, err: (err as Error).message }, 'reading missed updates failed');
      frames = [];
    }
    // The sender's own socket here (if it is here) neither gets its updates back nor counts them twice.
    let own: Conn | null = null;
    for (const c of room.conns) if (c.sender === sender) own = c;
    for (const f of frames) {
      const clock = readDataHeader(f).clock;
      if (clock !== (room.relayed.get(sender) ?? 0) + 1) break;
      this.relayStored(room, own, f, sender, clock);
      // The other instances may have missed them too; each relays an update once.
      this.fanout?.publish(room.id, f);
    }
    if ((room.relayed.get(sender) ?? 0) >= upTo) return;
    // A snapshot dropped them since: the room's sockets load it again, snapshot and all.
    this.log.info({ room: room.id, sender: sender.slice(0, 16) }, 'missed updates were compacted; resynchronising');
    room.relayed.set(sender, upTo);
    for (const c of room.conns) this.close(c, 1012, 'resynchronise: reconnect');
  }

  /** Takes the room's sender clocks from the store, and queues what this instance has not relayed yet. */
  private async catchUp(room: RoomState): Promise<void> {
    const stored = await this.store.senderClocks(room.id);
    const behind: FeedItem[] = [];
    for (const [sender, clock] of stored) {
      if (clock > (room.clocks.get(sender) ?? 0)) room.clocks.set(sender, clock);
      if (clock > (room.relayed.get(sender) ?? 0)) behind.push({ sender, upTo: clock });
    }
    if (behind.length === 0) return;
    if (room.feed) room.feed.push(...behind);
    else {
      room.feed = behind;
      void this.runFeed(room);
    }
  }
}
