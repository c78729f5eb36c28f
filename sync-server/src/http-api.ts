// HTTP API: accounts, tokens, device keys, teams, members, invites, rooms and wrapped room keys.
// Every body is validated with zod (precise, typed errors); every error has the shape
// { error: { code, message, details? } } so clients can branch on `code` and show `message`.
import express, { type NextFunction, type Request, type Response } from 'express';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  HashingBusyError, dummyPasswordHash, hashPassword, needsRehash, newId, newToken, sameSecret, signInvite, tokenHash,
  verifyInvite, verifyPassword,
} from './auth';
import { addressKey } from './client-address';
import type { SyncServerConfig } from './config';
import type { Logger } from './logger';
import { LoginThrottle } from './login-throttle';
import type { Metrics } from './metrics';
import type { Relay } from './relay';
import { ROLE_RANK, type Role, type SyncStore, type User } from './store/store';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

const b64key = (bytes: number) => z.string().refine((s) => {
  try { return Buffer.from(s, 'base64').length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(s); } catch { return false; }
}, { message: `must be ${bytes} bytes, base64` });
const role = z.enum(['owner', 'admin', 'member', 'viewer']);
const schemas = {
  account: z.object({ username: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,38}$/, 'lowercase letters, digits, . _ -, 2-39 characters'), password: z.string().min(10, 'at least 10 characters').max(200) }),
  token: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200), name: z.string().max(64).optional() }),
  key: z.object({ signPublicKey: b64key(32), dhPublicKey: b64key(32) }),
  team: z.object({ name: z.string().trim().min(1).max(100) }),
  invite: z.object({ role: role.exclude(['owner']).default('member'), ttlSeconds: z.number().int().min(60).max(30 * 86400).default(7 * 86400) }),
  accept: z.object({ invite: z.string().min(10).max(2000) }),
  memberRole: z.object({ role }),
  room: z.object({ name: z.string().trim().min(1).max(100) }),
  keys: z.object({
    epoch: z.number().int().min(1),
    wraps: z.array(z.object({ recipient: b64key(32), wrapped: z.string().min(1).max(2048) })).min(1).max(10_000),
  }),
  // A signed roster of at most 1 MiB (base64: 4/3 of that); the server stores it and never parses it.
  roster: z.object({ version: z.number().int().min(1).max(2 ** 53 - 1), roster: z.string().min(1).max(1_398_104) }),
};

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    throw new ApiError(400, 'invalid-input', `invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`, r.error.issues);
  }
  return r.data;
}

type Authed = Request & { user: User; token: string };
const wrap = (fn: (req: Authed, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req as Authed, res).catch(next);
};

export function createApi(store: SyncStore, relay: () => Relay, cfg: SyncServerConfig, log: Logger, metrics: Metrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '2mb' }));
  app.use((req, res, next) => {
    const t0 = performance.now();
    // The path only: query strings and bodies may carry secrets and are never logged.
    res.on('finish', () => log.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - t0) }, 'http'));
    next();
  });
  const inviteSecret = store.secret('invite-hmac', () => randomBytes(32));
  const logins = new LoginThrottle(cfg.loginFreeFailuresPerAccount, cfg.loginFreeFailuresPerAddress);

  const auth = (req: Request, _res: Response, next: NextFunction) => {
    const h = req.headers.authorization ?? '';
    const token = h.startsWith('Bearer ') ? h.slice(7) : '';
    (token ? store.userByTokenHash(tokenHash(token), Date.now()) : Promise.resolve(undefined)).then((user) => {
      if (!user) throw new ApiError(401, 'unauthorized', 'missing or invalid API token: send Authorization: Bearer <token> from POST /v1/tokens');
      (req as Authed).user = user;
      (req as Authed).token = token;
      next();
    }).catch(next);
  };

  async function requireRole(teamId: string, user: User, min: Role) {
    const m = await store.membership(teamId, user.id);
    if (!m) throw new ApiError(404, 'not-found', `team ${teamId} not found or you are not a member`);
    if (ROLE_RANK[m.role] < ROLE_RANK[min]) throw new ApiError(403, 'forbidden', `this needs role ${min} in team ${teamId}; you are ${m.role}`);
    return m;
  }

  app.get('/healthz', (_req, res) => { res.json({ ok: true, connections: relay().connectionCount() }); });
  // Metrics name no user, room or key, but they show the server's activity: only the scraper holding the token reads
  // them. The token is compared in constant time.
  app.get('/metrics', wrap(async (req, res) => {
    if (!cfg.metricsToken) {
      throw new ApiError(404, 'not-found', '/metrics is off: start the server with --metrics-token (or '
        + 'KYOZO_SYNC_METRICS_TOKEN) and scrape with Authorization: Bearer <that token>');
    }
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Bearer ') || !sameSecret(h.slice(7), cfg.metricsToken)) {
      throw new ApiError(401, 'unauthorized', '/metrics needs Authorization: Bearer <the server\'s --metrics-token>');
    }
    res.set('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  }));

  app.post('/v1/accounts', wrap(async (req, res) => {
    const b = parse(schemas.account, req.body, 'account');
    if (await store.userByName(b.username)) throw new ApiError(409, 'conflict', `username ${b.username} is taken`);
    const user: User = { id: newId('usr'), username: b.username, passwordHash: await hashPassword(b.password), createdAt: Date.now() };
    await store.createUser(user);
    log.info({ user: user.id }, 'account created');
    res.status(201).json({ id: user.id, username: user.username });
  }));

  app.post('/v1/tokens', wrap(async (req, res) => {
    const b = parse(schemas.token, req.body, 'token request');
    const address = addressKey(req.socket.remoteAddress);
    const tooMany = (wait: { ms: number; by: string }) => {
      const seconds = Math.ceil(wait.ms / 1000);
      res.set('Retry-After', String(seconds));
      const whose = wait.by === 'account' ? 'for this account' : 'from your address';
      const message = `too many failed logins ${whose}: wait ${seconds} s before trying again`;
      return new ApiError(429, 'too-many-attempts', message);
    };
    const waiting = logins.waitFor(b.username, address);
    if (waiting) throw tooMany(waiting);
    const user = await store.userByName(b.username);
    // An unknown account is checked against a dummy hash: its answer takes as long as a wrong password's.
    const ok = await verifyPassword(b.password, user?.passwordHash ?? (await dummyPasswordHash()));
    if (!user || !ok) {
      const wait = logins.failed(b.username, address);
      if (wait) throw tooMany(wait);
      throw new ApiError(401, 'unauthorized', 'wrong username or password');
    }
    logins.succeeded(b.username);
    if (needsRehash(user.passwordHash)) await store.setPasswordHash(user.id, await hashPassword(b.password));
    const token = newToken();
    const expiresAt = Date.now() + cfg.tokenTtlDays * 86400_000;
    await store.addToken(tokenHash(token), user.id, b.name ?? 'default', expiresAt);
    res.status(201).json({ token, userId: user.id, expiresAt });
  }));

  app.delete('/v1/tokens/current', auth, wrap(async (req, res) => {
    const hash = tokenHash(req.token);
    await store.deleteToken(hash);
    const closed = relay().tokenRevoked(hash);
    log.info({ user: req.user.id, socketsClosed: closed }, 'token revoked');
    res.status(204).end();
  }));

  app.get('/v1/me', auth, wrap(async (req, res) => {
    const keys = await store.deviceKeysOf(req.user.id);
    res.json({ id: req.user.id, username: req.user.username, keys: keys.map(keyJson), teams: await store.teamsOf(req.user.id) });
  }));

  app.put('/v1/me/keys', auth, wrap(async (req, res) => {
    const b = parse(schemas.key, req.body, 'device key');
    const signPublicKey = Buffer.from(b.signPublicKey, 'base64');
    const existing = await store.deviceKey(signPublicKey);
    if (existing && existing.userId !== req.user.id) throw new ApiError(409, 'conflict', 'this signing key is registered to another account');
    if (!existing) await store.addDeviceKey({ signPublicKey, dhPublicKey: Buffer.from(b.dhPublicKey, 'base64'), userId: req.user.id, createdAt: Date.now() });
    res.status(existing ? 200 : 201).json(keyJson((await store.deviceKey(signPublicKey))!));
  }));

  app.post('/v1/teams', auth, wrap(async (req, res) => {
    const b = parse(schemas.team, req.body, 'team');
    const team = { id: newId('team'), name: b.name, createdAt: Date.now() };
    await store.createTeam(team, req.user.id);
    res.status(201).json({ ...team, role: 'owner' });
  }));

  app.get('/v1/teams', auth, wrap(async (req, res) => { res.json(await store.teamsOf(req.user.id)); }));

  app.get('/v1/teams/:teamId/members', auth, wrap(async (req, res) => {
    await requireRole(String(req.params.teamId), req.user, 'viewer');
    const members = await store.members(String(req.params.teamId));
    res.json(await Promise.all(members.map(async (m) => ({ ...m, keys: (await store.deviceKeysOf(m.userId)).map(keyJson) }))));
  }));

  app.patch('/v1/teams/:teamId/members/:userId', auth, wrap(async (req, res) => {
    const teamId = String(req.params.teamId);
    const userId = String(req.params.userId);
    const b = parse(schemas.memberRole, req.body, 'role change');
    const me = await requireRole(teamId, req.user, 'admin');
    const target = await store.membership(teamId, userId);
    if (!target) throw new ApiError(404, 'not-found', `user ${userId} is not a member of team ${teamId}`);
    // Admin-level grants are the owner's, and so is acting on an admin: an admin cannot mint admins or demote a peer.
    if ((ROLE_RANK[b.role] >= ROLE_RANK.admin || ROLE_RANK[target.role] >= ROLE_RANK.admin) && me.role !== 'owner') {
      const message = 'only an owner can grant the admin or owner role, or change the role of an admin or owner';
      throw new ApiError(403, 'forbidden', message);
    }
    const owners = async () => (await store.members(teamId)).filter((m) => m.role === 'owner').length;
    if (target.role === 'owner' && b.role !== 'owner' && (await owners()) === 1) {
      throw new ApiError(409, 'conflict', 'cannot demote the last owner; make someone else owner first');
    }
    await store.setMember(teamId, userId, b.role);
    relay().roleChanged(teamId, userId, b.role);
    // What a demoted admin handed out but nobody used yet goes with the role.
    if (ROLE_RANK[b.role] < ROLE_RANK[target.role]) {
      const revoked = await store.revokeInvitesBy(teamId, userId);
      if (revoked) log.info({ team: teamId, user: userId, revoked }, 'role lowered; their unused invites are revoked');
    }
    res.json({ teamId, userId, role: b.role });
  }));

  app.delete('/v1/teams/:teamId/members/:userId', auth, wrap(async (req, res) => {
    const teamId = String(req.params.teamId);
    const userId = String(req.params.userId);
    const me = await requireRole(teamId, req.user, userId === req.user.id ? 'viewer' : 'admin');
    const target = await store.membership(teamId, userId);
    if (!target) throw new ApiError(404, 'not-found', `user ${userId} is not a member of team ${teamId}`);
    if (target.role === 'owner' && (await store.members(teamId)).filter((m) => m.role === 'owner').length === 1) throw new ApiError(409, 'conflict', 'cannot remove the last owner; make someone else owner first');
    if (ROLE_RANK[target.role] >= ROLE_RANK.admin && me.role !== 'owner' && userId !== req.user.id) throw new ApiError(403, 'forbidden', 'only an owner can remove an admin');
    await store.removeMember(teamId, userId);
    const revoked = await store.revokeInvitesBy(teamId, userId);
    // Writes would be sealed under a key the removed member holds: none is taken until an admin rotates each room key.
    await store.setRoomsRotationRequired(teamId);
    relay().rotationRequired(teamId);
    const closed = relay().memberRemoved(teamId, userId);
    log.info({ team: teamId, user: userId, closed, invitesRevoked: revoked }, 'member removed; room keys must rotate');
    res.json({ removed: userId, socketsClosed: closed, rotationRequired: (await store.rooms(teamId)).filter((r) => r.rotationRequired).map((r) => r.id) });
  }));

  // The team roster (devices, roles, version) is signed by an admin's client (sync-server/src/client/team-roster.ts);
  // the server keeps the newest one so clients can fetch it, and refuses an upload that does not raise the version.
  app.get('/v1/teams/:teamId/roster', auth, wrap(async (req, res) => {
    const teamId = String(req.params.teamId);
    await requireRole(teamId, req.user, 'viewer');
    const r = await store.roster(teamId);
    const none = `team ${teamId} has no signed roster yet: an admin's client signs one`;
    if (!r) throw new ApiError(404, 'no-roster', none);
    res.json({ teamId, version: r.version, roster: r.blob.toString('base64') });
  }));

  app.put('/v1/teams/:teamId/roster', auth, wrap(async (req, res) => {
    const teamId = String(req.params.teamId);
    await requireRole(teamId, req.user, 'admin');
    const b = parse(schemas.roster, req.body, 'roster');
    if (!(await store.putRoster({ teamId, version: b.version, blob: Buffer.from(b.roster, 'base64') }))) {
      const current = (await store.roster(teamId))?.version ?? 0;
      const next = `fetch the roster, apply your change and sign version ${current + 1}`;
      throw new ApiError(409, 'stale-roster', `roster version ${b.version} is not above ${current}: ${next}`);
    }
    res.status(201).json({ teamId, version: b.version });
  }));

  app.post('/v1/teams/:teamId/invites', auth, wrap(async (req, res) => {
    const teamId = String(req.params.teamId);
    const me = await requireRole(teamId, req.user, 'admin');
    const b = parse(schemas.invite, req.body, 'invite');
    if (b.role === 'admin' && me.role !== 'owner') {
      throw new ApiError(403, 'forbidden', 'only an owner can invite admins: invite a member for an owner to raise');
    }
    const id = randomBytes(16).toString('base64url'); // 128 random bits
    const expiresAt = Date.now() + b.ttlSeconds * 1000;
    await store.createInvite({ id, teamId, role: b.role, expiresAt, usedBy: null, createdBy: req.user.id });
    res.status(201).json({ invite: signInvite(await inviteSecret, { id, team: teamId, role: b.role, exp: expiresAt }), role: b.role, expiresAt });
  }));

  app.post('/v1/invites/accept', auth, wrap(async (req, res) => {
    const b = parse(schemas.accept, req.body, 'invite acceptance');
    const payload = verifyInvite(await inviteSecret, b.invite);
    if (!payload) throw new ApiError(400, 'invalid-invite', 'the invite signature does not verify: ask for a new invite');
    const inv = await store.invite(payload.id);
    if (!inv || inv.teamId !== payload.team || inv.role !== payload.role) throw new ApiError(400, 'invalid-invite', 'unknown invite');
    const revoked = new ApiError(410, 'invite-revoked',
      'the invite was revoked (the admin who made it was removed or demoted): ask an admin for a new one');
    if (inv.revokedAt) throw revoked;
    if (inv.expiresAt <= Date.now()) throw new ApiError(410, 'invite-expired', 'the invite has expired: ask an admin for a new one');
    // Its maker must still be allowed to grant it now, also for invites made before revocation on removal existed.
    const maker = await store.membership(inv.teamId, inv.createdBy);
    if (!maker || ROLE_RANK[maker.role] < ROLE_RANK[inv.role === 'admin' ? 'owner' : 'admin']) throw revoked;
    if (await store.membership(inv.teamId, req.user.id)) throw new ApiError(409, 'conflict', 'you are already a member of this team');
    if (!(await store.markInviteUsed(inv.id, req.user.id))) {
      if ((await store.invite(inv.id))?.revokedAt) throw revoked;
      throw new ApiError(410, 'invite-used', 'the invite was already used');
    }
    await store.setMember(inv.teamId, req.user.id, inv.role);
    res.json({ teamId: inv.teamId, role: inv.role });
  }));

  app.post('/v1/teams/:teamId/rooms', auth, wrap(async (req, res) => {
    const teamId = String(req.params.teamId);
    await requireRole(teamId, req.user, 'admin');
    const b = parse(schemas.room, req.body, 'room');
    if ((await store.rooms(teamId)).length >= cfg.maxRoomsPerTeam) throw new ApiError(409, 'limit', `team ${teamId} already has ${cfg.maxRoomsPerTeam} rooms (the limit); delete or reuse one`);
    const room = { id: newId('room'), teamId, name: b.name, keyEpoch: 0, head: 0, rotationRequired: false, createdAt: Date.now() };
    await store.createRoom(room);
    res.status(201).json(room);
  }));

  app.get('/v1/teams/:teamId/rooms', auth, wrap(async (req, res) => {
    await requireRole(String(req.params.teamId), req.user, 'viewer');
    res.json(await store.rooms(String(req.params.teamId)));
  }));

  async function roomFor(req: Authed, min: Role) {
    const room = await store.room(String(req.params.roomId));
    if (!room) throw new ApiError(404, 'not-found', `room ${req.params.roomId} not found`);
    await requireRole(room.teamId, req.user, min);
    return room;
  }

  app.get('/v1/rooms/:roomId', auth, wrap(async (req, res) => { res.json(await roomFor(req, 'viewer')); }));

  // Upload room keys wrapped to member devices. epoch = current + 1 rotates; epoch <= current grants older keys.
  app.post('/v1/rooms/:roomId/keys', auth, wrap(async (req, res) => {
    const room = await roomFor(req, 'admin');
    const b = parse(schemas.keys, req.body, 'wrapped keys');
    if (b.epoch > room.keyEpoch + 1) throw new ApiError(409, 'stale-epoch', `epoch ${b.epoch} skips ahead: the room is at ${room.keyEpoch}; rotate to ${room.keyEpoch + 1}`);
    const members = new Set((await store.members(room.teamId)).map((m) => m.userId));
    const wraps = [];
    for (const w of b.wraps) {
      const recipient = Buffer.from(w.recipient, 'base64');
      const key = await store.deviceKey(recipient);
      if (!key || !members.has(key.userId)) throw new ApiError(400, 'invalid-input', `recipient ${w.recipient} is not a device of a current team member`);
      wraps.push({ roomId: room.id, epoch: b.epoch, recipient, wrapped: Buffer.from(w.wrapped, 'base64') });
    }
    const rotate = b.epoch === room.keyEpoch + 1;
    await store.addWrappedKeys(room.id, b.epoch, wraps, rotate);
    if (rotate) relay().keysRotated(room.id, b.epoch);
    res.status(201).json({ roomId: room.id, epoch: rotate ? b.epoch : room.keyEpoch, stored: wraps.length });
  }));

  app.get('/v1/rooms/:roomId/keys', auth, wrap(async (req, res) => {
    const room = await roomFor(req, 'viewer');
    const mine = (await store.deviceKeysOf(req.user.id)).map((k) => k.signPublicKey);
    const wraps = await store.wrappedKeysFor(room.id, mine);
    res.json({ roomId: room.id, epoch: room.keyEpoch, rotationRequired: room.rotationRequired, keys: wraps.map((w) => ({ epoch: w.epoch, recipient: w.recipient.toString('base64'), wrapped: w.wrapped.toString('base64') })) });
  }));

  app.use((_req, _res, next) => next(new ApiError(404, 'not-found', 'no such endpoint: see the README section "Sync server" for the API')));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    if (err instanceof ApiError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
      return;
    }
    if (err instanceof HashingBusyError) {
      const message = 'too many password checks at once: retry in a second';
      res.set('Retry-After', '1').status(503).json({ error: { code: 'busy', message } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed' || e.type === 'entity.too.large') {
      res.status(e.status ?? 400).json({ error: { code: 'invalid-input', message: `request body rejected: ${e.message}; send JSON` } });
      return;
    }
    log.error({ err: e.message, path: req.path }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'internal error; nothing was changed if the request was a write' } });
  });
  return app;
}

function keyJson(k: { signPublicKey: Buffer; dhPublicKey: Buffer; createdAt: number }) {
  return { signPublicKey: k.signPublicKey.toString('base64'), dhPublicKey: k.dhPublicKey.toString('base64'), fingerprint: fingerprint(k.signPublicKey, k.dhPublicKey), createdAt: k.createdAt };
}

/** The out-of-band comparable fingerprint of a device: SHA-256 over both public keys, 16 groups of 4 hex digits. */
export function fingerprint(signPublicKey: Buffer, dhPublicKey: Buffer): string {
  // Kept identical to client/identity.ts so a fingerprint shown by the server can be compared with the client's own.
  const hex = createHash('sha256').update(signPublicKey).update(dhPublicKey).digest('hex');
  return hex.match(/.{4}/g)!.join(' ');
}
