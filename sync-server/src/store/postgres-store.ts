// PostgreSQL store, for several sync server instances sharing one database (`--store postgres://...`). pg (node-postgres)
// is the maintained pure-JavaScript driver: no native build, a connection pool, parameters sent as binary Buffers.
//
// DESIGN: every instance checks clocks in memory first, as with SQLite, but the database is the authority: an
// instance may not have heard yet that a device wrote through another one. So the per-sender clock check runs again
// inside the transaction that inserts the update: each (room, sender) has a row in sender_clocks, locked FOR UPDATE
// in a fixed order, and an update is inserted only if its clock is that row's + 1; the log's unique (room, sender,
// clock) index is the second line. Two instances racing the same (sender, clock) therefore store it once, and the
// other write is refused (StoreRefusal) instead of acknowledged. A snapshot moves the room's head with a conditional
// UPDATE (head = new - 1) in the transaction that stores it and drops what it covers, so two instances cannot both
// build on one head.
//
// Group commit as in SQLite: log writes queue for a short window and go in one transaction, one batch at a time, so
// the commit's fsync is shared; promises resolve in queue order after COMMIT returned.
import pg from 'pg';
import {
  StoreRefusal,
  type DeviceKey,
  type Invite,
  type LogUpdate,
  type Member,
  type Role,
  type Room,
  type RoomLog,
  type SnapshotWrite,
  type StoredRoster,
  type SyncStore,
  type Team,
  type User,
  type WrappedKey,
} from './store';
import { redactUrl } from '../service-url';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  commitWindowMs?: number;
  /** Connections in the pool (reads, account writes and the one log batch in flight). */
  poolSize?: number;
  onCommit?: (batchSize: number, ms: number) => void;
}

/** The PostgreSQL schema every table lives in, so a database shared with other software keeps them apart. */
export const PG_SCHEMA = 'kyozo_sync';
const SCHEMA_VERSION = 1;
// Held while one instance creates or migrates the schema: instances starting together must not race CREATE TABLE.
const MIGRATION_LOCK = 0x6b796f7a; // 'kyoz'

const MIGRATIONS: string[] = [
  // 1: the first layout.
  `
CREATE TABLE users (id text PRIMARY KEY, username text NOT NULL UNIQUE, pw_hash text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE tokens (hash text PRIMARY KEY, user_id text NOT NULL, name text NOT NULL, expires_at bigint NOT NULL);
CREATE TABLE device_keys (sign_pub bytea PRIMARY KEY, dh_pub bytea NOT NULL, user_id text NOT NULL, created_at bigint NOT NULL);
CREATE INDEX device_keys_user ON device_keys(user_id);
CREATE TABLE teams (id text PRIMARY KEY, name text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE members (team_id text NOT NULL, user_id text NOT NULL, role text NOT NULL, PRIMARY KEY (team_id, user_id));
CREATE INDEX members_user ON members(user_id);
CREATE TABLE invites (id text PRIMARY KEY, team_id text NOT NULL, role text NOT NULL, expires_at bigint NOT NULL,
  used_by text, created_by text NOT NULL, revoked_at bigint);
CREATE TABLE rooms (id text PRIMARY KEY, team_id text NOT NULL, name text NOT NULL, key_epoch integer NOT NULL DEFAULT 0,
  head integer NOT NULL DEFAULT 0, rotation_required boolean NOT NULL DEFAULT false, created_at bigint NOT NULL);
CREATE INDEX rooms_team ON rooms(team_id);
CREATE TABLE room_keys (room_id text NOT NULL, epoch integer NOT NULL, recipient bytea NOT NULL, wrapped bytea NOT NULL,
  PRIMARY KEY (room_id, epoch, recipient));
CREATE TABLE log (seq bigserial PRIMARY KEY, room_id text NOT NULL, sender bytea NOT NULL, clock bigint NOT NULL,
  frame bytea NOT NULL, UNIQUE (room_id, sender, clock));
CREATE INDEX log_room ON log(room_id, seq);
CREATE TABLE snapshots (room_id text PRIMARY KEY, head integer NOT NULL, frame bytea NOT NULL);
CREATE TABLE sender_clocks (room_id text NOT NULL, sender bytea NOT NULL, clock bigint NOT NULL, PRIMARY KEY (room_id, sender));
CREATE TABLE secrets (name text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE team_rosters (team_id text PRIMARY KEY, version integer NOT NULL, blob bytea NOT NULL);
`,
];

// bigint columns come back as strings by default; every one here (times, clocks, sequence numbers) fits a double.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (v: string) => Number(v));

interface Pending {
  op: { kind: 'update'; u: LogUpdate } | { kind: 'snapshot'; s: SnapshotWrite } | { kind: 'noop' };
  resolve: () => void;
  reject: (e: Error) => void;
}

type Row = Record<string, unknown>;
const toRoom = (r: Row): Room => ({
  id: r.id as string,
  teamId: r.team_id as string,
  name: r.name as string,
  keyEpoch: r.key_epoch as number,
  head: r.head as number,
  rotationRequired: r.rotation_required as boolean,
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
const MAX_BATCH = 4000;

export class PostgresStore implements SyncStore {
  private readonly pool: pg.Pool;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private committing = false;
  private lastSent = 0;
  private closed = false;
  private readonly window: number;

  private constructor(private readonly opts: PostgresStoreOptions) {
    this.window = opts.commitWindowMs ?? 4;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      options: `-c search_path=${PG_SCHEMA}`,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection the server dropped: the pool discards it and opens another on the next query.
    this.pool.on('error', () => undefined);
  }

  /** Connects, creates or migrates the schema (one instance at a time), and returns the store. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      const hint = 'check that PostgreSQL answers there and the role may create a schema, or fix --store';
      throw new Error(`PostgreSQL store ${redactUrl(opts.url)}: ${(err as Error).message}: ${hint}`, { cause: err });
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
      const r = await c.query('SELECT version FROM schema_version');
      const at = r.rows.length ? (r.rows[0].version as number) : 0;
      if (at > SCHEMA_VERSION)
        throw new Error(
          `the database's schema is version ${at}, newer than this server's ${SCHEMA_VERSION}: upgrade every instance`,
        );
      for (let v = at; v < SCHEMA_VERSION; v++) {
        await c.query('BEGIN');
        await c.query(MIGRATIONS[v]);
        await c.query('DELETE FROM schema_version');
        await c.query('INSERT INTO schema_version (version) VALUES ($1)', [v + 1]);
        await c.query('COMMIT');
      }
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      c.release();
    }
  }

  private async q(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  // ---- log (hot path) ----
  appendUpdate(u: LogUpdate): Promise<void> {
    return this.enqueue({ kind: 'update', u });
  }

  putSnapshot(s: SnapshotWrite): Promise<void> {
    return this.enqueue({ kind: 'snapshot', s });
  }

  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.enqueue({ kind: 'noop' });
  }

  private enqueue(op: Pending['op']): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (this.committing) return;
      if (op.kind === 'noop' || this.queue.length >= MAX_BATCH) this.sendBatch();
      else if (!this.timer) this.timer = setTimeout(() => this.sendBatch(), this.window);
    });
  }

  private sendBatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.committing || this.queue.length === 0) return;
    const items = this.queue.splice(0, MAX_BATCH);
    this.committing = true;
    this.lastSent = performance.now();
    void this.commit(items).finally(() => {
      this.committing = false;
      if (this.queue.length === 0) return;
      const wait = this.lastSent + this.window - performance.now();
      if (wait <= 0 || this.queue.length >= MAX_BATCH) this.sendBatch();
      else if (!this.timer) this.timer = setTimeout(() => this.sendBatch(), wait);
    });
  }

  /** Stores the batch's updates in one transaction, then each snapshot in its own; settles every promise in order. */
  private async commit(items: Pending[]): Promise<void> {
    const updates = items.filter((p) => p.op.kind === 'update');
    const outcome = new Map<Pending, Error | null>();
    try {
      if (updates.length) {
        const refused = await this.tx((c) => this.insertUpdates(c, updates));
        for (const p of updates) outcome.set(p, refused.get(p) ?? null);
      }
    } catch (err) {
      const e = new Error(`log commit failed: ${(err as Error).message}`);
      for (const p of items) p.reject(e);
      return;
    }
    for (const p of items) {
      if (p.op.kind !== 'snapshot') continue;
      try {
        const s = p.op.s;
        await this.tx((c) => this.storeSnapshot(c, s));
        outcome.set(p, null);
      } catch (err) {
        outcome.set(
          p,
          err instanceof StoreRefusal ? err : new Error(`snapshot commit failed: ${(err as Error).message}`),
        );
      }
    }
    this.opts.onCommit?.(items.length, performance.now() - this.lastSent);
    for (const p of items) {
      const e = outcome.get(p);
      if (e) p.reject(e);
      else p.resolve();
    }
  }

  private async insertUpdates(c: pg.PoolClient, items: Pending[]): Promise<Map<Pending, StoreRefusal>> {
    const refused = new Map<Pending, StoreRefusal>();
    const keyOf = (u: LogUpdate) => u.roomId + ':' + u.sender.toString('hex');
    const keys = new Map<string, LogUpdate>();
    for (const p of items) {
      const u = (p.op as { u: LogUpdate }).u;
      keys.set(keyOf(u), u);
    }
    // A fixed order (room, then sender bytes), so two instances locking overlapping senders cannot deadlock.
    const sorted = [...keys.values()].sort((a, b) =>
      a.roomId === b.roomId ? Buffer.compare(a.sender, b.sender) : a.roomId < b.roomId ? -1 : 1,
    );
    const rooms = sorted.map((u) => u.roomId);
    const senders = sorted.map((u) => u.sender);
    await c.query(
      `INSERT INTO sender_clocks (room_id, sender, clock)
       SELECT r, s, 0 FROM unnest($1::text[], $2::bytea[]) AS k(r, s) ON CONFLICT DO NOTHING`,
      [rooms, senders],
    );
    const locked = await c.query(
      `SELECT c.room_id, c.sender, c.clock FROM sender_clocks c
       JOIN unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS k(r, s, n) ON c.room_id = k.r AND c.sender = k.s
       ORDER BY k.n FOR UPDATE OF c`,
      [rooms, senders],
    );
    const clock = new Map<string, number>();
    for (const r of locked.rows as Row[])
      clock.set((r.room_id as string) + ':' + (r.sender as Buffer).toString('hex'), r.clock as number);
    const ins = { rooms: [] as string[], senders: [] as Buffer[], clocks: [] as number[], frames: [] as Buffer[] };
    const moved = new Set<string>();
    for (const p of items) {
      const u = (p.op as { u: LogUpdate }).u;
      const key = keyOf(u);
      const last = clock.get(key) ?? 0;
      if (u.clock !== last + 1) {
        const code = u.clock <= last ? 'replay' : 'clock-gap';
        refused.set(p, new StoreRefusal(code, last + 1, `clock ${u.clock} refused: the log expects ${last + 1}`));
        continue;
      }
      clock.set(key, u.clock);
      moved.add(key);
      ins.rooms.push(u.roomId);
      ins.senders.push(u.sender);
      ins.clocks.push(u.clock);
      ins.frames.push(u.frame);
    }
    if (ins.rooms.length === 0) return refused;
    const up = [...moved].map((k) => keys.get(k)!);
    await c.query(
      `UPDATE sender_clocks c SET clock = v.clock FROM unnest($1::text[], $2::bytea[], $3::bigint[]) AS v(r, s, clock)
       WHERE c.room_id = v.r AND c.sender = v.s`,
      [up.map((u) => u.roomId), up.map((u) => u.sender), up.map((u) => clock.get(keyOf(u)))],
    );
    // unnest keeps the arrays' order, so seq numbers follow the order the relay accepted the updates in.
    await c.query(
      `INSERT INTO log (room_id, sender, clock, frame)
       SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bytea[])`,
      [ins.rooms, ins.senders, ins.clocks, ins.frames],
    );
    return refused;
  }

  private async storeSnapshot(c: pg.PoolClient, s: SnapshotWrite): Promise<void> {
    const moved = await c.query('UPDATE rooms SET head = $2 WHERE id = $1 AND head = $2 - 1', [s.roomId, s.head]);
    if (moved.rowCount !== 1) {
      const r = await c.query('SELECT head FROM rooms WHERE id = $1', [s.roomId]);
      const head = r.rows.length ? (r.rows[0].head as number) : 0;
      throw new StoreRefusal(
        'stale-head',
        head,
        `snapshot builds on head ${s.head - 1}; the current head is ${head} (another instance compacted first)`,
      );
    }
    await c.query(
      `INSERT INTO snapshots (room_id, head, frame) VALUES ($1, $2, $3)
       ON CONFLICT (room_id) DO UPDATE SET head = excluded.head, frame = excluded.frame`,
      [s.roomId, s.head, s.frame],
    );
    const covers = [...s.covers];
    await c.query(
      `DELETE FROM log l USING unnest($2::bytea[], $3::bigint[]) AS c(sender, clock)
       WHERE l.room_id = $1 AND l.sender = c.sender AND l.clock <= c.clock`,
      [s.roomId, covers.map(([hex]) => Buffer.from(hex, 'hex')), covers.map(([, n]) => n)],
    );
  }

  async loadRoomLog(roomId: string): Promise<RoomLog> {
    // One snapshot of the database: a compaction committed between the two reads would otherwise lose updates.
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snap = await c.query('SELECT head, frame FROM snapshots WHERE room_id = $1', [roomId]);
      const log = await c.query('SELECT frame FROM log WHERE room_id = $1 ORDER BY seq', [roomId]);
      await c.query('COMMIT');
      const s = snap.rows[0] as Row | undefined;
      return {
        head: s ? (s.head as number) : 0,
        snapshot: s ? (s.frame as Buffer) : null,
        updates: (log.rows as Row[]).map((r) => r.frame as Buffer),
      };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async senderClocks(roomId: string): Promise<Map<string, number>> {
    const rows = await this.q('SELECT sender, clock FROM sender_clocks WHERE room_id = $1 AND clock > 0', [roomId]);
    return new Map(rows.map((r) => [(r.sender as Buffer).toString('hex'), r.clock as number]));
  }

  async updatesBetween(roomId: string, sender: Buffer, after: number, upTo: number): Promise<Buffer[]> {
    const rows = await this.q(
      'SELECT frame FROM log WHERE room_id = $1 AND sender = $2 AND clock > $3 AND clock <= $4 ORDER BY clock',
      [roomId, sender, after, upTo],
    );
    return rows.map((r) => r.frame as Buffer);
  }

  async storedBytes(roomId: string): Promise<number> {
    const rows = await this.q(
      `SELECT (SELECT coalesce(sum(octet_length(frame)), 0) FROM log WHERE room_id = $1)
            + (SELECT coalesce(sum(octet_length(frame)), 0) FROM snapshots WHERE room_id = $1) AS n`,
      [roomId],
    );
    return rows[0].n as number;
  }

  async logBytesBySender(roomId?: string): Promise<Map<string, number>> {
    const rows =
      roomId === undefined
        ? await this.q('SELECT sender, sum(octet_length(frame))::bigint AS n FROM log GROUP BY sender')
        : await this.q(
            'SELECT sender, sum(octet_length(frame))::bigint AS n FROM log WHERE room_id = $1 GROUP BY sender',
            [roomId],
          );
    return new Map(rows.map((r) => [(r.sender as Buffer).toString('hex'), r.n as number]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    await this.pool.end();
  }

  // ---- accounts, teams, rooms ----
  async createUser(u: User): Promise<void> {
    await this.q('INSERT INTO users (id, username, pw_hash, created_at) VALUES ($1, $2, $3, $4)', [
      u.id,
      u.username,
      u.passwordHash,
      u.createdAt,
    ]);
  }
  async userByName(username: string) {
    return toUser((await this.q('SELECT * FROM users WHERE username = $1', [username]))[0]);
  }
  async userById(id: string) {
    return toUser((await this.q('SELECT * FROM users WHERE id = $1', [id]))[0]);
  }
  async addToken(hash: string, userId: string, name: string, expiresAt: number) {
    await this.q('INSERT INTO tokens (hash, user_id, name, expires_at) VALUES ($1, $2, $3, $4)', [
      hash,
      userId,
      name,
      expiresAt,
    ]);
  }
  async userByTokenHash(hash: string, now: number) {
    const sql = 'SELECT u.* FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1 AND t.expires_at > $2';
    return toUser((await this.q(sql, [hash, now]))[0]);
  }
  async tokenExpiresAt(hash: string) {
    return (await this.q('SELECT expires_at FROM tokens WHERE hash = $1', [hash]))[0]?.expires_at as number | undefined;
  }
  async deleteToken(hash: string) {
    await this.q('DELETE FROM tokens WHERE hash = $1', [hash]);
  }
  async setPasswordHash(userId: string, hash: string) {
    await this.q('UPDATE users SET pw_hash = $2 WHERE id = $1', [userId, hash]);
  }
  async addDeviceKey(k: DeviceKey) {
    await this.q('INSERT INTO device_keys (sign_pub, dh_pub, user_id, created_at) VALUES ($1, $2, $3, $4)', [
      k.signPublicKey,
      k.dhPublicKey,
      k.userId,
      k.createdAt,
    ]);
  }
  async deviceKey(signPub: Buffer) {
    const r = (await this.q('SELECT * FROM device_keys WHERE sign_pub = $1', [signPub]))[0];
    return r && toKey(r);
  }
  async deviceKeysOf(userId: string) {
    return (await this.q('SELECT * FROM device_keys WHERE user_id = $1 ORDER BY created_at', [userId])).map(toKey);
  }
  async createTeam(t: Team, ownerId: string) {
    await this.tx(async (c) => {
      await c.query('INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)', [t.id, t.name, t.createdAt]);
      await c.query('INSERT INTO members (team_id, user_id, role) VALUES ($1, $2, $3)', [t.id, ownerId, 'owner']);
    });
  }
  async teamsOf(userId: string) {
    const sql =
      'SELECT t.*, m.role FROM members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY t.created_at';
    return (await this.q(sql, [userId])).map((r) => ({
      id: r.id as string,
      name: r.name as string,
      createdAt: r.created_at as number,
      role: r.role as Role,
    }));
  }
  async team(id: string) {
    const r = (await this.q('SELECT * FROM teams WHERE id = $1', [id]))[0];
    return r && { id: r.id as string, name: r.name as string, createdAt: r.created_at as number };
  }
  async members(teamId: string): Promise<Member[]> {
    const sql =
      'SELECT m.*, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.username';
    return (await this.q(sql, [teamId])).map((r) => ({
      teamId,
      userId: r.user_id as string,
      username: r.username as string,
      role: r.role as Role,
    }));
  }
  async membership(teamId: string, userId: string): Promise<Member | undefined> {
    const sql =
      'SELECT m.*, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 AND m.user_id = $2';
    const r = (await this.q(sql, [teamId, userId]))[0];
    return r && { teamId, userId, username: r.username as string, role: r.role as Role };
  }
  async setMember(teamId: string, userId: string, role: Role) {
    await this.q(
      `INSERT INTO members (team_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role`,
      [teamId, userId, role],
    );
  }
  async removeMember(teamId: string, userId: string) {
    await this.q('DELETE FROM members WHERE team_id = $1 AND user_id = $2', [teamId, userId]);
  }
  async createInvite(i: Invite) {
    await this.q(
      'INSERT INTO invites (id, team_id, role, expires_at, used_by, created_by) VALUES ($1, $2, $3, $4, NULL, $5)',
      [i.id, i.teamId, i.role, i.expiresAt, i.createdBy],
    );
  }
  async invite(id: string): Promise<Invite | undefined> {
    const r = (await this.q('SELECT * FROM invites WHERE id = $1', [id]))[0];
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
    const sql = 'UPDATE invites SET used_by = $1 WHERE id = $2 AND used_by IS NULL AND revoked_at IS NULL';
    return (await this.pool.query(sql, [userId, id])).rowCount === 1;
  }
  async revokeInvitesBy(teamId: string, userId: string) {
    const sql = `UPDATE invites SET revoked_at = $1
      WHERE team_id = $2 AND created_by = $3 AND used_by IS NULL AND revoked_at IS NULL`;
    return (await this.pool.query(sql, [Date.now(), teamId, userId])).rowCount ?? 0;
  }
  async createRoom(r: Room) {
    await this.q(
      `INSERT INTO rooms (id, team_id, name, key_epoch, head, rotation_required, created_at)
       VALUES ($1, $2, $3, 0, 0, false, $4)`,
      [r.id, r.teamId, r.name, r.createdAt],
    );
  }
  async room(id: string) {
    const r = (await this.q('SELECT * FROM rooms WHERE id = $1', [id]))[0];
    return r && toRoom(r);
  }
  async rooms(teamId: string) {
    return (await this.q('SELECT * FROM rooms WHERE team_id = $1 ORDER BY created_at', [teamId])).map(toRoom);
  }
  async setRoomsRotationRequired(teamId: string) {
    await this.q('UPDATE rooms SET rotation_required = true WHERE team_id = $1 AND key_epoch > 0', [teamId]);
  }
  async addWrappedKeys(roomId: string, epoch: number, wraps: WrappedKey[], bumpEpoch: boolean) {
    await this.tx(async (c) => {
      if (wraps.length)
        await c.query(
          `INSERT INTO room_keys (room_id, epoch, recipient, wrapped)
           SELECT $1, $2, r, w FROM unnest($3::bytea[], $4::bytea[]) AS k(r, w)
           ON CONFLICT (room_id, epoch, recipient) DO UPDATE SET wrapped = excluded.wrapped`,
          [roomId, epoch, wraps.map((w) => w.recipient), wraps.map((w) => w.wrapped)],
        );
      if (bumpEpoch)
        await c.query('UPDATE rooms SET key_epoch = $1, rotation_required = false WHERE id = $2', [epoch, roomId]);
    });
  }
  async wrappedKeysFor(roomId: string, recipients: Buffer[]) {
    const rows = await this.q(
      `SELECT k.* FROM room_keys k JOIN unnest($2::bytea[]) WITH ORDINALITY AS r(recipient, n) ON k.recipient = r.recipient
       WHERE k.room_id = $1 ORDER BY r.n, k.epoch`,
      [roomId, recipients],
    );
    return rows.map((r) => ({
      roomId,
      epoch: r.epoch as number,
      recipient: r.recipient as Buffer,
      wrapped: r.wrapped as Buffer,
    }));
  }
  async roster(teamId: string): Promise<StoredRoster | undefined> {
    const r = (await this.q('SELECT version, blob FROM team_rosters WHERE team_id = $1', [teamId]))[0];
    return r ? { teamId, version: r.version as number, blob: r.blob as Buffer } : undefined;
  }
  async putRoster(r: StoredRoster) {
    const res = await this.pool.query(
      `INSERT INTO team_rosters (team_id, version, blob) VALUES ($1, $2, $3)
       ON CONFLICT (team_id) DO UPDATE SET version = excluded.version, blob = excluded.blob
       WHERE excluded.version > team_rosters.version`,
      [r.teamId, r.version, r.blob],
    );
    return res.rowCount === 1;
  }
  async secret(name: string, create: () => Buffer) {
    const have = (await this.q('SELECT value FROM secrets WHERE name = $1', [name]))[0];
    if (have) return have.value as Buffer;
    // Every instance must agree on one value (the invite-signing secret): the first insert wins, the others read it.
    await this.q('INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, create()]);
    return (await this.q('SELECT value FROM secrets WHERE name = $1', [name]))[0].value as Buffer;
  }
}
