// Tampered, forged, replayed and reordered frames are rejected: by the server where it can see the problem
// (sender binding, clocks, epochs, signatures), and by every receiving client too, which alone can check the AEAD.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Doc, encodeStateAsUpdate } from 'yjs';
import { createIdentity, fingerprint, newRoomKey, unwrapRoomKey, wrapRoomKey } from '../../sync-server/src/client';
import { signBytes } from '../../sync-server/src/client/identity';
import { sealData } from '../../sync-server/src/client/room-crypto';
import { FrameKind, SIGNATURE_BYTES, signedBytes, writeU64 } from '../../sync-server/src/wire';
import {
  ackedIn,
  createTeamRoom,
  createUser,
  errorsIn,
  openProvider,
  rawSocket,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
before(async () => {
  server = await startTestServer();
  [alice, bob] = await Promise.all([createUser(server), createUser(server)]);
});
after(async () => {
  await server.stop();
});

test('replayed and reordered frames are refused by the server and never relayed', async () => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
  const b = await openProvider(server, bob, roomId);
  await b.provider.whenSynced();
  const s = await rawSocket(server, alice, roomId);
  const keyring = await alice.api.loadKeyring(roomId, alice.identity, alice.trust);
  const key = keyring.get(1)!;
  const frames = [1, 2, 3].map((clock) => {
    const d = new Doc();
    d.getText('t').insert(0, `c${clock};`);
    return sealData(FrameKind.Update, roomId, alice.identity, 1, key, clock, encodeStateAsUpdate(d));
  });
  s.ws.send(frames[0]);
  s.ws.send(frames[0]); // replay
  s.ws.send(frames[2]); // reordered: 3 before 2
  await waitFor(() => errorsIn(s.frames).length === 2 && ackedIn(s.frames) === 1, 'replay and gap refusals');
  assert.deepEqual(
    errorsIn(s.frames).map((e) => [e.code, e.expected]),
    [
      ['replay', 2],
      ['clock-gap', 2],
    ],
  );
  s.ws.send(frames[1]);
  s.ws.send(frames[2]);
  await waitFor(() => ackedIn(s.frames) === 3, 'in-order frames acknowledged');
  await waitFor(() => b.text.length === 9, 'bob to receive three edits');
  assert.deepEqual((await server.store.loadRoomLog(roomId)).updates.length, 3, 'each clock stored exactly once');
  assert.deepEqual(b.provider.refused, {});
  // A relay that replays or reorders is caught by the client too.
  const apply = (f: Buffer) =>
    (b.provider as unknown as { onFrame(ws: unknown, f: Buffer): void }).onFrame(
      (b.provider as unknown as { ws: unknown }).ws,
      f,
    );
  apply(frames[1]);
  assert.equal(b.provider.refused.replay, 1);
  const five = sealData(FrameKind.Update, roomId, alice.identity, 1, key, 5, Buffer.from([0, 0]));
  apply(five);
  assert.equal(b.provider.refused['clock-gap'], 1);
  s.ws.close();
  b.provider.destroy();
});

test('tampered frames: a forged sender or signature is refused by the server, and by every client too', async () => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
  const b = await openProvider(server, bob, roomId);
  await b.provider.whenSynced();
  const s = await rawSocket(server, alice, roomId);
  const key = (await alice.api.loadKeyring(roomId, alice.identity, alice.trust)).get(1)!;
  const upd = (text: string) => {
    const d = new Doc();
    d.getText('t').insert(0, text);
    return encodeStateAsUpdate(d);
  };

  // 1. A frame claiming bob as sender: the socket is bound to alice's key.
  s.ws.send(sealData(FrameKind.Update, roomId, bob.identity, 1, key, 1, upd('forged')));
  await waitFor(() => errorsIn(s.frames).some((e) => e.code === 'sender-mismatch'), 'sender mismatch');
  // Frames the server refuses are also handed to bob's client directly, as a relay that passed them on would.
  const inside = b.provider as unknown as { onFrame(ws: unknown, f: Buffer): void; ws: unknown };
  const apply = (f: Buffer) => inside.onFrame(inside.ws, f);
  const refusedByServer = async (frame: Buffer, n: number, what: string) => {
    s.ws.send(frame);
    await waitFor(() => errorsIn(s.frames).filter((e) => e.code === 'bad-signature').length === n, what);
    apply(frame);
    assert.equal(b.provider.refused['bad-signature'], n, `${what}, by the client too`);
  };
  // 2. Ciphertext bit flipped after signing: the signature no longer verifies.
  const flipped = sealData(FrameKind.Update, roomId, alice.identity, 1, key, 1, upd('flipped'));
  flipped[60] ^= 0x01;
  await refusedByServer(flipped, 1, 'bad signature refusal');
  // 3. Ciphertext altered and re-signed by the sender: the signature holds (the server stores it), the AEAD tag fails.
  const resigned = sealData(FrameKind.Update, roomId, alice.identity, 1, key, 1, upd('resigned'));
  resigned[60] ^= 0x01;
  const body = resigned.subarray(0, resigned.length - SIGNATURE_BYTES);
  signBytes(alice.identity, signedBytes(roomId, body)).copy(resigned, resigned.length - SIGNATURE_BYTES);
  s.ws.send(resigned);
  await waitFor(() => b.provider.refused['bad-ciphertext'] === 1, 'AEAD refusal');
  // 4. Clock in the header rewritten (what a malicious relay would do to reorder): signature and AAD fail.
  const moved = sealData(FrameKind.Update, roomId, alice.identity, 1, key, 3, upd('moved'));
  writeU64(moved, 37, 2);
  await refusedByServer(moved, 2, 'rewritten header refusal');
  // 5. A frame from another room cannot be replayed here.
  const elsewhere = sealData(FrameKind.Update, 'another-room', alice.identity, 1, key, 2, upd('elsewhere'));
  await refusedByServer(elsewhere, 3, 'cross-room refusal');
  // A valid frame still goes through afterwards.
  s.ws.send(sealData(FrameKind.Update, roomId, alice.identity, 1, key, 2, upd('genuine')));
  await waitFor(() => b.text.toString() === 'genuine', 'genuine edit');
  assert.equal(b.text.toString(), 'genuine', 'no tampered content reached the document');
  s.ws.close();
  b.provider.destroy();
});

test('room key wraps: only the recipient opens them, tampering and untrusted wrappers are refused', () => {
  const admin = createIdentity();
  const member = createIdentity();
  const stranger = createIdentity();
  const key = newRoomKey();
  const wrapped = wrapRoomKey('room1', 3, key, member, admin);
  const adminPub = admin.signPublicKey.toString('hex');
  const trustAdmin = (pub: Buffer) => pub.toString('hex') === adminPub;
  assert.deepEqual(unwrapRoomKey('room1', 3, wrapped, member, trustAdmin), key);
  assert.throws(() => unwrapRoomKey('room1', 3, wrapped, stranger, () => true), /not signed|does not verify/);
  assert.throws(() => unwrapRoomKey('room2', 3, wrapped, member, trustAdmin), /not signed/);
  assert.throws(() => unwrapRoomKey('room1', 4, wrapped, member, trustAdmin), /not signed/);
  const evil = wrapRoomKey('room1', 3, newRoomKey(), member, stranger);
  assert.throws(() => unwrapRoomKey('room1', 3, evil, member, trustAdmin), /do not trust/);
  const bent = Buffer.from(wrapped);
  bent[50] ^= 1;
  assert.throws(() => unwrapRoomKey('room1', 3, bent, member, trustAdmin));
  assert.match(fingerprint(member.signPublicKey, member.dhPublicKey), /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
});

test('the fingerprint the server lists matches the one the device computes', async () => {
  const { teamId } = await createTeamRoom(alice, [{ user: bob }]);
  const listed = (await alice.api.members(teamId)).find((m) => m.userId === bob.userId)!.keys[0].fingerprint;
  assert.equal(listed, fingerprint(bob.identity.signPublicKey, bob.identity.dhPublicKey));
});
