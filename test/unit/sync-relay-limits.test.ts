// What the relay refuses to store or hold, against real servers on 127.0.0.1: updates whose signature does not
// verify, bytes past a room's or a user's quota (also after a restart), and unauthenticated sockets past a few KiB
// each or past the per-address cap (measured on a server in its own process).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SyncApi } from '../../sync-server/src/client';
import { sealData, sealSnapshot } from '../../sync-server/src/client/room-crypto';
import { CloseCode, FrameKind } from '../../sync-server/src/wire';
import type { SyncServerConfig } from '../../sync-server/src/config';
import {
  createTeamRoom,
  createUser,
  openProvider,
  rawSocket,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
  ackedIn,
  errorsIn,
  yUpdate,
} from '../support/sync-harness';
import { killHard, spawnSyncServer } from '../support/sync-process';

const trustAll = () => true;

test('the relay stores only validly signed frames: an altered one is refused and its clock stays free', async () => {
  const server = await startTestServer();
  try {
    const [alice, bob] = await Promise.all([createUser(server), createUser(server)]);
    const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
    const b = await openProvider(server, bob, roomId);
    await b.provider.whenSynced();
    const key = (await alice.api.loadKeyring(roomId, alice.identity, trustAll)).get(1)!;
    const s = await rawSocket(server, alice, roomId);
    const altered = sealData(FrameKind.Update, roomId, alice.identity, 1, key, 1, yUpdate('altered;'));
    altered[60] ^= 0x01; // one ciphertext bit, after signing
    s.ws.send(altered);
    s.ws.send(sealData(FrameKind.Update, 'another-room', alice.identity, 1, key, 1, yUpdate('elsewhere;')));
    await waitFor(() => errorsIn(s.frames).length === 2, 'two refusals');
    assert.deepEqual(
      errorsIn(s.frames).map((e) => [e.code, e.clock]),
      [
        ['bad-signature', 1],
        ['bad-signature', 1],
      ],
    );
    const snapshot = sealSnapshot(roomId, alice.identity, 1, key, 0, new Map(), yUpdate('snapshot;'));
    snapshot[snapshot.length - 1] ^= 0x01;
    s.ws.send(snapshot);
    await waitFor(() => errorsIn(s.frames).length === 3, 'the snapshot refusal');
    assert.equal(errorsIn(s.frames)[2].code, 'bad-signature');
    s.ws.send(sealData(FrameKind.Update, roomId, alice.identity, 1, key, 1, yUpdate('genuine;')));
    await waitFor(() => ackedIn(s.frames) === 1, 'the genuine update under the same clock');
    await waitFor(() => b.text.toString() === 'genuine;', 'bob to receive it');
    assert.deepEqual(b.provider.refused, {}, 'nothing altered reached the peer');
    const log = await server.store.loadRoomLog(roomId);
    assert.deepEqual([log.updates.length, log.snapshot], [1, null]);
    s.ws.close();
    b.provider.destroy();
  } finally {
    await server.stop();
  }
});

/** Sends 5 KB updates with consecutive clocks until one is refused; returns how many were accepted and the refusal. */
async function fill(server: TestServer, user: TestUser, roomId: string, key: Buffer, firstClock = 1) {
  const s = await rawSocket(server, user, roomId);
  try {
    for (let clock = firstClock; ; clock++) {
      s.ws.send(sealData(FrameKind.Update, roomId, user.identity, 1, key, clock, Buffer.alloc(5000, clock)));
      await waitFor(
        () => ackedIn(s.frames) === clock || errorsIn(s.frames).length > 0,
        `update ${clock} to be answered`,
      );
      const [refusal] = errorsIn(s.frames);
      if (refusal) return { accepted: clock - firstClock, refusal };
      if (clock > 100) throw new Error('no quota refusal after 100 updates of 5 KB');
    }
  } finally {
    s.ws.close();
  }
}

test('a room or user past its byte quota is refused, also after a restart; a snapshot frees room', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyozo-sync-quota-'));
  const cfg: Partial<SyncServerConfig> = { dataDir, roomQuotaBytes: 40_000, userQuotaBytes: 100_000 };
  let server = await startTestServer(cfg);
  try {
    const logged = server.logs.some((l) => /"roomQuotaBytes":40000,"userQuotaBytes":100000/.test(l));
    assert.ok(logged, 'the quotas are logged at start');
    const alice = await createUser(server);
    const { roomId, teamId } = await createTeamRoom(alice);
    const rooms = [roomId];
    for (let i = 0; i < 3; i++) rooms.push((await alice.api.createRoom(teamId, `r${i}`, alice.identity)).room.id);
    const keyOf = async (room: string) => (await alice.api.loadKeyring(room, alice.identity, trustAll)).get(1)!;
    const keys = await Promise.all(rooms.map(keyOf));

    const first = await fill(server, alice, rooms[0], keys[0]);
    assert.equal(first.refusal.code, 'quota-exceeded');
    assert.match(first.refusal.message, /room .* 40000-byte quota/);
    assert.ok(first.accepted >= 6 && first.accepted <= 8, `${first.accepted} updates of ~5.2 KB fit in 40,000 bytes`);
    const second = await fill(server, alice, rooms[1], keys[1]);
    assert.equal(second.accepted, first.accepted, 'another room has a quota of its own');
    const third = await fill(server, alice, rooms[2], keys[2]);
    assert.equal(third.refusal.code, 'quota-exceeded');
    assert.match(third.refusal.message, /your updates .* 100000-byte quota/);
    assert.ok(third.accepted < first.accepted, 'the user quota ends the third room early');

    await server.stop();
    server = await startTestServer(cfg);
    const again = { ...alice, api: new SyncApi(server.url, alice.token) };
    const fourth = await fill(server, again, rooms[3], keys[3]);
    const counted = [fourth.accepted, fourth.refusal.code];
    assert.deepEqual(counted, [0, 'quota-exceeded'], 'usage is counted from the database at start');

    // A snapshot is taken when the room is full, and what it covers no longer counts, for the room or its writers.
    const s = await rawSocket(server, again, rooms[0]);
    const covers = new Map([[alice.identity.signPublicKey.toString('hex'), first.accepted]]);
    s.ws.send(sealSnapshot(rooms[0], alice.identity, 1, keys[0], 0, covers, yUpdate('compacted')));
    await waitFor(() => s.frames.some((f) => f[0] === FrameKind.Head), 'the snapshot to be stored');
    s.ws.close();
    const after = await fill(server, again, rooms[3], keys[3]);
    assert.ok(after.accepted >= 4, `room freed by the snapshot is the user's again (${after.accepted} accepted)`);
    assert.equal(after.refusal.code, 'quota-exceeded');
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** A hand-made WebSocket client on a raw TCP socket: upgrades, then records the close code the server sends. */
function rawUpgrade(port: number, path: string) {
  type Upgraded = { socket: Socket; code: () => number | null | undefined; closed: Promise<void> };
  return new Promise<Upgraded>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let code: number | null | undefined; // undefined: still open; null: closed without a close frame
    const closed = new Promise<void>((r) =>
      socket.on('close', () => {
        code ??= null;
        r();
      }),
    );
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, end).toString().startsWith('HTTP/1.1 101')) {
          reject(new Error(buf.toString()));
          return;
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve({ socket, code: () => code, closed });
      }
      while (buf.length >= 2) {
        // server frames: unmasked and short
        const len = buf[1] & 0x7f;
        if (len > 125 || buf.length < 2 + len) return;
        if ((buf[0] & 0x0f) === 0x8) code ??= len >= 2 ? buf.readUInt16BE(2) : null;
        buf = buf.subarray(2 + len);
      }
    });
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
  });
}

// Before authentication each socket could make the server hold a whole declared frame: 300 idle sockets took it from
// 82 to 898 MiB.
test(
  '300 unauthenticated sockets sending a large frame: memory stays bounded; past the per-address cap: 4429',
  {
    timeout: 120_000,
  },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kyozo-sync-preauth-'));
    const server = await spawnSyncServer(dataDir);
    const pid = server.child.pid!;
    const conns: Awaited<ReturnType<typeof rawUpgrade>>[] = [];
    try {
      const base = rssMB(pid);
      let peak = base;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssMB(pid));
        } catch {
          /* exited */
        }
      }, 25);
      const path = '/v1/rooms/room_abc/sync';
      conns.push(...(await Promise.all(Array.from({ length: 300 }, () => rawUpgrade(server.port, path)))));
      const cappedNow = () => conns.filter((c) => c.code() === CloseCode.RateLimited).length;
      // Asserted below, with the counts.
      await waitFor(() => cappedNow() >= 300 - 128, 'the refusals past the cap', 3000).catch(() => undefined);
      const capped = conns.filter((c) => c.code() === CloseCode.RateLimited).length;
      // Every socket declares an 8 MiB binary frame (the largest allowed) and sends its first MiB. The mask key is zero,
      // so the payload is one shared buffer of zeros on this side.
      const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0]);
      const chunk = Buffer.alloc(64 * 1024);
      const open = conns.filter((c) => c.code() === undefined);
      for (const c of open) {
        c.socket.write(header);
        for (let i = 0; i < 16; i++) c.socket.write(chunk);
      }
      await Promise.all(open.map((c) => Promise.race([c.closed, new Promise((r) => setTimeout(r, 15_000))])));
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(sampler);
      const codes = open.map((c) => c.code());
      const tally = [...new Set(codes)].map((x) => `${x} x${codes.filter((y) => y === x).length}`).join(', ');
      const summary =
        `${capped} closed at once with 4429; of the ${open.length} others: ${tally}; ` +
        `RSS ${base.toFixed(0)} -> peak ${peak.toFixed(0)} MB`;
      assert.ok(peak - base < 100, `server RSS grew by less than 100 MB (${summary})`);
      assert.equal(capped, 300 - 128, `past the cap of 128 unauthenticated sockets per address: 4429 (${summary})`);
      const tooLarge = open.map(() => CloseCode.TooLarge);
      assert.deepEqual(codes, tooLarge, `the others past the pre-auth budget: 4413 (${summary})`);
      assert.match(server.output.join(''), /too many unauthenticated connections from 127\.0\.0\.1/);
      // The server still serves.
      await new SyncApi(server.url).createAccount('after-flood', 'correct horse battery');
    } finally {
      for (const c of conns) c.socket.destroy();
      await killHard(server);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
