// 100,000 random and mutated frames (before and after authentication) do not crash the server, and it still
// serves real clients afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Doc, encodeStateAsUpdate } from 'yjs';
import { sealData, sealSnapshot } from '../../sync-server/src/client/room-crypto';
import { signBytes } from '../../sync-server/src/client/identity';
import { FrameKind, authSignedBytes, encodeAuth } from '../../sync-server/src/wire';
import {
  createTeamRoom,
  createUser,
  openProvider,
  rawSocket,
  scrapeMetrics,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';

const TOTAL = 100_000;
const PRE_AUTH = 5_000;
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
before(async () => {
  server = await startTestServer({ rateLimitPerSecond: 1e9, rateLimitBurst: 1e9, logLevel: 'warn' });
  [alice, bob] = await Promise.all([createUser(server), createUser(server)]);
});
after(async () => {
  await server.stop();
});

// Deterministic PRNG so a failure can be replayed.
let state = 0x9e3779b9;
const rnd = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x100000000;
};
const int = (n: number) => Math.floor(rnd() * n);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

function mutate(seed: Buffer): Buffer {
  const f = Buffer.from(seed);
  switch (int(9)) {
    case 0: {
      for (let i = 0, n = 1 + int(4); i < n; i++) f[int(f.length)] ^= 1 << int(8);
      return f;
    }
    case 1:
      return f.subarray(0, int(f.length));
    case 2:
      return Buffer.concat([f, randomBytes(int(64))]);
    case 3: {
      f[0] = int(256);
      return f;
    }
    case 4:
      return randomBytes(int(200));
    case 5: {
      f.fill(0xff, 33, 45);
      return f;
    } // epoch and clock at their maxima
    case 6: {
      if (f.length > 47) f.writeUInt16BE(0xffff, 45);
      return f;
    } // absurd snapshot clock count
    case 7:
      return Buffer.from([int(256)]);
    default: {
      const at = int(f.length);
      return Buffer.concat([f.subarray(0, at), randomBytes(int(16)), f.subarray(at)]);
    }
  }
}

async function drain(ws: WebSocket): Promise<void> {
  while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > 256 * 1024) await new Promise((r) => setTimeout(r, 1));
}

test('100,000 random and mutated frames do not crash the server', { timeout: 120_000 }, async () => {
  const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
  const key = (await alice.api.loadKeyring(roomId, alice.identity, alice.trust)).get(1)!;
  const d = new Doc();
  d.getText('t').insert(0, 'seed');
  const seeds = [
    sealData(FrameKind.Update, roomId, alice.identity, 1, key, 1, encodeStateAsUpdate(d)),
    sealData(FrameKind.Awareness, roomId, alice.identity, 1, key, 1, Buffer.from('{}')),
    sealSnapshot(
      roomId,
      alice.identity,
      1,
      key,
      0,
      new Map([[alice.identity.signPublicKey.toString('hex'), 1]]),
      encodeStateAsUpdate(d),
    ),
    encodeAuth(alice.identity.signPublicKey, Buffer.alloc(64), alice.token),
  ];
  const started = Date.now();
  let sent = 0;
  let reconnects = 0;
  let errorsReceived = 0;

  // Before authentication: each fresh socket gets a short burst of garbage, usually starting with a mangled AUTH.
  while (sent < PRE_AUTH) {
    const ws = new WebSocket(`${server.wsUrl}/v1/rooms/${roomId}/sync`);
    await new Promise<void>((resolve) => {
      ws.on('message', (m: Buffer) => {
        if (m[0] !== FrameKind.Challenge) return;
        const valid = encodeAuth(
          alice.identity.signPublicKey,
          signBytes(alice.identity, authSignedBytes(m.subarray(1), roomId)),
          alice.token,
        );
        for (let i = 0; i < 25; i++, sent++)
          ws.send(
            rnd() < 0.2 && i > 0 ? Buffer.from('text frame') : mutate(i === 0 ? valid : seeds[int(seeds.length)]),
          );
        ws.close();
      });
      ws.on('close', () => resolve());
      ws.on('error', () => resolve());
    });
  }

  // Frames the server actually handled (refused or accepted), from its own counters. Frames written to a socket the
  // server has just closed never reach it, and how many those are depends on timing: the loop below keeps going
  // until the server itself has handled TOTAL frames, so the figure asserted does not depend on the machine's load.
  const processed = async () => {
    const metrics = await scrapeMetrics(server);
    const refused = [...metrics.matchAll(/^kyozo_sync_rejected_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    const accepted = [...metrics.matchAll(/^kyozo_sync_frames_in_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    return { refused, accepted, total: refused + accepted };
  };

  // After authentication: mutated frames on live sockets, reconnecting whenever the server closes one.
  let quota = TOTAL;
  while (sent < quota && Date.now() - started < 90_000) {
    const s = await rawSocket(server, alice, roomId);
    if (s.closed()) {
      reconnects++;
      continue;
    }
    while (sent < quota && s.ws.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 200 && sent < quota; i++, sent++) {
        const r = rnd();
        if (r < 0.01) s.ws.send('{"kind":"update"}');
        else s.ws.send(mutate(seeds[int(seeds.length)]));
      }
      await drain(s.ws);
    }
    await new Promise((r) => setTimeout(r, 20));
    errorsReceived += s.frames.filter((f) => f[0] === FrameKind.Error).length;
    s.ws.close();
    reconnects++;
    if (sent >= quota) {
      const seen = (await processed()).total;
      if (seen < TOTAL) quota = sent + Math.min(TOTAL, Math.ceil((TOTAL - seen) * 1.2));
    }
  }
  assert.ok(sent >= TOTAL);
  assert.ok(errorsReceived > 1000, `the server answered bad frames with errors (${errorsReceived})`);
  assert.ok(Date.now() - started < 110_000);
  const { refused: refusedTotal, accepted: acceptedTotal, total } = await processed();
  console.log(
    `fuzz: ${sent} frames sent, ${refusedTotal} refusals, ${acceptedTotal} accepted, ${reconnects} sockets, ${Date.now() - started} ms`,
  );
  assert.ok(
    total >= TOTAL,
    `the server handled ${TOTAL} hostile frames (${refusedTotal} refused, ${acceptedTotal} accepted of ${sent} sent)`,
  );

  // Still healthy, and real clients still work in the same room.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const a = await openProvider(server, alice, roomId);
  const b = await openProvider(server, bob, roomId);
  await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
  a.text.insert(0, 'after-fuzz;');
  await waitFor(() => b.text.toString().includes('after-fuzz;'), 'an edit after the fuzzing');
  await a.provider.whenAcked();
  [a, b].forEach((x) => x.provider.destroy());
});
