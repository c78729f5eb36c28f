// Server lifecycle and limits: graceful shutdown keeps and acknowledges everything accepted, oversized frames are
// refused, dead peers are cut by the heartbeat, and `kyozo sync-server` starts the server from the CLI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SyncApi } from '../../sync-server/src/client';
import { FrameKind } from '../../sync-server/src/wire';
import type { SyncServerConfig } from '../../sync-server/src/config';
import {
  createTeamRoom,
  createUser,
  openProvider,
  rawSocket,
  scrapeMetrics,
  startTestServer,
  syncedPair,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';
import { repoRoot } from '../support/sync-process';

/** One user, one room, one synced provider, and the highest clock the server has acknowledged to it so far. */
async function soleWriter(server: TestServer) {
  const alice = await createUser(server);
  const { roomId } = await createTeamRoom(alice);
  const a = await openProvider(server, alice, roomId);
  await a.provider.whenSynced();
  let acked = 0;
  a.provider.on('acked', (c: number) => {
    acked = c;
  });
  return { alice, roomId, a, acked: () => acked };
}

/**
 * Runs `body` with one data directory shared by every server it starts (restarts keep the database). Every server is
 * stopped and the directory removed afterwards, also when an assertion fails, so no server keeps the runner alive.
 */
async function withRestarts(
  prefix: string,
  body: (start: (cfg?: Partial<SyncServerConfig>) => Promise<TestServer>) => Promise<void>,
) {
  const dataDir = mkdtempSync(join(tmpdir(), `kyozo-sync-${prefix}-`));
  const servers: TestServer[] = [];
  try {
    await body(async (cfg = {}) => {
      const s = await startTestServer({ dataDir, ...cfg });
      servers.push(s);
      return s;
    });
  } finally {
    for (const s of servers) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The same user's account on a restarted server (same database, new address). */
const on = (server: TestServer, user: TestUser): TestUser => ({ ...user, api: new SyncApi(server.url, user.token) });

test('graceful shutdown acknowledges every accepted update and keeps it', () =>
  withRestarts('graceful', async (start) => {
    // A commit window far longer than the test: the updates are durable only if shutdown commits them itself.
    const s1 = await start({ commitWindowMs: 60_000 });
    const { alice, roomId, a, acked } = await soleWriter(s1);
    for (let i = 0; i < 20; i++) {
      a.text.insert(a.text.length, `g${i};`);
      a.provider.flush();
    }
    await waitFor(
      () => (s1.store as unknown as { queue: unknown[] }).queue.length === 20,
      'all 20 writes accepted, waiting in the commit window',
    );
    assert.equal(acked(), 0, 'nothing is acknowledged before it is durable');
    const closed = new Promise((r) => a.provider.once('close', r));
    await s1.close(); // SIGTERM path: stop reading, commit, acknowledge, then close sockets
    await closed;
    a.provider.disconnect(); // no reconnect attempts to the stopped server
    assert.equal(acked(), 20, 'every accepted update was acknowledged before the socket closed');
    const s2 = await start();
    const b = await openProvider(s2, on(s2, alice), roomId);
    await b.provider.whenSynced();
    assert.equal(b.text.toString(), Array.from({ length: 20 }, (_, i) => `g${i};`).join(''));
    b.provider.destroy();
    a.provider.destroy();
  }));

test('an update sent while the server shuts down is either acknowledged and stored, or neither, and is resent after the restart', () =>
  withRestarts('midstream', async (start) => {
    const s1 = await start();
    const { alice, roomId, a, acked } = await soleWriter(s1);
    const total = 300;
    let sent = 0;
    const writer = setInterval(() => {
      // keeps writing through the shutdown, the downtime and the restart
      if (sent === total) return clearInterval(writer);
      a.text.insert(a.text.length, `m${sent++};`);
      a.provider.flush();
    }, 1);
    await waitFor(() => acked() >= 20, 'the first updates acknowledged');
    await s1.close();
    const ackedAtClose = acked();
    const s2 = await start({ port: s1.port }); // the same address: the provider reconnects by itself
    const stored = (await s2.store.senderClocks(roomId)).get(alice.identity.signPublicKey.toString('hex'));
    assert.equal(stored, ackedAtClose, 'what the server stored before stopping is exactly what it acknowledged');
    await waitFor(() => sent === total, 'every edit made');
    await a.provider.whenAcked();
    const b = await openProvider(s2, on(s2, alice), roomId);
    await b.provider.whenSynced();
    assert.equal(b.text.toString(), Array.from({ length: total }, (_, i) => `m${i};`).join(''));
    a.provider.destroy();
    b.provider.destroy();
  }));

test('after a restart every sender clock is back: from the log, and from the clocks a snapshot dropped with its updates', () =>
  withRestarts('clocks', async (start) => {
    const s1 = await start();
    const alice = await createUser(s1);
    const bob = await createUser(s1);
    const { roomId, a, b } = await syncedPair(s1, alice, bob);
    const edit = async (x: typeof a, n: number) => {
      for (let i = 0; i < n; i++) {
        x.text.insert(0, `${i};`);
        x.provider.flush();
        await x.provider.whenAcked();
      }
    };
    await edit(a, 4);
    await edit(b, 3);
    await waitFor(() => a.text.length === b.text.length && a.text.length > 0, 'alice sees every edit');
    const head = new Promise((r) => a.provider.once('head', r));
    assert.equal(a.provider.compact(), true);
    await head;
    await edit(b, 2); // bob's clocks 4 and 5 stay in the log; alice's 1..4 are only in the snapshot now
    a.provider.destroy();
    b.provider.destroy();
    await s1.close();
    const s2 = await start();
    const clocks = await s2.store.senderClocks(roomId);
    assert.deepEqual(
      [
        clocks.get(alice.identity.signPublicKey.toString('hex')),
        clocks.get(bob.identity.signPublicKey.toString('hex')),
      ],
      [4, 5],
    );
    const raw = await rawSocket(s2, on(s2, alice), roomId);
    const hello = raw.frames.find((f) => f[0] === FrameKind.Hello)!;
    assert.equal((JSON.parse(hello.subarray(1).toString()) as { lastClock: number }).lastClock, 4);
    raw.ws.close();
  }));

test('committed log pages reach the database file while the server runs (checkpoints between commits), not only at shutdown', async () => {
  const server = await startTestServer();
  try {
    const alice = await createUser(server);
    const { roomId } = await createTeamRoom(alice);
    const dbFile = join(server.dataDir, 'sync.db');
    const before = statSync(dbFile).size;
    const a = await openProvider(server, alice, roomId);
    await a.provider.whenSynced();
    for (let i = 0; i < 200; i++) {
      a.text.insert(a.text.length, `page filler ${i} `.repeat(8));
      a.provider.flush();
    }
    await a.provider.whenAcked();
    await waitFor(
      () => statSync(dbFile).size > before + 64 * 1024,
      'the database file to take the checkpointed log',
      5000,
    );
  } finally {
    await server.stop();
  }
});

test('a client that outruns the log writer is held back by TCP, and every update it sent is stored and acknowledged', async () => {
  const server = await startTestServer({ maxInflightPerConnection: 4, commitWindowMs: 40 });
  try {
    const { roomId, a, acked } = await soleWriter(server);
    // ~150 KB in one go: more than one socket read, so reading stops after the first and resumes as commits land.
    for (let i = 0; i < 400; i++) {
      a.text.insert(a.text.length, `${i};`.padEnd(120, '.'));
      a.provider.flush();
    }
    await a.provider.whenAcked(30_000); // a refused or lost update would never be acknowledged
    assert.equal(acked(), 400);
    assert.equal((await server.store.loadRoomLog(roomId)).updates.length, 400);
  } finally {
    await server.stop();
  }
});

/** The TCP socket under a client WebSocket: pausing it stops the client reading, as a stalled peer would. */
const tcpOf = (ws: unknown) => (ws as { _socket: { pause(): void; resume(): void } })._socket;

/** Authenticated connections the server reports on /healthz, and a wait until it reports `n`. */
async function connectionsOf(server: TestServer): Promise<number> {
  return ((await (await fetch(`${server.url}/healthz`)).json()) as { connections: number }).connections;
}
async function untilConnections(server: TestServer, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while ((await connectionsOf(server)) !== n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return connectionsOf(server);
}

/** Values from one scrape of the server's Prometheus endpoint. */
async function metrics(server: TestServer, ...names: string[]): Promise<number[]> {
  const text = await scrapeMetrics(server);
  return names.map((name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN));
}
const metric = async (server: TestServer, name: string) => (await metrics(server, name))[0];

/** 400 updates of ~50 KB each (20 MB, far more than loopback's socket buffers hold), each flushed as its own frame. */
const LARGE = 400;
function sendLarge(a: { text: { insert(i: number, s: string): void; length: number }; provider: { flush(): void } }) {
  for (let i = 0; i < LARGE; i++) {
    a.text.insert(a.text.length, `${i}:`.padEnd(50_000, String.fromCharCode(97 + (i % 26))));
    a.provider.flush();
  }
}

test('receivers that stop reading: past the total outgoing limit the relay stops reading senders, and resumes losing nothing', async () => {
  const server = await startTestServer({
    maxBufferedTotal: 1024 * 1024,
    maxBufferedPerConnection: 256 * 1024 * 1024,
    rateLimitPerSecond: 1e6,
    rateLimitBurst: 1e6,
  });
  try {
    const { alice, roomId, a, acked } = await soleWriter(server);
    const b = await rawSocket(server, alice, roomId);
    const socketB = tcpOf(b.ws);
    socketB.pause();
    sendLarge(a);
    await waitFor(() => acked() > 0, 'the first updates to be acknowledged');
    let [paused, queued] = [0, 0];
    const deadline = Date.now() + 15_000;
    while (paused !== 1 && Date.now() < deadline) {
      [paused, queued] = await metrics(server, 'kyozo_sync_reading_paused', 'kyozo_sync_outgoing_buffered_bytes');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(paused, 1, 'reading stopped once the outgoing queues held more than 1 MiB');
    assert.ok(queued > 512 * 1024, `the gauge shows what waits (${queued} bytes)`);
    // What was read before the pause still becomes durable and is acknowledged; then the acknowledgements stop.
    let settled = -1;
    while (acked() !== settled) {
      settled = acked();
      await new Promise((r) => setTimeout(r, 300));
    }
    const stalled = acked();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      acked(),
      stalled,
      'nothing more is read (nor acknowledged) from the sender while the receiver does not read',
    );
    assert.ok(stalled < LARGE, `the sender is held back (${stalled} of ${LARGE} acknowledged)`);
    socketB.resume();
    await a.provider.whenAcked(30_000);
    assert.equal(acked(), LARGE, 'every update was read, stored and acknowledged once the receiver drained');
    await waitFor(
      () => b.frames.filter((f) => f[0] === FrameKind.Update).length === LARGE,
      'the receiver to get every update',
      30_000,
    );
    const resumeBy = Date.now() + 2000; // the next measurement finds the queues empty
    while ((await metric(server, 'kyozo_sync_reading_paused')) !== 0 && Date.now() < resumeBy)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await metric(server, 'kyozo_sync_reading_paused'), 0, 'reading resumed');
    assert.ok(
      server.logs.some((l) => l.includes('outgoing queues full')),
      'the overload was logged',
    );
    b.ws.terminate();
  } finally {
    await server.stop();
  }
});

test('a receiver that stops reading is closed once its own queue passes the per-socket limit; the sender goes on', async () => {
  const server = await startTestServer({
    maxBufferedPerConnection: 1024 * 1024,
    rateLimitPerSecond: 1e6,
    rateLimitBurst: 1e6,
  });
  try {
    const { alice, roomId, a, acked } = await soleWriter(server);
    const b = await rawSocket(server, alice, roomId);
    tcpOf(b.ws).pause();
    assert.equal(await connectionsOf(server), 2);
    sendLarge(a);
    await a.provider.whenAcked(30_000);
    assert.equal(acked(), LARGE, 'the sender was never held back by the slow receiver');
    assert.equal(await untilConnections(server, 1, 5000), 1, 'the slow receiver was cut off');
    b.ws.terminate();
  } finally {
    await server.stop();
  }
});

test('an oversized frame closes the socket with 1009 and a silent peer is cut by the heartbeat', async () => {
  const server = await startTestServer({ maxFrameBytes: 64 * 1024, heartbeatMs: 200 });
  try {
    const alice = await createUser(server);
    const { roomId } = await createTeamRoom(alice);
    const s = await rawSocket(server, alice, roomId);
    s.ws.send(Buffer.concat([Buffer.from([FrameKind.Update]), Buffer.alloc(70 * 1024)]));
    await waitFor(() => s.closed() !== null, 'close after an oversized frame');
    assert.equal(s.closed()!.code, 1009);
    const quiet = await rawSocket(server, alice, roomId);
    // Stop reading: pings are never answered.
    tcpOf(quiet.ws).pause();
    assert.equal(await connectionsOf(server), 1, 'the quiet peer is connected at first');
    assert.equal(await untilConnections(server, 0, 3000), 0, 'the unresponsive peer was terminated');
    quiet.ws.terminate();
  } finally {
    await server.stop();
  }
});

test(
  'a connection that goes silent without closing (a vanished network) is dropped by the client and reconnected',
  { timeout: 30_000 },
  async () => {
    const server = await startTestServer({ heartbeatMs: 400 }); // the client gives up after 2.5 intervals without a word
    // A real TCP hop between client and server that can stop forwarding without closing anything.
    const links: { a: Socket; b: Socket }[] = [];
    const proxy = createNetServer((a) => {
      const b = connect(server.port, '127.0.0.1');
      a.pipe(b).pipe(a);
      a.on('error', () => b.destroy());
      b.on('error', () => a.destroy());
      links.push({ a, b });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const via = { wsUrl: `ws://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
    try {
      const alice = await createUser(server);
      const bob = await createUser(server);
      const { a, b } = await syncedPair(server, alice, bob, { ownerVia: via });
      const dropped = new Promise<{ code: number }>((r) => a.provider.once('close', r));
      for (const { a: x, b: y } of links.splice(0)) {
        x.unpipe();
        y.unpipe();
        x.pause();
        y.pause();
      } // silence, no FIN
      a.text.insert(0, 'typed while the network was gone;');
      assert.equal((await dropped).code, 1006, 'the client gave up on the silent socket');
      await a.provider.whenAcked(); // through a fresh connection
      await waitFor(() => b.text.toString() === 'typed while the network was gone;', 'bob to receive the edit');
      a.provider.destroy();
      b.provider.destroy();
    } finally {
      for (const { a, b } of links) {
        a.destroy();
        b.destroy();
      }
      proxy.close();
      await server.stop();
    }
  },
);

test('heartbeats reach every socket once per interval, spread over it rather than all at once', async () => {
  const server = await startTestServer({ heartbeatMs: 1000 });
  const sockets: Awaited<ReturnType<typeof rawSocket>>[] = [];
  try {
    const alice = await createUser(server);
    const { roomId } = await createTeamRoom(alice);
    const pings = new Map<number, number[]>();
    for (let i = 0; i < 40; i++) {
      const s = await rawSocket(server, alice, roomId);
      s.ws.on('ping', () => pings.set(i, [...(pings.get(i) ?? []), performance.now()]));
      sockets.push(s);
    }
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2800));
    // Once per interval for every socket: none missed, none doubled. The interval timer may run late on a loaded
    // machine, so a gap can be longer than the interval, never much shorter.
    for (const [i, ts] of pings) {
      const gaps = ts.slice(1).map((t, k) => t - ts[k]);
      assert.ok(
        gaps.every((g) => g > 800 && g < 1600),
        `socket ${i}: pings ${Math.round(ts[0] - t0)} ms after the start, then every ${gaps.map(Math.round).join(', ')} ms`,
      );
    }
    assert.deepEqual(
      [...Array(40).keys()].filter((i) => (pings.get(i)?.length ?? 0) < 2),
      [],
      'sockets pinged fewer than twice in 2.8 s',
    );
    const times = [...pings.values()]
      .flat()
      .filter((t) => t >= t0 + 150 && t < t0 + 1150)
      .sort((a, b) => a - b);
    const densest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 100).length));
    assert.ok(densest <= 12, `pings are spread over the interval: at most 12 of 40 within 100 ms, saw ${densest}`);
  } finally {
    for (const s of sockets) s.ws.terminate();
    await server.stop();
  }
});

test(
  '`kyozo sync-server --port --data-dir` starts the server and stops cleanly on SIGTERM',
  { timeout: 60_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kyozo-sync-cli-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'server/src/cli/main.ts'),
        'sync-server',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--max-frame-bytes',
        '131072',
      ],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KYOZO_SYNC_COMMIT_WINDOW_MS: '7', KYOZO_SYNC_MAX_FRAME_BYTES: '999999' },
      },
    );
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await waitFor(() => /sync server listening/.test(out), `the CLI to start the server (${out})`, 45_000);
      const port = Number(/"port":(\d+)/.exec(out)![1]);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.match(out, new RegExp(`"store":"sqlite:${dataDir.replace(/[/\\]/g, '.')}"`));
      assert.match(
        out,
        /"maxFrameBytes":131072,"commitWindowMs":7\b/,
        'the flag wins over its environment variable; the environment fills the rest',
      );
      const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
