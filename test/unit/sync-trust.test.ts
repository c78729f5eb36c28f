// The operator of the sync server can neither read nor forge a room. Against a real server whose database the test
// edits as its operator would (and a tiny relay that sends a real client whatever the test likes): forged key wraps,
// swapped device keys, rolled-back or forged rosters, updates, snapshots and presence from devices without the right,
// and old-epoch updates after a rotation are refused by the client, with a warning where the user must know.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test, type TestContext } from 'node:test';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import {
  createIdentity,
  fingerprint,
  newRoomKey,
  signRoster,
  unwrapRoomKey,
  wrapRoomKey,
  type TrustWarning,
} from '../../sync-server/src/client';
import { OpenError, openData, sealData, sealSnapshot } from '../../sync-server/src/client/room-crypto';
import { FrameKind } from '../../sync-server/src/wire';
import {
  createTeamRoom,
  createUser,
  openProvider,
  rawSocket,
  startTestServer,
  syncedPair,
  verifyDevices,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';
import { OperatorDb, startHostileRelay, untilIdle } from '../support/hostile-server';

let server: TestServer;
let db: OperatorDb;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let victor: TestUser;
before(async () => {
  server = await startTestServer();
  db = new OperatorDb(server.dataDir);
  [alice, bob, carol, victor] = await Promise.all(Array.from({ length: 4 }, () => createUser(server)));
});
after(async () => {
  db.close();
  await server.stop();
});

type Opened = Awaited<ReturnType<typeof openProvider>>;
/** Destroys the providers when the test ends, passed or failed, so the next test starts from an idle server. */
function closing(t: TestContext, ...list: Opened[]): Opened[] {
  t.after(() => list.forEach((x) => x.provider.destroy()));
  return list;
}
/** Every warning `user`'s device raises during the test. */
function warningsOf(t: TestContext, user: TestUser): TrustWarning[] {
  const list: TrustWarning[] = [];
  const on = (w: TrustWarning) => list.push(w);
  user.trust.on('warning', on);
  t.after(() => user.trust.off('warning', on));
  return list;
}
function updateWith(text: string): Uint8Array {
  const d = new Y.Doc();
  d.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(d);
}
function opens(roomId: string, frame: Buffer, key: Buffer): boolean {
  try {
    openData(roomId, frame, () => key);
    return true;
  } catch (e) {
    if (e instanceof OpenError) return false;
    throw e;
  }
}
const fp = (u: TestUser) => fingerprint(u.identity.signPublicKey, u.identity.dhPublicKey);

test("a wrap signed by the operator's key at a bumped epoch is refused; no edit is sealed under it", async (t) => {
  const { roomId, teamId, a, b } = await syncedPair(server, alice, bob);
  closing(t, a, b);
  a.provider.destroy();
  b.provider.destroy();
  await untilIdle(server);
  const operator = createIdentity();
  const known = newRoomKey();
  db.putWrap(roomId, 2, bob.identity.signPublicKey, wrapRoomKey(roomId, 2, known, bob.identity, operator));
  db.setRoomEpoch(roomId, 2);
  const warnings = warningsOf(t, bob);
  const [c] = closing(t, await openProvider(server, bob, roomId));
  const missing = once(c.provider, 'keys-missing');
  await c.provider.whenSynced();
  assert.equal(c.keyring.get(2), undefined, 'the forged key is not in the keyring');
  assert.deepEqual((await missing)[0], { epoch: 2, have: 1 }, 'the provider says it lacks the key announced');
  const refusal = warnings.find((w) => w.kind === 'wrap-refused');
  assert.equal(refusal?.epoch, 2);
  assert.match(refusal!.message, /epoch 2 .*refused/);
  c.text.insert(0, 'written after the forged wrap;');
  c.provider.flush();
  // The owner rotates for real: the held edit goes out under the owner's key, never under the operator's.
  const epoch = await alice.api.rotateRoomKey(roomId, teamId, alice.identity, a.keyring, alice.trust);
  assert.equal(epoch, 3);
  await c.provider.whenAcked();
  const log = await server.store.loadRoomLog(roomId);
  const fromBob = log.updates.filter((f) => f.subarray(1, 33).equals(bob.identity.signPublicKey));
  assert.ok(fromBob.length > 0, 'bob wrote');
  assert.deepEqual(
    fromBob.filter((f) => opens(roomId, f, known)),
    [],
    'nothing bob sent opens with the operator key',
  );
  const underOwnersKey = fromBob.filter((f) => f.readUInt32BE(33) === 3 && opens(roomId, f, a.keyring.get(3)!));
  assert.equal(underOwnersKey.length, fromBob.length, 'all under the epoch-3 key');
});

test("with a forged wrap in force, nothing the client sends opens with the operator's key", async (t) => {
  const relay = await startHostileRelay();
  t.after(() => relay.close());
  const { roomId, teamId, ownerKeyring } = await createTeamRoom(alice, [{ user: bob }]);
  const operator = createIdentity();
  const known = newRoomKey();
  db.putWrap(roomId, 2, bob.identity.signPublicKey, wrapRoomKey(roomId, 2, known, bob.identity, operator));
  db.setRoomEpoch(roomId, 2);
  const aw = new Awareness(new Y.Doc());
  t.after(() => aw.destroy());
  aw.setLocalState({ user: { name: 'bob' } });
  const [b] = closing(t, await openProvider(relay, bob, roomId, { awareness: aw }));
  const first = await relay.connection(0);
  first.hello({ room: roomId, epoch: 2 });
  first.send(Buffer.from([FrameKind.Synced]));
  await b.provider.whenSynced();
  b.text.insert(0, 'typed while the operator held the key;');
  b.provider.flush();
  aw.setLocalStateField('cursor', 3);
  await new Promise((r) => setTimeout(r, 100));
  const sealed = (frames: Buffer[]) => frames.filter((f) => f[0] === FrameKind.Update || f[0] === FrameKind.Awareness);
  assert.deepEqual(
    sealed(first.received).filter((f) => opens(roomId, f, known)),
    [],
    'nothing sent opens with it',
  );
  // The owner rotates for real; the relay announces it, and the client sends what it held under that key.
  const epoch = await alice.api.rotateRoomKey(roomId, teamId, alice.identity, ownerKeyring, alice.trust);
  const rotated = Buffer.alloc(5);
  rotated[0] = FrameKind.KeyRotated;
  rotated.writeUInt32BE(epoch, 1);
  first.send(rotated);
  const second = await relay.connection(1);
  second.hello({ room: roomId, epoch });
  second.send(Buffer.from([FrameKind.Synced]));
  await waitFor(() => second.received.some((f) => f[0] === FrameKind.Update), 'the held edit');
  const sent = sealed([...first.received, ...second.received]);
  assert.deepEqual(
    sent.filter((f) => opens(roomId, f, known)),
    [],
    'nor afterwards',
  );
  const update = second.received.find((f) => f[0] === FrameKind.Update)!;
  assert.equal(opens(roomId, update, ownerKeyring.get(epoch)!), true, "the edit is sealed under the owner's key");
});

test('a device key swapped on the server is refused with a warning; the next key is for the real one', async (t) => {
  const { roomId, teamId, a, b } = await syncedPair(server, alice, bob);
  closing(t, a, b);
  const warnings = warningsOf(t, alice);
  const operator = createIdentity();
  db.swapDeviceDh(bob.identity.signPublicKey, operator.dhPublicKey);
  t.after(() => db.swapDeviceDh(bob.identity.signPublicKey, bob.identity.dhPublicKey));
  const listed = (await alice.api.teamDevices(teamId, alice.trust)).find((d) => d.userId === bob.userId);
  assert.equal(listed?.state, 'changed', 'the Share UI sees the change');
  const epoch = await alice.api.rotateRoomKey(roomId, teamId, alice.identity, a.keyring, alice.trust);
  const changed = warnings.find((w) => w.kind === 'fingerprint-changed');
  assert.equal(changed?.fingerprint, fp(bob), 'the warning names the fingerprint alice verified');
  assert.equal(changed?.seenFingerprint, fingerprint(bob.identity.signPublicKey, operator.dhPublicKey));
  const stored = await server.store.wrappedKeysFor(roomId, [bob.identity.signPublicKey]);
  const wraps = stored.filter((w) => w.epoch === epoch);
  assert.equal(wraps.length, 1);
  const asOperator = { ...operator, signPublicKey: bob.identity.signPublicKey };
  assert.throws(() => unwrapRoomKey(roomId, epoch, wraps[0].wrapped, asOperator, () => true), 'not for the operator');
  assert.deepEqual(
    unwrapRoomKey(roomId, epoch, wraps[0].wrapped, bob.identity, () => true),
    a.keyring.get(epoch),
  );
  await waitFor(() => b.keyring.current === epoch, 'bob to take the new key');
});

test('a roster rolled back or signed without authority is refused with a warning; the last one holds', async (t) => {
  const { roomId, teamId } = await createTeamRoom(alice, [{ user: bob }]);
  const warnings = warningsOf(t, bob);
  await bob.api.loadKeyring(roomId, bob.identity, bob.trust);
  const tofu = warnings.find((w) => w.kind === 'pinned-on-first-use');
  assert.equal(tofu?.fingerprint, fp(alice), "bob pins the owner's device on first use, and is told so");
  assert.equal(bob.trust.device(alice.identity.signPublicKey)?.state, 'pinned');
  const first = db.roster(teamId)!;
  const { invite } = await alice.api.invite(teamId, 'member');
  await carol.api.acceptInvite(invite);
  await verifyDevices(alice, teamId, [carol]);
  const second = await alice.api.publishRoster(teamId, alice.identity, alice.trust);
  assert.equal(second.version, first.version + 1);
  await bob.api.syncRoster(teamId, bob.trust);
  assert.equal(bob.trust.canWrite(teamId, carol.identity.signPublicKey), true, 'carol writes once listed');

  db.setRoster(teamId, first.version, first.blob);
  assert.equal((await bob.api.syncRoster(teamId, bob.trust))?.version, second.version, 'the rollback is refused');
  assert.equal(warnings.at(-1)?.kind, 'roster-refused');
  assert.equal(warnings.at(-1)?.reason, 'rollback');
  assert.equal(bob.trust.canWrite(teamId, carol.identity.signPublicKey), true);
  // A role goes by the signed roster: demoted there, carol still shows her presence but writes nothing bob applies.
  await alice.api.changeRole(teamId, carol.userId, 'viewer', alice.identity, alice.trust);
  await bob.api.syncRoster(teamId, bob.trust);
  assert.equal(bob.trust.canWrite(teamId, carol.identity.signPublicKey), false);
  assert.equal(bob.trust.isMember(teamId, carol.identity.signPublicKey), true);
  const latest = bob.trust.roster(teamId)!;

  const operator = createIdentity();
  const forged = signRoster(
    teamId,
    latest.version + 5,
    [
      { userId: 'usr_operator', username: alice.name, role: 'owner', devices: [operator] },
      { userId: bob.userId, username: bob.name, role: 'member', devices: [bob.identity] },
    ],
    operator,
  );
  db.setRoster(teamId, forged.version, forged.blob);
  assert.equal((await bob.api.syncRoster(teamId, bob.trust))?.version, latest.version, 'the forged roster is refused');
  assert.equal(warnings.at(-1)?.reason, 'untrusted-signer');
  assert.equal(bob.trust.canWrap(teamId, operator.signPublicKey), false);
  assert.equal(bob.trust.canWrite(teamId, operator.signPublicKey), false);

  // The owner's pinned fingerprint changes on the server: bob's device refuses it and says so.
  db.swapDeviceDh(alice.identity.signPublicKey, operator.dhPublicKey);
  t.after(() => db.swapDeviceDh(alice.identity.signPublicKey, alice.identity.dhPublicKey));
  const listed = (await bob.api.teamDevices(teamId, bob.trust)).find((d) => d.userId === alice.userId);
  assert.equal(listed?.state, 'changed');
  assert.equal(warnings.at(-1)?.kind, 'fingerprint-changed');
  assert.equal(warnings.at(-1)?.fingerprint, fp(alice));
  assert.equal(bob.trust.device(alice.identity.signPublicKey)?.fingerprint, fp(alice), 'the pinned fingerprint stays');
});

test('updates in the log from a device outside the roster or from a viewer are not applied', async (t) => {
  const mallory = await createUser(server);
  const { roomId, ownerKeyring } = await createTeamRoom(alice, [{ user: bob }, { user: victor, role: 'viewer' }]);
  const key = ownerKeyring.get(1)!;
  db.appendUpdate(roomId, sealData(FrameKind.Update, roomId, alice.identity, 1, key, 1, updateWith('owner;')));
  db.appendUpdate(roomId, sealData(FrameKind.Update, roomId, mallory.identity, 1, key, 1, updateWith('stranger;')));
  db.appendUpdate(roomId, sealData(FrameKind.Update, roomId, victor.identity, 1, key, 1, updateWith('viewer;')));
  const [b] = closing(t, await openProvider(server, bob, roomId));
  await b.provider.whenSynced();
  await waitFor(() => b.provider.refused['untrusted-sender'] === 2, 'both updates to be refused');
  assert.equal(b.text.toString(), 'owner;');
});

test('a snapshot from a viewer is not applied', async (t) => {
  const { roomId, ownerKeyring } = await createTeamRoom(alice, [{ user: bob }, { user: victor, role: 'viewer' }]);
  const key = ownerKeyring.get(1)!;
  const snapshot = sealSnapshot(roomId, victor.identity, 1, key, 0, new Map(), updateWith('viewer-snapshot;'));
  db.putSnapshot(roomId, 1, snapshot);
  const [b] = closing(t, await openProvider(server, bob, roomId));
  await b.provider.whenSynced();
  await waitFor(() => b.provider.refused['untrusted-sender'] === 1, 'the snapshot to be refused');
  assert.equal(b.text.toString(), '', "the viewer's snapshot is not applied");
});

test('a snapshot with clocks its writer could not have seen is not applied', async (t) => {
  const { roomId, ownerKeyring } = await createTeamRoom(alice, [{ user: bob }]);
  const key = ownerKeyring.get(1)!;
  // Bob has written nothing: a snapshot that covers his 50th update was not made from the room's log.
  const clocks = new Map([[bob.identity.signPublicKey.toString('hex'), 50]]);
  db.putSnapshot(roomId, 1, sealSnapshot(roomId, alice.identity, 1, key, 0, clocks, updateWith('rewritten;')));
  const [b] = closing(t, await openProvider(server, bob, roomId));
  await b.provider.whenSynced();
  assert.equal(b.provider.refused['snapshot-ahead'], 1);
  assert.equal(b.text.toString(), '', 'a snapshot claiming updates bob never sent is not applied');
  // A device that cannot tell (the snapshot claims nothing of its own) applies it, but the claim hides nothing:
  // bob's real first update still reaches it.
  b.text.insert(0, 'bob;');
  await b.provider.whenAcked();
  const [a] = closing(t, await openProvider(server, alice, roomId));
  await a.provider.whenSynced();
  assert.ok(a.text.toString().includes('bob;'), `bob's update is applied (${a.text.toString()})`);
});

test("presence announced under another member's client id is dropped; a viewer's own presence is shown", async (t) => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }, { user: victor, role: 'viewer' }]);
  const [awA, awB, spoof, own] = Array.from({ length: 4 }, () => new Awareness(new Y.Doc()));
  t.after(() => [awA, awB, spoof, own].forEach((x) => x.destroy()));
  const [, b] = closing(
    t,
    await openProvider(server, alice, roomId, { awareness: awA }),
    await openProvider(server, bob, roomId, { awareness: awB }),
  );
  await b.provider.whenSynced();
  type Presence = { user?: { name: string } } | undefined;
  const nameAt = (clientId: number) => (awB.getStates().get(clientId) as Presence)?.user?.name;
  awA.setLocalStateField('user', { name: 'alice' });
  await waitFor(() => nameAt(awA.clientID) === 'alice', 'bob to see alice');
  // The viewer announces itself under the owner's client id, with a clock that would win.
  spoof.clientID = awA.clientID;
  spoof.setLocalState({ user: { name: 'alice (spoofed)' } });
  (spoof as unknown as { meta: Map<number, { clock: number }> }).meta.get(awA.clientID)!.clock = 1000;
  own.setLocalState({ user: { name: 'victor' } });
  const v = await rawSocket(server, victor, roomId);
  t.after(() => v.ws.close());
  const key = (await victor.api.loadKeyring(roomId, victor.identity, victor.trust)).get(1)!;
  const announce = (clock: number, aw: Awareness, clientId: number) =>
    v.ws.send(
      sealData(FrameKind.Awareness, roomId, victor.identity, 1, key, clock, encodeAwarenessUpdate(aw, [clientId])),
    );
  announce(1, spoof, awA.clientID);
  announce(2, own, own.clientID);
  await waitFor(() => nameAt(own.clientID) === 'victor', "the viewer's own presence");
  assert.equal(b.provider.refused['presence-spoofed'], 1);
  assert.equal(nameAt(awA.clientID), 'alice');
  assert.equal(b.provider.ownerOf(awA.clientID), alice.identity.signPublicKey.toString('hex'));
});

test('room keys are wrapped only to devices the admin verified', async () => {
  const dave = await createUser(server);
  const { roomId, teamId, ownerKeyring } = await createTeamRoom(alice, [{ user: dave, verify: false }]);
  assert.deepEqual((await dave.api.myKeys(roomId)).keys, [], 'dave, never verified, gets no key');
  assert.equal(alice.trust.roster(teamId)!.members.find((m) => m.userId === dave.userId)?.devices.length, 0);
  await verifyDevices(alice, teamId, [dave]);
  await alice.api.grantRoomKeys(roomId, teamId, dave.userId, alice.identity, ownerKeyring, alice.trust);
  assert.deepEqual((await dave.api.loadKeyring(roomId, dave.identity, dave.trust)).get(1), ownerKeyring.get(1));
});

test('removing a member rotates the room key: the removed device cannot open edits made afterwards', async (t) => {
  const { roomId, teamId } = await createTeamRoom(alice, [{ user: bob }, { user: carol }]);
  const [a, b, c] = closing(t, ...(await Promise.all([alice, bob, carol].map((u) => openProvider(server, u, roomId)))));
  await Promise.all([a, b, c].map((x) => x.provider.whenSynced()));
  b.text.insert(0, 'bob before;');
  await b.provider.whenAcked();
  await waitFor(() => a.text.toString() === 'bob before;', 'alice to read bob');
  const keyrings = new Map([[roomId, a.keyring]]);
  const removal = await alice.api.removeMember(teamId, bob.userId, alice.identity, alice.trust, { keyrings });
  assert.deepEqual(removal.rotated, [{ roomId, epoch: 2 }]);
  a.text.insert(0, 'after the removal;');
  await a.provider.whenAcked();
  await waitFor(() => c.text.toString() === 'after the removal;bob before;', 'carol, still a member, to read it');
  const log = await server.store.loadRoomLog(roomId);
  const last = log.updates[log.updates.length - 1];
  assert.equal(last.readUInt32BE(33), 2);
  assert.throws(() => openData(roomId, last, (e) => b.keyring.get(e)), /no room key for epoch 2/);
  assert.equal(b.keyring.get(2), undefined);
  assert.equal(carol.trust.isMember(teamId, bob.identity.signPublicKey), false, 'carol no longer counts bob in');
  // Compacted by a member after the removal, bob's past edits reach a client that joins later.
  const head = once(a.provider, 'head');
  assert.equal(a.provider.compact(), true);
  await head;
  const [late] = closing(t, await openProvider(server, carol, roomId));
  await late.provider.whenSynced();
  assert.equal(late.text.toString(), 'after the removal;bob before;');
});

test('once the client has seen a rotation, an update sealed under the old epoch is not applied', async (t) => {
  const relay = await startHostileRelay();
  t.after(() => relay.close());
  const { roomId, teamId, ownerKeyring } = await createTeamRoom(alice, [{ user: bob }]);
  const [b] = closing(t, await openProvider(relay, bob, roomId));
  const conn = await relay.connection(0);
  conn.hello({ room: roomId, epoch: 1 });
  conn.send(Buffer.from([FrameKind.Synced]));
  await b.provider.whenSynced();
  await alice.api.rotateRoomKey(roomId, teamId, alice.identity, ownerKeyring, alice.trust);
  const rotated = Buffer.alloc(5);
  rotated[0] = FrameKind.KeyRotated;
  rotated.writeUInt32BE(2, 1);
  conn.send(rotated);
  await waitFor(() => b.keyring.current === 2, 'bob to load the epoch-2 key');
  conn.send(sealData(FrameKind.Update, roomId, alice.identity, 1, ownerKeyring.get(1)!, 1, updateWith('stale;')));
  conn.send(sealData(FrameKind.Update, roomId, alice.identity, 2, ownerKeyring.get(2)!, 2, updateWith('fresh;')));
  await waitFor(() => b.text.toString().includes('fresh;'), 'the epoch-2 update');
  assert.equal(b.text.toString(), 'fresh;');
  assert.equal(b.provider.refused['stale-epoch'], 1);
});
