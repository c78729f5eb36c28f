// Authentication, teams and roles against a real server: every refusal carries the right close code or HTTP error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createIdentity, SyncApi, SyncApiError } from '../../sync-server/src/client';
import { signBytes } from '../../sync-server/src/client/identity';
import { sealData } from '../../sync-server/src/client/room-crypto';
import { CloseCode, FrameKind, authSignedBytes, encodeAuth } from '../../sync-server/src/wire';
import {
  closeCodeOf,
  createTeamRoom,
  createUser,
  rawSocket,
  scrapeMetrics,
  startTestServer,
  syncedPair,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
before(async () => {
  server = await startTestServer({
    authTimeoutMs: 300,
    preAuthBufferBytes: 8 * 1024,
    rateLimitPerSecond: 50,
    rateLimitBurst: 50,
    maxRoomsPerTeam: 3,
  });
  [alice, bob, mallory] = await Promise.all([createUser(server), createUser(server), createUser(server)]);
});
after(async () => {
  await server.stop();
});

const authWith =
  (u: TestUser, roomId: string, token = u.token, identity = u.identity) =>
  (ws: import('ws').WebSocket, challenge: Buffer) =>
    ws.send(encodeAuth(identity.signPublicKey, signBytes(identity, authSignedBytes(challenge, roomId)), token));

async function rejects(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof SyncApiError && e.status === status && e.code === code);
}

test('the upgrade is refused with 4401 without a valid token, key or signature', async () => {
  const { roomId } = await createTeamRoom(alice);
  const url = `${server.wsUrl}/v1/rooms/${roomId}/sync`;
  assert.equal(await closeCodeOf(url, authWith(alice, roomId, 'kyz_not-a-token')), CloseCode.Unauthorized);
  assert.equal(
    await closeCodeOf(url, (ws) => ws.send(Buffer.from([FrameKind.Update, 1, 2, 3]))),
    CloseCode.Unauthorized,
    'first frame not AUTH',
  );
  assert.equal(await closeCodeOf(url, (ws) => ws.send('{"token":"x"}')), CloseCode.Unauthorized, 'text frame');
  assert.equal(
    await closeCodeOf(url, authWith(alice, roomId, alice.token, createIdentity())),
    CloseCode.Unauthorized,
    'unregistered device key',
  );
  assert.equal(
    await closeCodeOf(url, authWith(alice, 'other-room')),
    CloseCode.Unauthorized,
    'challenge signed for another room',
  );
  assert.equal(
    await closeCodeOf(url, authWith(alice, roomId, alice.token, bob.identity)),
    CloseCode.Unauthorized,
    "another user's device key",
  );
  assert.equal(await closeCodeOf(url, () => undefined), CloseCode.AuthTimeout, 'silence until the auth timeout');
  assert.equal(await closeCodeOf(`${server.wsUrl}/v1/rooms/nope/sync`, authWith(alice, 'nope')), CloseCode.NotFound);
  assert.equal(
    await closeCodeOf(url, (ws) => ws.send(Buffer.concat([Buffer.from([FrameKind.Auth, 1]), Buffer.alloc(9000)]))),
    CloseCode.TooLarge,
    'pre-auth buffer',
  );
  const ok = await rawSocket(server, alice, roomId);
  assert.equal(ok.closed(), null, 'a valid token, device key and signature connect');
  ok.ws.close();
});

test('a room of another team is refused with 4403, and the HTTP API hides it', async () => {
  const { roomId, teamId } = await createTeamRoom(alice);
  assert.equal(
    await closeCodeOf(`${server.wsUrl}/v1/rooms/${roomId}/sync`, authWith(mallory, roomId)),
    CloseCode.Forbidden,
  );
  await rejects(mallory.api.members(teamId), 404, 'not-found');
  await rejects(mallory.api.myKeys(roomId), 404, 'not-found');
  await rejects(
    mallory.api.uploadKeys(roomId, 2, [{ recipient: mallory.identity.signPublicKey, wrapped: Buffer.alloc(188) }]),
    404,
    'not-found',
  );
});

test("a viewer reads but the server refuses the viewer's updates", async () => {
  const { roomId, a, b } = await syncedPair(server, alice, bob, { role: 'viewer' });
  a.text.insert(0, 'from-owner;');
  await waitFor(() => b.text.toString() === 'from-owner;', 'viewer to read');
  const refused = new Promise<{ code: string }>((r) => b.provider.once('server-error', r));
  b.text.insert(0, 'from-viewer;');
  b.provider.flush();
  assert.equal((await refused).code, 'forbidden');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(a.text.toString(), 'from-owner;');
  assert.equal((await server.store.loadRoomLog(roomId)).updates.length, 1);
  [a, b].forEach((x) => x.provider.destroy());
});

test('roles, invites and validation: refused with consistent error bodies', async () => {
  const team = await alice.api.createTeam('roles');
  const { invite } = await alice.api.invite(team.id, 'member');
  await bob.api.acceptInvite(invite);
  await rejects(mallory.api.acceptInvite(invite), 410, 'invite-used');
  await rejects(bob.api.invite(team.id), 403, 'forbidden');
  await rejects(bob.api.createRoomRecord(team.id, 'x'), 403, 'forbidden');
  await rejects(bob.api.setRole(team.id, bob.userId, 'admin'), 403, 'forbidden');
  const tampered = invite.replace(/^./, (c) => (c === 'e' ? 'f' : 'e'));
  await rejects(mallory.api.acceptInvite(tampered), 400, 'invalid-invite');
  const [body, mac] = invite.split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), role: 'admin' }),
  ).toString('base64url');
  await rejects(mallory.api.acceptInvite(`${forged}.${mac}`), 400, 'invalid-invite');
  await rejects(new SyncApi(server.url).createAccount('X', 'short'), 400, 'invalid-input');
  await rejects(new SyncApi(server.url).login(alice.name, 'wrong password!'), 401, 'unauthorized');
  await rejects(new SyncApi(server.url, 'kyz_bad').me(), 401, 'unauthorized');
  const raw = await fetch(`${server.url}/v1/teams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
    body: '{"name":',
  });
  assert.equal(raw.status, 400);
  assert.equal(((await raw.json()) as { error: { code: string } }).error.code, 'invalid-input');
  // Expired invites: the shortest TTL is a minute, so expire one through the store and check the refusal.
  const short = await alice.api.invite(team.id, 'viewer', 60);
  const id = JSON.parse(Buffer.from(short.invite.split('.')[0], 'base64url').toString()).id as string;
  assert.ok(Buffer.from(id, 'base64url').length >= 16, 'invite ids carry at least 128 random bits');
  (server.store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): void } } }).db
    .prepare('UPDATE invites SET expires_at = 1 WHERE id = ?')
    .run(id);
  await rejects(mallory.api.acceptInvite(short.invite), 410, 'invite-expired');
  for (let i = 0; i < 3; i++) await alice.api.createRoomRecord(team.id, `r${i}`);
  await rejects(alice.api.createRoomRecord(team.id, 'one too many'), 409, 'limit');
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  const metrics = await scrapeMetrics(server);
  assert.match(metrics, /kyozo_sync_rejected_total/);
});

test('a connection over the frame rate limit is closed with 4429', async () => {
  const { roomId } = await createTeamRoom(alice);
  const s = await rawSocket(server, alice, roomId);
  const keyring = await alice.api.loadKeyring(roomId, alice.identity, alice.trust);
  for (let i = 1; i <= 200; i++)
    s.ws.send(
      sealData(
        FrameKind.Awareness,
        roomId,
        alice.identity,
        keyring.current,
        keyring.get(keyring.current)!,
        i,
        Buffer.from('{}'),
      ),
    );
  await waitFor(() => s.closed() !== null, 'rate-limit close');
  assert.equal(s.closed()!.code, CloseCode.RateLimited);
});

test('removing a member closes their sockets within a second and rotates the key; they cannot decrypt new updates', async () => {
  const { roomId, teamId, a, b } = await syncedPair(server, alice, bob);
  a.text.insert(0, 'before;');
  await waitFor(() => b.text.toString() === 'before;', 'bob to read');
  const closed = new Promise<{ code: number }>((r) => b.provider.once('close', r));
  const t0 = Date.now();
  const removal = await alice.api.removeMember(teamId, bob.userId);
  const code = (await closed).code;
  assert.ok(Date.now() - t0 < 1000, `closed within a second (took ${Date.now() - t0} ms)`);
  assert.equal(code, CloseCode.MemberRemoved);
  assert.deepEqual(removal.rotationRequired, [roomId]);
  // The admin rotates: the new key is wrapped to remaining members only.
  const epoch = await alice.api.rotateRoomKey(roomId, teamId, alice.identity, a.keyring);
  assert.equal(epoch, 2);
  await waitFor(() => a.keyring.current === 2, 'alice to use epoch 2');
  a.text.insert(0, 'after;');
  await a.provider.whenAcked();
  // Bob can no longer connect, and nothing he still holds opens the new update.
  assert.equal(
    await closeCodeOf(`${server.wsUrl}/v1/rooms/${roomId}/sync`, authWith(bob, roomId)),
    CloseCode.Forbidden,
  );
  await rejects(bob.api.myKeys(roomId), 404, 'not-found');
  const log = await server.store.loadRoomLog(roomId);
  const last = log.updates[log.updates.length - 1];
  assert.equal(last.readUInt32BE(33), 2, 'the new update is sealed under epoch 2');
  const { openData } = await import('../../sync-server/src/client/room-crypto');
  assert.throws(() => openData(roomId, last, (e) => b.keyring.get(e)), /no room key for epoch 2/);
  assert.equal(b.keyring.get(2), undefined);
  const stale = sealData(FrameKind.Update, roomId, alice.identity, 1, a.keyring.get(1)!, 999, Buffer.from('x'));
  const s = await rawSocket(server, alice, roomId);
  s.ws.send(stale);
  await waitFor(
    () => s.frames.some((f) => f[0] === FrameKind.Error && f.toString().includes('stale-epoch')),
    'old-epoch update refused',
  );
  s.ws.close();
  [a, b].forEach((x) => x.provider.destroy());
});
