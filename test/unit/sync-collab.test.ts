// Real providers over real WebSockets against a real sync server on 127.0.0.1: convergence, offline edits,
// joining from snapshot + log, awareness.
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { CloseCode } from '../../sync-server/src/wire';
import {
  createTeamRoom,
  createUser,
  openProvider,
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
let carol: TestUser;
before(async () => {
  server = await startTestServer();
  [alice, bob, carol] = await Promise.all([createUser(server), createUser(server), createUser(server)]);
});
after(async () => {
  await server.stop();
});

const aliceAndBob = () => syncedPair(server, alice, bob);

test('three clients converge on concurrent edits', async () => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }, { user: carol }]);
  const clients = await Promise.all([alice, bob, carol].map((u) => openProvider(server, u, roomId)));
  await Promise.all(clients.map((c) => c.provider.whenSynced()));
  for (let round = 0; round < 20; round++) {
    clients.forEach((c, i) => c.text.insert(Math.random() < 0.5 ? 0 : c.text.length, `${'abc'[i]}${round};`));
    if (round % 5 === 0) await new Promise((r) => setTimeout(r, 3));
  }
  await waitFor(
    () =>
      clients.every(
        (c) => c.text.toString() === clients[0].text.toString() && c.text.length === clients[0].text.length,
      ) && clients[0].text.toString().split(';').length === 61,
    'convergence',
  );
  for (const i of [0, 1, 2])
    for (let r = 0; r < 20; r++)
      assert.ok(clients[1].text.toString().includes(`${'abc'[i]}${r};`), `edit ${'abc'[i]}${r} present`);
  await Promise.all(clients.map((c) => c.provider.whenAcked()));
  assert.deepEqual(
    clients.map((c) => c.provider.refused),
    [{}, {}, {}],
  );
  clients.forEach((c) => c.provider.destroy());
});

test('offline edits are resent after reconnect, and unacknowledged ones are not lost', async () => {
  const { roomId, a, b } = await aliceAndBob();
  a.text.insert(0, 'online;');
  a.provider.flush();
  a.provider.disconnect(); // possibly before its acknowledgement arrived
  a.text.insert(a.text.length, 'offline-1;');
  a.text.insert(a.text.length, 'offline-2;');
  b.text.insert(0, 'bob-while-alice-away;');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(b.text.toString().includes('offline-1'), false, 'offline edits stay local while disconnected');
  assert.ok(a.provider.pendingCount > 0, 'offline edits are queued');
  a.provider.connect();
  await waitFor(
    () => b.text.toString().includes('offline-2;') && a.text.toString().includes('bob-while-alice-away;'),
    'offline edits to arrive',
  );
  await a.provider.whenAcked();
  assert.equal(a.text.toString(), b.text.toString());
  // The server has every one of them durably: a fresh client sees the same document.
  const c = await openProvider(server, alice, roomId);
  await c.provider.whenSynced();
  assert.equal(c.text.toString(), a.text.toString());
  assert.equal(a.text.toString().split('online;').length, 2, 'no duplicate text after resend');
  [a, b, c].forEach((x) => x.provider.destroy());
});

test('20,000 offline keystrokes reach the peer after reconnect in a few merged frames, neither one flat merge nor a frame per batch', async (t) => {
  const { roomId, a, b } = await aliceAndBob();
  const me = alice.identity.signPublicKey.toString('hex');
  a.text.insert(0, 'start;');
  await a.provider.whenAcked();
  const before = (await server.store.senderClocks(roomId)).get(me)!;
  const gone = new Promise((r) => a.provider.once('close', r));
  a.provider.disconnect();
  await gone;
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 20_000; i++) a.text.insert(Math.floor(random() * (a.text.length + 1)), 'abcdefghij'[i % 10]);
  const closes: number[] = [];
  a.provider.on('close', (c: { code: number }) => closes.push(c.code));
  a.provider.connect();
  await a.provider.whenAcked(30_000);
  await waitFor(() => b.text.toString() === a.text.toString(), 'bob to see every offline keystroke', 30_000);
  assert.equal(b.text.length, 20_006);
  const frames = (await server.store.senderClocks(roomId)).get(me)! - before;
  // One frame would mean one merge over all 20,000 updates; the server allows 400 frames in a burst.
  assert.ok(frames > 1 && frames < 100, `offline edits sent as ${frames} frames`);
  t.diagnostic(`20,000 offline keystrokes sent as ${frames} frames`);
  assert.deepEqual(closes, [], 'the reconnect is not closed (rate limit, frame size)');
  [a, b].forEach((x) => x.provider.destroy());
});

test('a client that bursts past the rate limit is closed once (4429); after the reconnect its unacknowledged frames go out merged', async () => {
  const { a, b } = await aliceAndBob();
  const closes: number[] = [];
  a.provider.on('close', (c: { code: number }) => closes.push(c.code));
  for (let i = 0; i < 1000; i++) {
    a.text.insert(a.text.length, `${i};`);
    a.provider.flush();
  } // 1,000 frames at once
  await a.provider.whenAcked(30_000);
  await waitFor(() => b.text.toString() === a.text.toString(), 'bob to see all 1,000 edits', 30_000);
  assert.equal(b.text.toString(), Array.from({ length: 1000 }, (_, i) => `${i};`).join(''));
  // The server stored what it accepted before the limit; the rest was resent as a few merged frames, within the limit.
  assert.deepEqual(closes, [CloseCode.RateLimited]);
  [a, b].forEach((x) => x.provider.destroy());
});

test('a new client joins from snapshot plus trailing log; compaction drops the covered updates', async () => {
  const { roomId, a, b } = await aliceAndBob();
  for (let i = 0; i < 60; i++) {
    (i % 2 ? a : b).text.insert(0, `e${i};`);
    (i % 2 ? a : b).provider.flush();
  }
  await Promise.all([a.provider.whenAcked(), b.provider.whenAcked()]);
  await waitFor(
    () => a.text.toString() === b.text.toString() && a.text.length > 0 && a.text.toString().split(';').length === 61,
    'both see 60 edits',
  );
  const before = await server.store.loadRoomLog(roomId);
  assert.equal(before.updates.length, 60);
  const head = new Promise<number>((r) => a.provider.once('head', r));
  assert.equal(a.provider.compact(), true);
  assert.equal(await head, 1);
  for (let i = 0; i < 5; i++) {
    b.text.insert(0, `tail${i};`);
    b.provider.flush();
  }
  await b.provider.whenAcked();
  const log = await server.store.loadRoomLog(roomId);
  assert.ok(log.snapshot, 'a snapshot is stored');
  assert.equal(log.head, 1);
  assert.equal(log.updates.length, 5, 'only the trailing updates remain after compaction');
  const c = await openProvider(server, alice, roomId);
  await c.provider.whenSynced();
  assert.equal(c.text.toString(), b.text.toString());
  assert.ok(c.text.toString().includes('tail4;') && c.text.toString().includes('e0;'));
  // A snapshot that does not build on the current head is refused.
  const stale = new Promise<{ code: string }>((r) => b.provider.once('server-error', r));
  (b.provider as unknown as { head: number }).head = 0;
  assert.equal(b.provider.compact(), true);
  assert.equal((await stale).code, 'stale-head');
  [a, b, c].forEach((x) => x.provider.destroy());
});

test('a room compacts itself: with default options a member uploads a snapshot once ~500 updates trail, so the log stays bounded', async () => {
  const { roomId, a, b } = await aliceAndBob();
  for (let i = 0; i < 1500; i++) {
    (i % 2 ? a : b).text.insert(0, `${i};`);
    (i % 2 ? a : b).provider.flush();
    if (i % 100 === 99) await Promise.all([a.provider.whenAcked(), b.provider.whenAcked()]);
  }
  await Promise.all([a.provider.whenAcked(), b.provider.whenAcked()]);
  await waitFor(() => a.text.toString() === b.text.toString() && a.text.length > 0, 'convergence');
  await server.store.flush();
  const log = await server.store.loadRoomLog(roomId);
  assert.ok(log.head >= 2, `snapshots taken: head ${log.head}`);
  assert.ok(log.updates.length < 700, `${log.updates.length} updates trail the snapshot, of 1,500 written`);
  const c = await openProvider(server, alice, roomId);
  await c.provider.whenSynced();
  assert.equal(c.text.toString(), a.text.toString());
  [a, b, c].forEach((x) => x.provider.destroy());
});

test('large pastes go out as frames under the limit; a snapshot or a single edit past it is held, not sent, and reported', async () => {
  const small = await startTestServer({ maxFrameBytes: 256 * 1024 });
  try {
    const [owner, member] = await Promise.all([createUser(small), createUser(small)]);
    const { roomId } = await createTeamRoom(owner, [{ user: member }]);
    const a = await openProvider(small, owner, roomId, { autoCompactAfter: 3 });
    const b = await openProvider(small, member, roomId, { autoCompactAfter: 0 });
    await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
    const closes: number[] = [];
    a.provider.on('close', (c: { code: number }) => closes.push(c.code));
    const skipped: { bytes: number; limit: number }[] = [];
    a.provider.on('compact-skipped', (e: { bytes: number; limit: number }) => skipped.push(e));
    // Twelve pastes of 100 KB in one batch: 1.2 MB, nearly five times the server's frame limit.
    for (let i = 0; i < 12; i++) a.text.insert(a.text.length, String.fromCharCode(97 + i).repeat(100_000));
    a.provider.flush();
    await a.provider.whenAcked();
    await waitFor(() => b.text.length === 1_200_000, 'bob to receive every paste');
    assert.equal(b.text.toString(), a.text.toString());
    assert.deepEqual(closes, [], 'no frame was past the limit');
    // The document is now larger than a frame: auto-compaction measures the snapshot and keeps it.
    await waitFor(() => skipped.length > 0, 'the snapshot to be measured');
    assert.equal(skipped[0].limit, 256 * 1024);
    assert.ok(skipped[0].bytes > 1_000_000, `snapshot of ${skipped[0].bytes} bytes`);
    assert.equal((await small.store.loadRoomLog(roomId)).head, 0, 'no snapshot stored');
    assert.deepEqual(closes, [], 'the socket stays open');
    // One paste larger than the limit cannot be split: it waits, with the edits after it, and the application hears why.
    const tooLarge = new Promise<{ bytes: number; limit: number }>((r) => a.provider.once('update-too-large', r));
    a.text.insert(0, 'z'.repeat(300_000));
    a.provider.flush();
    a.text.insert(0, 'after;');
    a.provider.flush();
    const held = await tooLarge;
    assert.ok(held.bytes > held.limit && held.limit === 256 * 1024, `held ${held.bytes} > ${held.limit}`);
    await assert.rejects(
      a.provider.whenAcked(300),
      /held behind an edit larger than the server's 262144-byte frame limit/,
    );
    assert.equal(a.provider.pendingCount, 2, 'both edits stay queued');
    assert.equal(b.text.length, 1_200_000, 'nothing out of order reached bob');
    assert.deepEqual(closes, [], 'no reconnect loop');
    [a, b].forEach((x) => x.provider.destroy());
  } finally {
    await small.stop();
  }
});

/** Awareness frames the server has accepted so far, from its Prometheus counter. */
async function awarenessFramesIn(): Promise<number> {
  const text = await scrapeMetrics(server);
  return Number(/^kyozo_sync_frames_in_total\{kind="awareness"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

type Presence = { cursor?: { line: number } } | undefined;
const cursorOf = (seen: Awareness, of: Awareness) => (seen.getStates().get(of.clientID) as Presence)?.cursor?.line;

/** Awareness instances destroyed when the test ends, passed or failed (each holds an interval timer). */
function awarenesses(t: TestContext, n: number): Awareness[] {
  const list = Array.from({ length: n }, () => new Awareness(new Y.Doc()));
  t.after(() => list.forEach((x) => x.destroy()));
  return list;
}

test('awareness is relayed encrypted and not stored; a cursor moved 100 times goes out in a few signed frames', async (t) => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
  const [awA, awB] = awarenesses(t, 2);
  const a = await openProvider(server, alice, roomId, { awareness: awA });
  const b = await openProvider(server, bob, roomId, { awareness: awB });
  await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
  awA.setLocalStateField('cursor', { line: 7 });
  await waitFor(() => cursorOf(awB, awA) === 7, 'cursor to arrive');
  const before = await awarenessFramesIn();
  for (let line = 1; line <= 100; line++) {
    // a cursor dragged in 10 strokes of 10 positions each
    awA.setLocalStateField('cursor', { line });
    if (line % 10 === 0) await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(() => cursorOf(awB, awA) === 100, 'the last position to arrive');
  const frames = (await awarenessFramesIn()) - before;
  assert.ok(frames >= 1 && frames <= 30, `100 cursor moves sent as ${frames} frames`);
  t.diagnostic(`100 cursor moves in 10 strokes sent as ${frames} awareness frames`);
  const log = await server.store.loadRoomLog(roomId);
  assert.equal(log.updates.length, 0, 'awareness is not stored');
  [a, b].forEach((x) => x.provider.destroy());
});

test('a client that joins late sees the cursors already there at once, and a client that leaves takes its cursor along', async (t) => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }, { user: carol }]);
  const [awA, awB, awC] = awarenesses(t, 3);
  const a = await openProvider(server, alice, roomId, { awareness: awA });
  const b = await openProvider(server, bob, roomId, { awareness: awB });
  await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
  awA.setLocalStateField('cursor', { line: 1 });
  awB.setLocalStateField('cursor', { line: 2 });
  await waitFor(() => cursorOf(awA, awB) === 2 && cursorOf(awB, awA) === 1, 'alice and bob see each other');
  awC.setLocalStateField('cursor', { line: 3 });
  const c = await openProvider(server, carol, roomId, { awareness: awC });
  await c.provider.whenSynced();
  // Well before the 15 s renewal: the room answers a newcomer.
  await waitFor(() => cursorOf(awC, awA) === 1 && cursorOf(awC, awB) === 2, 'carol to see both cursors', 3000);
  await waitFor(() => cursorOf(awA, awC) === 3 && cursorOf(awB, awC) === 3, 'both to see carol', 3000);
  b.provider.destroy();
  await waitFor(
    () => !awA.getStates().has(awB.clientID) && !awC.getStates().has(awB.clientID),
    "bob's cursor to go with him",
    3000,
  );
  [a, c].forEach((x) => x.provider.destroy());
});
