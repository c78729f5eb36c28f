// Shared operations in a room's Y.Doc: a guest's signed request to act on a host service, the host's checks
// (signature over room/action/service/args/nonce/time with the device's real Ed25519 key, the member's role as the
// server lists it, replays, stale requests, the host's confirmation) and what flows back (results, events, log lines),
// between two real Y.Docs joined by their updates as the relay joins them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import {
  awaitResult,
  followLogs,
  OPS_KEYS,
  publishStatuses,
  publishTopology,
  readShared,
  RemoteActionHost,
  requestBytes,
  RequestGuard,
  RequestRefused,
  sendRequest,
  shareTopology,
  signRequest,
  stopLogs,
  toTopology,
  type Requester,
  type SignedRequest,
} from '../../extension/src/share/shared-operations';
import { createIdentity, type DeviceIdentity } from '../../sync-server/src/client';
import type { Topology } from '../../server/src/protocol';

const ROOM = 'room-1';

function pair(): { host: Y.Doc; guest: Y.Doc } {
  const host = new Y.Doc();
  const guest = new Y.Doc();
  host.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(guest, u, 'wire'));
  guest.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(host, u, 'wire'));
  return { host, guest };
}

/** The team as the sync server would list it: each device key's owner and role. */
function members(entries: [DeviceIdentity, Requester][]) {
  const byKey = new Map(entries.map(([id, who]) => [id.signPublicKey.toString('hex'), who]));
  return async (signer: Buffer) => byKey.get(signer.toString('hex'));
}

const topology = {
  version: 1,
  root: '/home/host/secret-path',
  name: 'shop',
  generatedAt: '',
  services: [
    {
      id: 'web',
      name: 'web',
      folder: 'web',
      type: 'static',
      frameworks: [],
      confidence: 0.9,
      evidence: [{ file: 'web/Dockerfile', reason: 'Dockerfile' }],
      ports: [{ container: 8080, protocol: 'tcp', source: 'dockerfile', evidence: { file: 'x', reason: 'EXPOSE' } }],
      env: [{ name: 'TOKEN', value: 'hunter2', secret: true, evidence: { file: '.env', reason: 'env' } }],
      replicas: 1,
      indicators: ['web/Dockerfile'],
    },
  ],
  edges: [],
  libraries: [],
  groups: [],
  patterns: [],
  order: [['web']],
  problems: [],
  recommendations: [],
  stats: { files: 1, folders: 1, durationMs: 1 },
} as unknown as Topology;

test('the host publishes a trimmed topology and statuses; the guest reads them as a Topology', () => {
  const { host, guest } = pair();
  publishTopology(host, 'carol', shareTopology(topology));
  publishStatuses(host, [
    {
      serviceId: 'web',
      name: 'web',
      state: 'running',
      health: 'healthy',
      replicas: { running: 1, desired: 1 },
      hostPorts: [49152],
    },
  ]);
  const seen = readShared(guest);
  assert.equal(seen.host, 'carol');
  assert.deepEqual(seen.topology!.services[0], {
    id: 'web',
    name: 'web',
    folder: 'web',
    type: 'static',
    frameworks: [],
    ports: [8080],
    indicators: ['web/Dockerfile'],
    replicas: 1,
  });
  const wire = JSON.stringify(guest.getMap(OPS_KEYS.state).toJSON());
  assert.doesNotMatch(wire, /hunter2|TOKEN|secret-path/, 'no environment values, no absolute paths');
  assert.equal(seen.statuses[0].state, 'running');
  const t = toTopology(seen.topology!);
  assert.equal(t.services[0].ports[0].container, 8080);
  assert.deepEqual(t.order, [['web']]);
  // Publishing the same again changes nothing in the document.
  let updates = 0;
  host.on('update', () => updates++);
  publishTopology(host, 'carol', shareTopology(topology));
  assert.equal(updates, 0);
});

test('the signature covers room, action, service, args, nonce and time', () => {
  const alice = createIdentity();
  const r = signRequest(alice, 'alice', { room: ROOM, action: 'scale', service: 'web', args: { replicas: 2 } });
  assert.equal(r.signer, alice.signPublicKey.toString('base64'));
  assert.match(r.nonce, /^[A-Za-z0-9_-]{22}$/);
  const base = requestBytes(r).toString();
  for (const changed of [
    { ...r, room: 'room-2' },
    { ...r, action: 'stop' as const },
    { ...r, service: 'api' },
    { ...r, args: { replicas: 3 } },
    { ...r, nonce: 'x'.repeat(22) },
    { ...r, time: r.time + 1 },
  ])
    assert.notEqual(requestBytes(changed).toString(), base);
  // Key order of args does not matter to what is signed.
  assert.equal(
    requestBytes({ ...r, args: { tail: 5, replicas: 2 } }).toString(),
    requestBytes({ ...r, args: { replicas: 2, tail: 5 } }).toString(),
  );
});

test('the guard refuses malformed, wrong-room, replayed, stale, forged, unknown and viewer requests', async () => {
  const alice = createIdentity();
  const dave = createIdentity();
  const mallory = createIdentity();
  let now = 1_000_000;
  const guard = new RequestGuard({
    roomId: ROOM,
    now: () => now,
    lookup: members([
      [alice, { userId: 'u1', username: 'alice', role: 'member' }],
      [dave, { userId: 'u2', username: 'dave', role: 'viewer' }],
    ]),
  });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e) => {
        assert.ok(e instanceof RequestRefused, String(e));
        return (e as RequestRefused).code;
      },
    );
  const sign = (id: DeviceIdentity, extra: Partial<SignedRequest> = {}) =>
    signRequest(id, 'alice', { room: ROOM, action: 'deploy', service: 'web', args: {}, time: now, ...extra });

  const ok = sign(alice);
  assert.deepEqual(await guard.check(ok), { userId: 'u1', username: 'alice', role: 'member' });
  assert.equal(await code(guard.check(ok)), 'replay', 'the same nonce again');
  assert.equal(await code(guard.check({ ...sign(alice), action: 'rm' as never })), 'malformed');
  assert.equal(await code(guard.check(sign(alice, { action: 'scale', args: { replicas: 99 } }))), 'malformed');
  assert.equal(await code(guard.check(sign(alice, { room: 'room-2' }))), 'wrong-room');
  assert.equal(await code(guard.check(sign(alice, { time: now - 61_000 }))), 'stale');
  assert.equal(await code(guard.check(sign(alice, { time: now + 61_000 }))), 'stale');
  assert.equal(await code(guard.check(sign(alice, { time: now - 59_000 }))), 'accepted');
  // A request altered after signing, a signature by another key under alice's name, and an unknown device.
  const altered = sign(alice);
  assert.equal(await code(guard.check({ ...altered, service: 'api' })), 'bad-signature');
  const forged = sign(mallory);
  assert.equal(await code(guard.check({ ...forged, signer: alice.signPublicKey.toString('base64') })), 'bad-signature');
  assert.equal(await code(guard.check(sign(mallory))), 'not-a-member');
  const refused = await guard.check(sign(dave)).catch((e: RequestRefused) => e);
  assert.ok(refused instanceof RequestRefused);
  assert.equal(refused.code, 'viewer');
  assert.match(refused.message, /dave is a viewer in this team: viewers see the host's services but cannot act/);
  now += 120_000;
  assert.equal(await code(guard.check(ok)), 'replay', 'a replay stays refused');
});

test('a member asks, the host confirms and runs it; results and events reach the guest; a viewer is refused', async () => {
  const { host, guest } = pair();
  const alice = createIdentity();
  const dave = createIdentity();
  const ran: string[] = [];
  const asked: string[] = [];
  let allow = true;
  let confirmFails = false;
  const hostEvents: string[] = [];
  const h = new RemoteActionHost(host, {
    roomId: ROOM,
    host: 'carol',
    lookup: members([
      [alice, { userId: 'u1', username: 'alice', role: 'member' }],
      [dave, { userId: 'u2', username: 'dave', role: 'viewer' }],
    ]),
    hasService: (id) => id === 'web',
    confirm: async (r, who) => {
      if (confirmFails) throw new Error('no dialogs here');
      asked.push(`${who.username}:${r.action}`);
      return allow;
    },
    run: async (r) => {
      ran.push(`${r.action} ${r.service}${r.args.replicas !== undefined ? ` ${r.args.replicas}` : ''}`);
      return { message: 'running', serviceState: 'running' };
    },
    onEvent: (e) => hostEvents.push(e.message!),
  });

  const deploy = sendRequest(guest, alice, 'alice', { room: ROOM, action: 'deploy', service: 'web', args: {} });
  const steps: string[] = [];
  const result = await awaitResult(guest, deploy.nonce, 5000, (r) => steps.push(r.state));
  assert.equal(result.state, 'done');
  assert.equal(result.by, 'alice');
  assert.equal(result.serviceState, 'running');
  assert.deepEqual(ran, ['deploy web']);
  assert.deepEqual(asked, ['alice:deploy']);
  const guestEvents = readShared(guest).events.map((e) => e.message);
  assert.equal(guestEvents[0], 'deploy web requested by alice (remote)');
  assert.match(guestEvents[1]!, /^deploy web requested by alice \(remote\): running in \d+ ms$/);
  assert.deepEqual(hostEvents, guestEvents, 'the same events on both sides');
  assert.ok(readShared(guest).events.every((e) => e.type === 'remote_action' && e.requestedBy === 'alice'));

  // A viewer forcing a request: refused with the reason written back, nothing run, the host not even asked.
  const forced = sendRequest(guest, dave, 'dave', { room: ROOM, action: 'stop', service: 'web', args: {} });
  const refused = await awaitResult(guest, forced.nonce, 5000);
  assert.equal(refused.state, 'refused');
  assert.match(refused.message!, /dave is a viewer/);
  assert.deepEqual(ran, ['deploy web']);
  assert.deepEqual(asked, ['alice:deploy']);
  assert.match(
    readShared(guest).events.at(-1)!.message!,
    /^stop web requested by dave \(remote\) refused: dave is a viewer/,
  );

  // The host declines; an unknown service; a replay of the first request keeps its first answer and runs nothing.
  allow = false;
  const declined = sendRequest(guest, alice, 'alice', { room: ROOM, action: 'restart', service: 'web', args: {} });
  assert.equal((await awaitResult(guest, declined.nonce, 5000)).message, 'carol declined restart web');
  // A host that cannot be asked (the editor refused to show the question) runs nothing and says why.
  confirmFails = true;
  const unasked = sendRequest(guest, alice, 'alice', { room: ROOM, action: 'stop', service: 'web', args: {} });
  const unaskedAnswer = await awaitResult(guest, unasked.nonce, 5000);
  assert.equal(unaskedAnswer.state, 'refused');
  assert.equal(unaskedAnswer.message, 'carol could not be asked (no dialogs here), so nothing ran');
  confirmFails = false;
  allow = true;
  const unknown = sendRequest(guest, alice, 'alice', { room: ROOM, action: 'stop', service: 'db', args: {} });
  assert.match((await awaitResult(guest, unknown.nonce, 5000)).message!, /carol has no service db/);
  guest.getMap<SignedRequest>(OPS_KEYS.requests).set(deploy.nonce, { ...deploy });
  await h.idle();
  assert.deepEqual(ran, ['deploy web']);
  // A replay is refused before its signature is checked, so the name it gives is marked unverified.
  assert.equal(
    readShared(guest).events.at(-1)!.message,
    `deploy web requested by alice (unverified) (remote) refused: nonce ${deploy.nonce} was used before: a replay`,
  );
  assert.equal(guest.getMap(OPS_KEYS.results).get(deploy.nonce) !== undefined, true);

  // A host that comes back (a new RemoteActionHost on the same document) neither runs nor answers old requests again.
  h.dispose();
  const again = new RemoteActionHost(host, {
    roomId: ROOM,
    host: 'carol',
    lookup: members([[alice, { userId: 'u1', username: 'alice', role: 'member' }]]),
    hasService: () => true,
    confirm: async () => true,
    run: async (r) => {
      ran.push(`again ${r.action}`);
      return { message: 'ok' };
    },
  });
  await again.idle();
  assert.deepEqual(ran, ['deploy web']);
  again.dispose();
});

test('logs stream into the room for the requester and stop when the guest closes them', async () => {
  const { host, guest } = pair();
  const alice = createIdentity();
  const h = new RemoteActionHost(host, {
    roomId: ROOM,
    host: 'carol',
    lookup: members([[alice, { userId: 'u1', username: 'alice', role: 'owner' }]]),
    hasService: () => true,
    confirm: async () => true,
    run: async (r, _who, io) => {
      io.log(`last ${r.args.tail} lines\n`);
      io.log('line 2\n');
      await io.stopped;
      return { message: 'log stream closed' };
    },
  });
  const req = sendRequest(guest, alice, 'alice', { room: ROOM, action: 'logs', service: 'web', args: { tail: 20 } });
  const chunks: string[] = [];
  const unfollow = followLogs(guest, req.nonce, (c) => chunks.push(c));
  const deadline = Date.now() + 5000;
  while (chunks.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(chunks, ['last 20 lines\n', 'line 2\n']);
  stopLogs(guest, req.nonce);
  const done = await awaitResult(guest, req.nonce, 5000);
  assert.equal(done.state, 'done');
  assert.equal(done.message, 'log stream closed');
  unfollow();
  h.dispose();
});
