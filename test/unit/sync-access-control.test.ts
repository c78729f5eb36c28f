// Who may do what on the sync server, against a real server on 127.0.0.1: writes wait for the key rotation a
// removal requires, admin-level grants are the owner's, a revoked or expired token's sockets close, logins are
// throttled and take as long for unknown accounts as for known ones, and /metrics needs its token.
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SyncApi, SyncApiError } from '../../sync-server/src/client';
import { sealData, sealSnapshot } from '../../sync-server/src/client/room-crypto';
import { CloseCode, FrameKind } from '../../sync-server/src/wire';
import {
  createTeamRoom,
  createUser,
  rawSocket,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
  ackedIn,
  errorsIn,
  yUpdate,
} from '../support/sync-harness';

const PASSWORD = 'correct horse battery'; // the harness's
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let dave: TestUser;
let erin: TestUser;
let frank: TestUser;
before(async () => {
  server = await startTestServer({ heartbeatMs: 200 });
  [alice, bob, carol, dave, erin, frank] = await Promise.all(Array.from({ length: 6 }, () => createUser(server)));
});
after(async () => {
  await server.stop();
});

const trustAll = () => true;

async function rejects(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SyncApiError, String(e));
    assert.deepEqual([e.status, e.code], [status, code], e.message);
    return true;
  });
}

async function join(teamId: string, user: TestUser, role: string) {
  const { invite } = await alice.api.invite(teamId, role);
  await user.api.acceptInvite(invite);
}

/** A raw HTTP call: status, JSON body and headers, whatever the status. */
interface CallOptions {
  token?: string;
  body?: object;
}
async function call(target: { url: string }, method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body) headers['content-type'] = 'application/json';
  const body = opts.body ? JSON.stringify(opts.body) : undefined;
  const res = await fetch(target.url + path, { method, headers, body });
  const text = await res.text();
  let json: { error?: { code: string; message: string } } & Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

test('after a removal the relay refuses writes under the old key (rotation-required) until it is rotated', async () => {
  const { roomId, teamId } = await createTeamRoom(alice, [{ user: bob }, { user: carol }]);
  const other = await alice.api.createRoom(teamId, 'other', alice.identity); // nobody connected to it at the removal
  const keyring = await alice.api.loadKeyring(roomId, alice.identity, trustAll);
  const s = await rawSocket(server, alice, roomId);
  s.ws.send(sealData(FrameKind.Update, roomId, alice.identity, 1, keyring.get(1)!, 1, yUpdate('before;')));
  await waitFor(() => ackedIn(s.frames) === 1, 'the write before the removal');

  await alice.api.removeMember(teamId, carol.userId); // carol still holds the epoch-1 key
  s.ws.send(sealData(FrameKind.Update, roomId, alice.identity, 1, keyring.get(1)!, 2, yUpdate('after-removal;')));
  await waitFor(() => errorsIn(s.frames).length === 1, 'the refusal of an update under the old key');
  const [refusal] = errorsIn(s.frames);
  assert.equal(refusal.code, 'rotation-required');
  assert.equal(refusal.clock, 2);
  assert.match(refusal.message, /rotate/);
  const covers = new Map([[alice.identity.signPublicKey.toString('hex'), 1]]);
  s.ws.send(sealSnapshot(roomId, alice.identity, 1, keyring.get(1)!, 0, covers, yUpdate('before;')));
  await waitFor(() => errorsIn(s.frames).length === 2, 'the refusal of a snapshot under the old key');
  assert.equal(errorsIn(s.frames)[1].code, 'rotation-required');
  // A room first opened after the removal is refused too: the requirement is read from the database.
  const s2 = await rawSocket(server, alice, other.room.id);
  s2.ws.send(sealData(FrameKind.Update, other.room.id, alice.identity, 1, other.keyring.get(1)!, 1, yUpdate('other;')));
  await waitFor(() => errorsIn(s2.frames).length === 1, 'the refusal in the other room');
  assert.equal(errorsIn(s2.frames)[0].code, 'rotation-required');
  assert.equal((await server.store.loadRoomLog(roomId)).updates.length, 1, 'nothing sent after the removal was stored');
  assert.equal((await server.store.loadRoomLog(other.room.id)).updates.length, 0);
  assert.equal(ackedIn(s.frames), 1);

  // Once rotated, the room takes writes again, under the new key only.
  assert.equal(await alice.api.rotateRoomKey(roomId, teamId, alice.identity, keyring), 2);
  await waitFor(() => s.frames.some((f) => f[0] === FrameKind.KeyRotated), 'the rotation announced');
  s.ws.send(sealData(FrameKind.Update, roomId, alice.identity, 2, keyring.get(2)!, 2, yUpdate('after-rotation;')));
  await waitFor(() => ackedIn(s.frames) === 2, 'the write under the new key');
  assert.equal(errorsIn(s.frames).length, 2);
  s.ws.close();
  s2.ws.close();
});

test("admin-level grants are the owner's: an admin cannot invite admins, nor change or remove an admin", async () => {
  const team = await alice.api.createTeam('ranks');
  await join(team.id, bob, 'admin');
  await join(team.id, dave, 'admin');
  await join(team.id, erin, 'member');
  await rejects(bob.api.invite(team.id, 'admin'), 403, 'forbidden');
  await rejects(bob.api.setRole(team.id, dave.userId, 'member'), 403, 'forbidden');
  await rejects(bob.api.setRole(team.id, dave.userId, 'viewer'), 403, 'forbidden');
  await rejects(bob.api.setRole(team.id, erin.userId, 'admin'), 403, 'forbidden');
  await rejects(bob.api.removeMember(team.id, dave.userId), 403, 'forbidden');
  // What an admin may do: invite members and viewers, and manage them.
  await bob.api.invite(team.id, 'member');
  await bob.api.invite(team.id, 'viewer');
  await bob.api.setRole(team.id, erin.userId, 'viewer');
  // The owner acts on admins; the last owner cannot step down.
  await alice.api.setRole(team.id, dave.userId, 'member');
  await rejects(alice.api.setRole(team.id, alice.userId, 'admin'), 409, 'conflict');
  const roles = Object.fromEntries((await alice.api.members(team.id)).map((m) => [m.userId, m.role]));
  assert.deepEqual(
    [alice, bob, dave, erin].map((u) => roles[u.userId]),
    ['owner', 'admin', 'member', 'viewer'],
  );
});

test('removing or demoting an admin revokes their unused invites; a removed admin cannot rejoin with one', async () => {
  const team = await alice.api.createTeam('revocation');
  await join(team.id, bob, 'admin');
  await join(team.id, dave, 'admin');
  const ownWayBack = await bob.api.invite(team.id, 'member');
  const forSomeone = await bob.api.invite(team.id, 'viewer');
  const alreadyUsed = await bob.api.invite(team.id, 'member');
  await erin.api.acceptInvite(alreadyUsed.invite);
  const byDave = await dave.api.invite(team.id, 'member');
  const byOwner = await alice.api.invite(team.id, 'member');

  await alice.api.removeMember(team.id, bob.userId);
  await rejects(bob.api.acceptInvite(ownWayBack.invite), 410, 'invite-revoked');
  await rejects(frank.api.acceptInvite(forSomeone.invite), 410, 'invite-revoked');
  await alice.api.setRole(team.id, dave.userId, 'member');
  await rejects(frank.api.acceptInvite(byDave.invite), 410, 'invite-revoked');
  await frank.api.acceptInvite(byOwner.invite);
  const roles = Object.fromEntries((await alice.api.members(team.id)).map((m) => [m.userId, m.role]));
  assert.deepEqual(
    [alice, dave, erin, frank].map((u) => roles[u.userId]),
    ['owner', 'member', 'member', 'member'],
  );
  assert.equal(roles[bob.userId], undefined, 'the removed admin is not back');
});

test("revoking a token closes its sockets at once (4401); the same user's other token stays connected", async () => {
  const grace = await createUser(server);
  const { roomId } = await createTeamRoom(grace);
  const second = await new SyncApi(server.url).login(grace.name, PASSWORD);
  const keyring = await grace.api.loadKeyring(roomId, grace.identity, trustAll);
  const s1 = await rawSocket(server, grace, roomId);
  const s2 = await rawSocket(server, grace, roomId, grace.identity, second.token);
  assert.equal((await call(server, 'DELETE', '/v1/tokens/current', { token: grace.token })).status, 204);
  await waitFor(() => s1.closed() !== null, "the revoked token's socket to close", 2000);
  assert.equal(s1.closed()!.code, CloseCode.Unauthorized);
  assert.match(s1.closed()!.reason, /revoked/);
  assert.equal(s2.closed(), null);
  s2.ws.send(sealData(FrameKind.Update, roomId, grace.identity, 1, keyring.get(1)!, 1, yUpdate('still here;')));
  await waitFor(() => ackedIn(s2.frames) === 1, 'a write on the other token');
  const again = await rawSocket(server, grace, roomId);
  assert.equal(again.closed()?.code, CloseCode.Unauthorized, 'the revoked token cannot connect again');
  s2.ws.close();
});

test('a socket whose token expires is closed (4401) at its next heartbeat', async () => {
  const hank = await createUser(server);
  const { roomId } = await createTeamRoom(hank);
  const s = await rawSocket(server, hank, roomId);
  await new Promise((r) => setTimeout(r, 500)); // heartbeats every 200 ms: a live token keeps the socket open
  assert.equal(s.closed(), null);
  const db = (server.store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): void } } }).db;
  db.prepare('UPDATE tokens SET expires_at = ? WHERE user_id = ?').run(Date.now() - 1, hank.userId);
  await waitFor(() => s.closed() !== null, "the expired token's socket to close", 3000);
  assert.equal(s.closed()!.code, CloseCode.Unauthorized);
  assert.match(s.closed()!.reason, /expired/);
});

test('too many wrong passwords for an account or from an address: 429, and a longer wait each time', async () => {
  const limited = await startTestServer({ loginFreeFailuresPerAccount: 3, loginFreeFailuresPerAddress: 8 });
  try {
    const ivy = await createUser(limited);
    const attempt = (username: string, password: string) => {
      return call(limited, 'POST', '/v1/tokens', { body: { username, password } });
    };
    const statuses: number[] = [];
    let locked;
    for (let i = 0; i < 20 && !locked; i++) {
      const r = await attempt(ivy.name, `wrong password ${i}`);
      statuses.push(r.status);
      if (r.status === 429) locked = r;
    }
    assert.ok(locked, `a 429 within 20 wrong passwords (got ${statuses.join(', ')})`);
    assert.deepEqual(statuses, [401, 401, 401, 429], 'three free failures, then the account waits');
    assert.equal(locked.json.error?.code, 'too-many-attempts');
    assert.match(locked.json.error!.message, /wait \d+ s/);
    const retry = Number(locked.headers.get('retry-after'));
    assert.ok(retry >= 1, `Retry-After ${retry}`);
    const right = await attempt(ivy.name, PASSWORD);
    assert.equal(right.status, 429, 'while locked even the right password waits (no guessing through the lock)');
    await new Promise((r) => setTimeout(r, retry * 1000 + 100));
    const next = await attempt(ivy.name, 'wrong again');
    assert.equal(next.status, 429, 'one more failure after the wait locks again at once');
    assert.ok(Number(next.headers.get('retry-after')) > retry, 'for longer each time');
    // The address: failures across many accounts (unknown ones too) lock every login from it.
    for (let i = 0; i < 4; i++) await attempt(`ghost-${i}`, 'nope nope nope');
    const fromAddress = await attempt('ghost-last', 'nope nope nope');
    assert.equal(fromAddress.status, 429, 'the address has failed 8 times');
    assert.match(fromAddress.json.error!.message, /address/);
  } finally {
    await limited.stop();
  }
});

test('a login for an unknown account takes as long as a wrong password for a known one (dummy hash)', async () => {
  const timing = await startTestServer();
  try {
    const jack = await createUser(timing);
    const timeOf = async (username: string) => {
      const t0 = performance.now();
      const r = await call(timing, 'POST', '/v1/tokens', { body: { username, password: 'not the password' } });
      assert.equal(r.status, 401);
      return performance.now() - t0;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await timeOf(jack.name));
      unknown.push(await timeOf(`nobody-${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratio = median(known) / median(unknown);
    const ms = (xs: number[]) => xs.map(Math.round).join('/');
    assert.ok(ratio < 3 && ratio > 1 / 3, `known ${ms(known)} ms, unknown ${ms(unknown)} ms`);
  } finally {
    await timing.stop();
  }
});

test('passwords are hashed with scrypt N=2^17, and a weaker stored hash is replaced at the next login', async () => {
  const stored = async (username: string) => (await server.store.userByName(username))!.passwordHash;
  assert.match(await stored(alice.name), /^scrypt\$131072\$8\$1\$/);
  // An account from before: N=2^15.
  const salt = Buffer.from('0123456789abcdef');
  const key = scryptSync(PASSWORD, salt, 64, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const old = `scrypt$32768$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
  await server.store.createUser({ id: 'usr_legacy', username: 'legacy', passwordHash: old, createdAt: Date.now() });
  await new SyncApi(server.url).login('legacy', PASSWORD);
  assert.match(await stored('legacy'), /^scrypt\$131072\$8\$1\$/);
  await new SyncApi(server.url).login('legacy', PASSWORD); // the new hash verifies
});

test('/metrics answers only with its token, and is off without one', async () => {
  const off = await startTestServer({ metricsToken: '' });
  const guarded = await startTestServer({ metricsToken: 'metrics-secret-0123456789' });
  try {
    const open = await call(off, 'GET', '/metrics');
    assert.equal(open.status, 404);
    assert.match(open.json.error!.message, /--metrics-token/);
    assert.equal((await call(guarded, 'GET', '/metrics')).status, 401);
    assert.equal((await call(guarded, 'GET', '/metrics', { token: 'metrics-secret-wrong-6789' })).status, 401);
    const apiToken = await call(guarded, 'GET', '/metrics', { token: alice.token });
    assert.equal(apiToken.status, 401, 'an API token is not the metrics token');
    const ok = await call(guarded, 'GET', '/metrics', { token: 'metrics-secret-0123456789' });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /kyozo_sync_connections/);
    assert.ok(!guarded.logs.join('').includes('metrics-secret-0123456789'), 'the token is never logged');
  } finally {
    await off.stop();
    await guarded.stop();
  }
});
