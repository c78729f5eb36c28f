// Embedded SQLite store. better-sqlite3: synchronous, fast, builds from source; WAL lets readers run beside the writer.
//
// Group commit: log writes are queued and committed together in one transaction by a writer thread
// (sqlite-writer-thread.ts, built as dist/sync-sqlite-writer.js): the first write opens a short window
// (commitWindowMs), whatever arrives while a batch is being committed forms the next batch, and batches go at most
// one per window. Every promise of a batch resolves only after its COMMIT returned, so an acknowledgement always
// follows durability. synchronous=FULL fsyncs the WAL on every commit (survives power loss); group commit keeps that
// to one fsync per batch instead of one per keystroke, and the writer thread keeps the fsync off the relay's event
// loop; it also checkpoints the WAL into the database file between commits (how the log is laid out, and why
// checkpoints run there: sqlite-writer-thread.ts). Reads and the rare account writes use a connection on this thread.
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { threadEntry } from '../thread-entry';
import { createPrivateDataDir } from './private-data-dir';
import type { PackedBatch, WriterData, WriterReply } from './sqlite-writer-messages';
import type {
  DeviceKey,
  Invite,
  LogUpdate,
  Member,
  Role,
  Room,
  RoomLog,
  SnapshotWrite,
  StoredRoster,
  SyncStore,
  Team,
  User,
  WrappedKey,
} from './store';

interface Pending {
  op: { kind: 'update'; u: LogUpdate } | { kind: 'snapshot'; s: SnapshotWrite } | { kind: 'noop' };
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface SqliteStoreOptions {
  dataDir: string;
  commitWindowMs?: number;
  maxBatch?: number;
  synchronous?: 'FULL' | 'NORMAL';
  /** A batch is durable; ms runs from its hand-off to the writer thread (what the relay waits for, fsync included). */
  onCommit?: (batchSize: number, ms: number) => void;
  /** A checkpoint failed; the WAL keeps every commit and the next checkpoint tries again. */
  onCheckpointFailed?: (message: string) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, pw_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS device_keys (sign_pub BLOB PRIMARY KEY, dh_pub BLOB NOT NULL, user_id TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS device_keys_user ON device_keys(user_id);
CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS members (team_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (team_id, user_id));
CREATE INDEX IF NOT EXISTS members_user ON members(user_id);
CREATE TABLE IF NOT EXISTS invites (id TEXT PRIMARY KEY, team_id TEXT NOT NULL, role TEXT NOT NULL, expires_at INTEGER NOT NULL, used_by TEXT, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, team_id TEXT NOT NULL, name TEXT NOT NULL, key_epoch INTEGER NOT NULL DEFAULT 0,
  head INTEGER NOT NULL DEFAULT 0, rotation_required INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rooms_team ON rooms(team_id);
CREATE TABLE IF NOT EXISTS room_keys (room_id TEXT NOT NULL, epoch INTEGER NOT NULL, recipient BLOB NOT NULL, wrapped BLOB NOT NULL,
  PRIMARY KEY (room_id, epoch, recipient));
CREATE TABLE IF NOT EXISTS room_numbers (no INTEGER PRIMARY KEY, room_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, room INTEGER NOT NULL, sender BLOB NOT NULL, clock INTEGER NOT NULL, frame BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS log_room ON log(room);
CREATE TABLE IF NOT EXISTS snapshots (room_id TEXT PRIMARY KEY, head INTEGER NOT NULL, frame BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sender_clocks (room_id TEXT NOT NULL, sender BLOB NOT NULL, clock INTEGER NOT NULL, PRIMARY KEY (room_id, sender));
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS team_rosters (team_id TEXT PRIMARY KEY, version INTEGER NOT NULL, blob BLOB NOT NULL);
`;

// One copy of every frame into a single transferred buffer: structured-cloning an object per update would copy, on
// the relay's event loop, the whole socket read chunk behind every frame (a frame is a view of that chunk).
function packBatch(id: number, items: Pending[]): PackedBatch {
  let total = 0;
  for (const { op } of items) if (op.kind === 'update') total += op.u.sender.length + op.u.frame.length;
  const bytes = Buffer.allocUnsafeSlow(total);
  const offsets = new Uint32Array(2 * items.length);
  const batch: PackedBatch = {
    type: 'batch',
    id,
    rooms: [],
    clocks: [],
    bytes: bytes.buffer as ArrayBuffer,
    offsets,
    snapshots: [],
  };
  let at = 0;
  for (const { op } of items) {
    if (op.kind === 'snapshot')
      batch.snapshots.push({
        at: batch.rooms.length,
        roomId: op.s.roomId,
        head: op.s.head,
        frame: op.s.frame,
        covers: [...op.s.covers],
      });
    if (op.kind !== 'update') continue;
    const i = batch.rooms.length;
    batch.rooms.push(op.u.roomId);
    batch.clocks.push(op.u.clock);
    at += op.u.sender.copy(bytes, at);
    offsets[2 * i] = at;
    at += op.u.frame.copy(bytes, at);
    offsets[2 * i + 1] = at;
  }
  return batch;
}

type Row = Record<string, unknown>;
const ROOM_NO = '(SELECT no FROM room_numbers WHERE room_id = ?)';
const MAX_BATCH_BYTES = 32 * 1024 * 1024;
// A commit, and the checkpoint after it, take time in proportion to its writes; past the writer's capacity an
// unbounded batch kept growing (each slower commit gathered a larger next one: 22,000 writes, 2 commits/s).
const MAX_BATCH_WRITES = 4000;
const CHECKPOINT_MS = 250;

// Databases written before the log moved to `log` keep their updates, in the same order.
const MIGRATE_UPDATES = `
INSERT OR IGNORE INTO room_numbers (room_id) SELECT DISTINCT room_id FROM updates;
INSERT INTO log (id, room, sender, clock, frame)
  SELECT u.id, n.no, u.sender, u.clock, u.frame FROM updates u JOIN room_numbers n ON n.room_id = u.room_id ORDER BY u.id;
DROP TABLE updates;
`;
const toRoom = (r: Row): Room => ({
  id: r.id as string,
  teamId: r.team_id as string,
  name: r.name as string,
  keyEpoch: r.key_epoch as number,
  head: r.head as number,
  rotationRequired: r.rotation_required === 1,
  createdAt: r.created_at as number,
});
const toUser = (r: Row | undefined): User | undefined =>
  r && {
    id: r.id as string,
    username: r.username as string,
    passwordHash: r.pw_hash as string,
    createdAt: r.created_at as number,
  };
const toKey = (r: Row): DeviceKey => ({
  signPublicKey: r.sign_pub as Buffer,
  dhPublicKey: r.dh_pub as Buffer,
  userId: r.user_id as string,
  createdAt: r.created_at as number,
});

export class SqliteStore implements SyncStore {
  readonly path: string;
  private readonly db: Database.Database;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly window: number;
  private readonly maxBatch: number;
  private closed = false;
  private readonly st: Record<string, Database.Statement>;
  private readonly writer: Worker;
  private batchId = 0;
  private lastSent = 0; // when the last batch went to the writer
  private committing: { id: number; items: Pending[] } | null = null;
  private writerError: Error | null = null;
  private onWriterClosed: (() => void) | null = null;

  constructor(private readonly opts: SqliteStoreOptions) {
    // First, so a bundle copied without its writer thread is refused before anything is opened.
    const entry = threadEntry('sqlite-writer');
    createPrivateDataDir(opts.dataDir);
    this.path = join(opts.dataDir, 'sync.db');
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('wal_autocheckpoint = 0'); // the writer thread does it, never the relay's event loop
    this.db.exec(SCHEMA);
    if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'updates'").get())
      this.db.transaction(() => this.db.exec(MIGRATE_UPDATES))();
    if (!(this.db.prepare('PRAGMA table_info(invites)').all() as Row[]).some((c) => c.name === 'revoked_at')) {
      this.db.exec('ALTER TABLE invites ADD COLUMN revoked_at INTEGER');
    }
    this.window = opts.commitWindowMs ?? 4;
    this.maxBatch = opts.maxBatch ?? 1000;
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      snapshot: p('SELECT head, frame FROM snapshots WHERE room_id = ?'),
      updates: p(`SELECT frame FROM log WHERE room = ${ROOM_NO} ORDER BY id`),
      // A sender's clock is its newest update in the log; sender_clocks keeps the clocks of updates a snapshot
      // dropped, so the log writes no clock row per update (that second scattered B-tree page per row doubled the
      // cost of a commit).
      clocks: p(`SELECT sender, max(clock) AS clock FROM (
          SELECT sender, clock FROM sender_clocks WHERE room_id = @room
          UNION ALL SELECT sender, max(clock) AS clock FROM log WHERE room = ${ROOM_NO.replace('?', '@room')} GROUP BY sender
        ) GROUP BY sender`),
      between: p(
        `SELECT frame FROM log WHERE room = ${ROOM_NO} AND sender = ? AND clock > ? AND clock <= ? ORDER BY clock`,
      ),
      logBytes: p(`SELECT coalesce(sum(length(frame)), 0) AS n FROM log WHERE room = ${ROOM_NO}`),
      snapshotBytes: p('SELECT coalesce(sum(length(frame)), 0) AS n FROM snapshots WHERE room_id = ?'),
      // length() of a BLOB is read from the record header: no frame is loaded to count it.
      senderBytes: p('SELECT sender, sum(length(frame)) AS n FROM log GROUP BY sender'),
      roomSenderBytes: p(`SELECT sender, sum(length(frame)) AS n FROM log WHERE room = ${ROOM_NO} GROUP BY sender`),
    };
    const synchronous = opts.synchronous ?? 'FULL';
    const writerData: WriterData = { path: this.path, synchronous, checkpointMs: CHECKPOINT_MS };
    this.writer = new Worker(entry.filename, {
      execArgv: entry.execArgv,
      // The writer only ever holds one batch (at most MAX_BATCH_BYTES); a small young generation keeps the RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512 },
      workerData: writerData,
    });
    this.writer.on('message', (m: WriterReply) => this.onWriter(m));
    this.writer.on('error', (err) => {
      this.writerError = err;
      this.failCommitting(err);
    });
  }

  // ---- log (hot path) ----
  appendUpdate(u: LogUpdate): Promise<void> {
    return this.enqueue({ kind: 'update', u });
  }

  putSnapshot(s: SnapshotWrite): Promise<void> {
    return this.enqueue({ kind: 'snapshot', s });
  }

  private enqueue(op: Pending['op']): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (this.writerError) return Promise.reject(this.writerError);
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (this.committing) return; // the next batch goes when this one is durable
      if (this.queue.length >= this.maxBatch || op.kind === 'noop') this.sendBatch();
      else if (!this.timer) this.timer = setTimeout(() => this.sendBatch(), this.window);
    });
  }

  private sendBatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.committing || this.queue.length === 0) return;
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || (bytes < MAX_BATCH_BYTES && n < MAX_BATCH_WRITES))) {
      const op = this.queue[n++].op;
      bytes += op.kind === 'update' ? op.u.frame.length : op.kind === 'snapshot' ? op.s.frame.length : 0;
    }
    const items = this.queue.splice(0, n);
    this.committing = { id: ++this.batchId, items };
    this.lastSent = performance.now();
    const batch = packBatch(this.batchId, items);
    this.writer.postMessage(batch, [batch.bytes, batch.offsets.buffer as ArrayBuffer]);
  }

  private onWriter(m: WriterReply): void {
    if (m.type === 'closed') {
      this.onWriterClosed?.();
      return;
    }
    if (m.type === 'checkpoint-failed') {
      this.opts.onCheckpointFailed?.(m.message);
      return;
    }
    const batch = this.committing;
    if (!batch || batch.id !== m.id) return;
    this.committing = null;
    if (m.type === 'done') {
      this.opts.onCommit?.(batch.items.length, performance.now() - this.lastSent); // as the relay waits: hand-off to durable
      for (const p of batch.items) p.resolve();
    } else {
      const err = new Error(`log commit failed: ${m.message}`);
      for (const p of batch.items) p.reject(err);
    }
    if (this.queue.length) this.scheduleNext();
  }

  // At most one commit per window: under load the waiting batch gathers more writes, so fewer commits (each with a
  // fixed cost on the writer thread: fsync, WAL header, thread round trip) carry the same load, for a wait bounded by
  // the window.
  private scheduleNext(): void {
    const wait = this.lastSent + this.window - performance.now();
    if (wait <= 0 || this.queue.length >= this.maxBatch) this.sendBatch();
    else if (!this.timer) this.timer = setTimeout(() => this.sendBatch(), wait);
  }

  private failCommitting(err: Error): void {
    const items = [...(this.committing?.items ?? []), ...this.queue];
    this.committing = null;
    this.queue = [];
    for (const p of items) p.reject(err);
  }

  async loadRoomLog(roomId: string): Promise<RoomLog> {
    const snap = this.st.snapshot.get(roomId) as Row | undefined;
    const updates = (this.st.updates.all(roomId) as Row[]).map((r) => r.frame as Buffer);
    return { head: snap ? (snap.head as number) : 0, snapshot: snap ? (snap.frame as Buffer) : null, updates };
  }

  async senderClocks(roomId: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of this.st.clocks.all({ room: roomId }) as Row[])
      out.set((r.sender as Buffer).toString('hex'), r.clock as number);
    return out;
  }

  async updatesBetween(roomId: string, sender: Buffer, after: number, upTo: number): Promise<Buffer[]> {
    return (this.st.between.all(roomId, sender, after, upTo) as Row[]).map((r) => r.frame as Buffer);
  }

  async storedBytes(roomId: string): Promise<number> {
    return (
      ((this.st.logBytes.get(roomId) as Row).n as number) + ((this.st.snapshotBytes.get(roomId) as Row).n as number)
    );
  }

  async logBytesBySender(roomId?: string): Promise<Map<string, number>> {
    const rows = (roomId === undefined ? this.st.senderBytes.all() : this.st.roomSenderBytes.all(roomId)) as Row[];
    return new Map(rows.map((r) => [(r.sender as Buffer).toString('hex'), r.n as number]));
  }

  /** Resolves once everything queued before the call is durable. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.enqueue({ kind: 'noop' });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    if (!this.writerError) {
      await new Promise<void>((resolve) => {
        this.onWriterClosed = resolve;
        this.writer.postMessage({ type: 'close' });
        setTimeout(resolve, 5000).unref();
      });
    }
    await this.writer.terminate();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  // ---- accounts, teams, rooms ----
  async createUser(u: User): Promise<void> {
    this.db
      .prepare('INSERT INTO users (id, username, pw_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(u.id, u.username, u.passwordHash, u.createdAt);
  }
  async userByName(username: string) {
    return toUser(this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as Row | undefined);
  }
  async userById(id: string) {
    return toUser(this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined);
  }
  async addToken(hash: string, userId: string, name: string, expiresAt: number) {
    this.db
      .prepare('INSERT INTO tokens (hash, user_id, name, expires_at) VALUES (?, ?, ?, ?)')
      .run(hash, userId, name, expiresAt);
  }
  async userByTokenHash(hash: string, now: number) {
    return toUser(
      this.db
        .prepare('SELECT u.* FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.expires_at > ?')
        .get(hash, now) as Row | undefined,
    );
  }
  async tokenExpiresAt(hash: string) {
    const r = this.db.prepare('SELECT expires_at FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
    return r?.expires_at as number | undefined;
  }
  async deleteToken(hash: string) {
    this.db.prepare('DELETE FROM tokens WHERE hash = ?').run(hash);
  }
  async setPasswordHash(userId: string, hash: string) {
    this.db.prepare('UPDATE users SET pw_hash = ? WHERE id = ?').run(hash, userId);
  }
  async addDeviceKey(k: DeviceKey) {
    this.db
      .prepare('INSERT INTO device_keys (sign_pub, dh_pub, user_id, created_at) VALUES (?, ?, ?, ?)')
      .run(k.signPublicKey, k.dhPublicKey, k.userId, k.createdAt);
  }
  async deviceKey(signPub: Buffer) {
    const r = this.db.prepare('SELECT * FROM device_keys WHERE sign_pub = ?').get(signPub) as Row | undefined;
    return r && toKey(r);
  }
  async deviceKeysOf(userId: string) {
    return (
      this.db.prepare('SELECT * FROM device_keys WHERE user_id = ? ORDER BY created_at').all(userId) as Row[]
    ).map(toKey);
  }
  async createTeam(t: Team, ownerId: string) {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)').run(t.id, t.name, t.createdAt);
      this.db.prepare('INSERT INTO members (team_id, user_id, role) VALUES (?, ?, ?)').run(t.id, ownerId, 'owner');
    })();
  }
  async teamsOf(userId: string) {
    return (
      this.db
        .prepare(
          'SELECT t.*, m.role FROM members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.created_at',
        )
        .all(userId) as Row[]
    ).map((r) => ({
      id: r.id as string,
      name: r.name as string,
      createdAt: r.created_at as number,
      role: r.role as Role,
    }));
  }
  async team(id: string) {
    const r = this.db.prepare('SELECT * FROM teams WHERE id = ?').get(id) as Row | undefined;
    return r && { id: r.id as string, name: r.name as string, createdAt: r.created_at as number };
  }
  async members(teamId: string): Promise<Member[]> {
    return (
      this.db
        .prepare(
          'SELECT m.*, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? ORDER BY u.username',
        )
        .all(teamId) as Row[]
    ).map((r) => ({ teamId, userId: r.user_id as string, username: r.username as string, role: r.role as Role }));
  }
  async membership(teamId: string, userId: string): Promise<Member | undefined> {
    const r = this.db
      .prepare(
        'SELECT m.*, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? AND m.user_id = ?',
      )
      .get(teamId, userId) as Row | undefined;
    return r && { teamId, userId, username: r.username as string, role: r.role as Role };
  }
  async setMember(teamId: string, userId: string, role: Role) {
    this.db
      .prepare(
        'INSERT INTO members (team_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT(team_id, user_id) DO UPDATE SET role = excluded.role',
      )
      .run(teamId, userId, role);
  }
  async removeMember(teamId: string, userId: string) {
    this.db.prepare('DELETE FROM members WHERE team_id = ? AND user_id = ?').run(teamId, userId);
  }
  async createInvite(i: Invite) {
    this.db
      .prepare('INSERT INTO invites (id, team_id, role, expires_at, used_by, created_by) VALUES (?, ?, ?, ?, NULL, ?)')
      .run(i.id, i.teamId, i.role, i.expiresAt, i.createdBy);
  }
  async invite(id: string): Promise<Invite | undefined> {
    const r = this.db.prepare('SELECT * FROM invites WHERE id = ?').get(id) as Row | undefined;
    return (
      r && {
        id,
        teamId: r.team_id as string,
        role: r.role as Role,
        expiresAt: r.expires_at as number,
        usedBy: r.used_by as string | null,
        createdBy: r.created_by as string,
        revokedAt: r.revoked_at as number | null,
      }
    );
  }
  async markInviteUsed(id: string, userId: string) {
    const sql = 'UPDATE invites SET used_by = ? WHERE id = ? AND used_by IS NULL AND revoked_at IS NULL';
    return this.db.prepare(sql).run(userId, id).changes === 1;
  }
  async revokeInvitesBy(teamId: string, userId: string) {
    const sql = `UPDATE invites SET revoked_at = ?
      WHERE team_id = ? AND created_by = ? AND used_by IS NULL AND revoked_at IS NULL`;
    return this.db.prepare(sql).run(Date.now(), teamId, userId).changes;
  }
  async createRoom(r: Room) {
    this.db
      .prepare(
        'INSERT INTO rooms (id, team_id, name, key_epoch, head, rotation_required, created_at) VALUES (?, ?, ?, 0, 0, 0, ?)',
      )
      .run(r.id, r.teamId, r.name, r.createdAt);
  }
  async room(id: string) {
    const r = this.db.prepare('SELECT * FROM rooms WHERE id = ?').get(id) as Row | undefined;
    return r && toRoom(r);
  }
  async rooms(teamId: string) {
    return (this.db.prepare('SELECT * FROM rooms WHERE team_id = ? ORDER BY created_at').all(teamId) as Row[]).map(
      toRoom,
    );
  }
  async setRoomsRotationRequired(teamId: string) {
    this.db.prepare('UPDATE rooms SET rotation_required = 1 WHERE team_id = ? AND key_epoch > 0').run(teamId);
  }
  async addWrappedKeys(roomId: string, epoch: number, wraps: WrappedKey[], bumpEpoch: boolean) {
    this.db.transaction(() => {
      const ins = this.db.prepare(
        'INSERT OR REPLACE INTO room_keys (room_id, epoch, recipient, wrapped) VALUES (?, ?, ?, ?)',
      );
      for (const w of wraps) ins.run(roomId, epoch, w.recipient, w.wrapped);
      if (bumpEpoch)
        this.db.prepare('UPDATE rooms SET key_epoch = ?, rotation_required = 0 WHERE id = ?').run(epoch, roomId);
    })();
  }
  async wrappedKeysFor(roomId: string, recipients: Buffer[]) {
    const q = this.db.prepare('SELECT * FROM room_keys WHERE room_id = ? AND recipient = ? ORDER BY epoch');
    return recipients.flatMap((rcp) =>
      (q.all(roomId, rcp) as Row[]).map((r) => ({
        roomId,
        epoch: r.epoch as number,
        recipient: r.recipient as Buffer,
        wrapped: r.wrapped as Buffer,
      })),
    );
  }
  async roster(teamId: string): Promise<StoredRoster | undefined> {
    const r = this.db.prepare('SELECT version, blob FROM team_rosters WHERE team_id = ?').get(teamId);
    return r ? { teamId, version: (r as Row).version as number, blob: (r as Row).blob as Buffer } : undefined;
  }
  async putRoster(r: StoredRoster) {
    return (
      this.db
        .prepare(
          `INSERT INTO team_rosters (team_id, version, blob) VALUES (?, ?, ?)
      ON CONFLICT(team_id) DO UPDATE SET version = excluded.version, blob = excluded.blob
      WHERE excluded.version > team_rosters.version`,
        )
        .run(r.teamId, r.version, r.blob).changes === 1
    );
  }
  async secret(name: string, create: () => Buffer) {
    const r = this.db.prepare('SELECT value FROM secrets WHERE name = ?').get(name) as Row | undefined;
    if (r) return r.value as Buffer;
    const v = create();
    this.db.prepare('INSERT INTO secrets (name, value) VALUES (?, ?)').run(name, v);
    return v;
  }
}
