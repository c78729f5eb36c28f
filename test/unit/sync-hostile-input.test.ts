// Hostile requests against a real sync server on 127.0.0.1: injection strings and traversal ids are only data,
// oversized bodies and headers, deeply nested JSON and slowly sent requests are refused without harm, a clock past
// 2^53 is refused, and an invite accepted by many at once is used once.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { SyncApi, SyncApiError } from '../../sync-server/src/client';
import { sealData } from '../../sync-server/src/client/room-crypto';
import { CloseCode, FrameKind, decodeJsonFrame, type ErrorBody } from '../../sync-server/src/wire';
import {
  closeCodeOf,
  createTeamRoom,
  createUser,
  rawSocket,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';

let server: TestServer;
let alice: TestUser;
before(async () => {
  server = await startTestServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
  alice = await createUser(server);
});
after(async () => {
  await server.stop();
});

/** A request with a path sent exactly as written (fetch would normalise `..`). */
interface RawOptions {
  token?: string;
  body?: string;
  headers?: Record<string, string>;
}
function rawRequest(method: string, path: string, opts: RawOptions = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body) headers['content-type'] = 'application/json';
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const alive = async () => assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server still answers');
const errorCode = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

test('SQL in names, usernames and ids is stored or refused as text, never run', async () => {
  const injected = "x'); DROP TABLE users; --";
  const team = await alice.api.createTeam(injected);
  assert.equal((await alice.api.createTeam("' OR '1'='1")).id.startsWith('team_'), true);
  const listed = await alice.api.request<{ id: string; name: string }[]>('GET', '/v1/teams');
  assert.ok(
    listed.some((t) => t.id === team.id && t.name === injected),
    'the name comes back exactly as sent',
  );
  const status = (n: number) => (e: unknown) => e instanceof SyncApiError && e.status === n;
  await assert.rejects(new SyncApi(server.url).createAccount(injected, 'correct horse battery'), status(400));
  await assert.rejects(new SyncApi(server.url).login("' OR '1'='1' --", 'whatever whatever'), status(401));
  const ids = [
    `/v1/rooms/${encodeURIComponent("' OR 1=1 --")}`,
    `/v1/teams/${encodeURIComponent(`${team.id}' OR '1'='1`)}/members`,
  ];
  for (const path of ids) {
    const r = await rawRequest('GET', path, { token: alice.token });
    assert.deepEqual([r.status, errorCode(r.body)], [404, 'not-found'], path);
  }
  const socketPath = `${server.wsUrl}/v1/rooms/${encodeURIComponent("x' OR '1'='1")}/sync`;
  assert.equal(await closeCodeOf(socketPath, () => undefined), CloseCode.NotFound);
  await new SyncApi(server.url).login(alice.name, 'correct horse battery'); // the users table is intact
  assert.ok((await server.store.userByName(alice.name))!.id === alice.userId);
});

test('traversal ids reach no file: HTTP answers 404, the socket path is refused with 4404', async () => {
  const paths = [
    '/v1/rooms/../../../etc/passwd',
    '/v1/rooms/..%2F..%2Fsync.db',
    '/v1/rooms/%2e%2e%2f%2e%2e%2fsync.db/keys',
    '/v1/teams/..%2F..%2F/members',
  ];
  for (const path of paths) {
    const r = await rawRequest('GET', path, { token: alice.token });
    assert.equal(r.status, 404, path);
    assert.equal(errorCode(r.body), 'not-found', path);
    assert.doesNotMatch(r.body, /root:|SQLite/, path);
  }
  for (const path of ['/v1/rooms/..%2F..%2Fetc%2Fpasswd/sync', '/v1/rooms/../sync', '/v1/rooms/a/../../b/sync']) {
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.wsUrl}${path}`);
      ws.on('close', (c) => resolve(c));
      ws.on('error', () => undefined);
    });
    assert.equal(code, CloseCode.NotFound, path);
  }
});

test('an oversized body is refused with 413 and oversized headers with 431', async () => {
  const big = JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) });
  const r = await rawRequest('POST', '/v1/teams', { token: alice.token, body: big });
  assert.equal(r.status, 413);
  assert.equal(errorCode(r.body), 'invalid-input');
  const h = await rawRequest('GET', '/healthz', { headers: { 'x-padding': 'y'.repeat(64 * 1024) } });
  assert.equal(h.status, 431);
  await alive();
});

test('deeply nested JSON is refused with 400, not a crash', async () => {
  const arrays = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
  const objects = '{"name":'.repeat(200_000) + '"x"' + '}'.repeat(200_000);
  for (const body of [arrays, objects, `{"name":${arrays}}`]) {
    const r = await rawRequest('POST', '/v1/teams', { token: alice.token, body });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'invalid-input');
    assert.ok(r.body.length < 4096, 'the error does not echo the input');
  }
  await alive();
});

test('a request whose headers or body trickle in (slowloris) is cut off by the server', async () => {
  const trickle = (head: string, drip: string) =>
    new Promise<{ ms: number; reply: string }>((resolve) => {
      const t0 = Date.now();
      const s = connect(server.port, '127.0.0.1');
      let reply = '';
      let timer: NodeJS.Timeout;
      s.on('connect', () => {
        s.write(head);
        timer = setInterval(() => s.write(drip), 100);
      });
      s.on('data', (d) => {
        reply += d.toString();
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        resolve({ ms: Date.now() - t0, reply });
      });
      setTimeout(() => s.destroy(), 10_000);
    });
  const [headers, body] = await Promise.all([
    trickle('GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-a: b\r\n'),
    trickle(
      'POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n',
      ' ',
    ),
  ]);
  assert.ok(headers.ms < 6000, `headers sent one line per 100 ms: cut after ${headers.ms} ms`);
  assert.match(headers.reply, /^HTTP\/1\.1 408/);
  assert.ok(body.ms < 7000, `a body sent one byte per 100 ms: cut after ${body.ms} ms`);
  await alive();
});

test('a clock of 2^53 or more is refused (bad-frame) and nothing is stored', async () => {
  const { roomId } = await createTeamRoom(alice);
  const key = (await alice.api.loadKeyring(roomId, alice.identity, () => true)).get(1)!;
  const s = await rawSocket(server, alice, roomId);
  s.ws.send(sealData(FrameKind.Update, roomId, alice.identity, 1, key, 2 ** 53, Buffer.from([0, 0])));
  await waitFor(() => s.frames.some((f) => f[0] === FrameKind.Error), 'the refusal');
  const e = decodeJsonFrame<ErrorBody>(s.frames.find((f) => f[0] === FrameKind.Error)!);
  assert.equal(e.code, 'bad-frame');
  assert.match(e.message, /2\^53/);
  assert.equal((await server.store.loadRoomLog(roomId)).updates.length, 0);
  s.ws.close();
});

test('an invite accepted by eight accounts at once is used once; an expired one by none', async () => {
  const users = await Promise.all(Array.from({ length: 8 }, () => createUser(server)));
  const team = await alice.api.createTeam('race');
  const { invite } = await alice.api.invite(team.id, 'member');
  const outcomes = await Promise.allSettled(users.map((u) => u.api.acceptInvite(invite)));
  const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as SyncApiError).code)).sort();
  assert.deepEqual(codes, [...Array<string>(7).fill('invite-used'), 'ok']);
  assert.equal((await alice.api.members(team.id)).length, 2);
  const expiring = await alice.api.invite(team.id, 'viewer', 60);
  const id = JSON.parse(Buffer.from(expiring.invite.split('.')[0], 'base64url').toString()).id as string;
  const db = (server.store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): void } } }).db;
  db.prepare('UPDATE invites SET expires_at = ? WHERE id = ?').run(Date.now() - 1, id);
  const late = await Promise.allSettled(users.map((u) => u.api.acceptInvite(expiring.invite)));
  const lateCodes = late.map((o) => (o.status === 'rejected' ? (o.reason as SyncApiError).code : 'ok'));
  assert.deepEqual([...new Set(lateCodes)], ['invite-expired']);
  assert.equal((await alice.api.members(team.id)).length, 2);
});
