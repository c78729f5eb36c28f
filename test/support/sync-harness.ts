// Helpers for the sync server tests: a real server on 127.0.0.1 with a temporary data dir and captured logs, real
// accounts with real device keys, and real providers over real WebSockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { startSyncServer, type RunningSyncServer } from '../../sync-server/src/server';
import type { SyncServerConfig } from '../../sync-server/src/config';
import {
  createIdentity,
  DeviceTrust,
  EncryptedProvider,
  MemoryTrustStore,
  RoomKeyring,
  SyncApi,
  type DeviceIdentity,
  type ProviderOptions,
} from '../../sync-server/src/client';
import { authSignedBytes, decodeJsonFrame, encodeAuth, FrameKind, type ErrorBody } from '../../sync-server/src/wire';
import { signBytes } from '../../sync-server/src/client/identity';

// Every provider a test opens, so a failing test cannot leave one reconnecting forever (which would keep the runner alive).
const openProviders = new Set<{ url: string; provider: EncryptedProvider }>();

export interface TestServer extends RunningSyncServer {
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

/** The token test servers' /metrics answers to (see scrapeMetrics). */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';

export async function startTestServer(cfg: Partial<SyncServerConfig> = {}): Promise<TestServer> {
  const dataDir = cfg.dataDir ?? mkdtempSync(join(tmpdir(), 'kyozo-sync-test-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const settings = { port: 0, host: '127.0.0.1', dataDir, logLevel: 'debug', metricsToken: TEST_METRICS_TOKEN, ...cfg };
  const server = await startSyncServer(settings, sink);
  return {
    ...server,
    dataDir,
    logs,
    async stop() {
      for (const p of openProviders)
        if (p.url === server.wsUrl) {
          p.provider.destroy();
          openProviders.delete(p);
        }
      await server.close();
      if (!cfg.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One scrape of a test server's Prometheus endpoint. */
export async function scrapeMetrics(server: { url: string }): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}: ${await res.text()}`);
  return res.text();
}

/** A user with one device, and what that device trusts (nothing but itself at first). */
export interface TestUser {
  name: string;
  api: SyncApi;
  identity: DeviceIdentity;
  userId: string;
  token: string;
  trust: DeviceTrust;
}

let seq = 0;
export async function createUser(server: { url: string }, name = `user${++seq}`): Promise<TestUser> {
  const api = new SyncApi(server.url);
  await api.createAccount(name, 'correct horse battery');
  const { token, userId } = await api.login(name, 'correct horse battery');
  const identity = createIdentity();
  await api.registerDevice(identity);
  return { name, api, identity, userId, token, trust: await DeviceTrust.open(new MemoryTrustStore(), identity) };
}

export interface TeamInvitee {
  user: TestUser;
  role?: string;
  verify?: boolean;
}

/**
 * Owner creates a team, invites `others` with the given role, verifies their devices' fingerprints (as a user would
 * after comparing them out of band; `verify: false` leaves one unverified), and creates a room keyed to the verified.
 */
export async function createTeamRoom(owner: TestUser, others: TeamInvitee[] = []) {
  const team = await owner.api.createTeam('team');
  for (const o of others) {
    const { invite } = await owner.api.invite(team.id, o.role ?? 'member');
    await o.user.api.acceptInvite(invite);
  }
  await verifyDevices(
    owner,
    team.id,
    others.filter((o) => o.verify !== false).map((o) => o.user),
  );
  const { room, keyring } = await owner.api.createRoom(team.id, 'doc', owner.identity, owner.trust);
  return { teamId: team.id, roomId: room.id, ownerKeyring: keyring };
}

/** `by` verifies the fingerprints of every device of `users` in the team (the out-of-band comparison, done). */
export async function verifyDevices(by: TestUser, teamId: string, users: TestUser[]): Promise<void> {
  for (const d of await by.api.teamDevices(teamId, by.trust)) {
    if (users.some((u) => u.userId === d.userId)) await by.trust.verify(d.fingerprint);
  }
}

/**
 * A new room of `owner`'s team with `member` in it (as `role`, member by default), and a synced provider for each;
 * the owner's connects through `ownerVia` when given (a proxy in front of `server`).
 */
export async function syncedPair(
  server: { wsUrl: string },
  owner: TestUser,
  member: TestUser,
  opts: { role?: string; ownerVia?: { wsUrl: string } } = {},
) {
  const { roomId, teamId } = await createTeamRoom(owner, [{ user: member, role: opts.role }]);
  const a = await openProvider(opts.ownerVia ?? server, owner, roomId);
  const b = await openProvider(server, member, roomId);
  await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
  return { roomId, teamId, a, b };
}

/** A provider for `user` in `roomId`, trusting what the user's device trusts (the team roster, pinned on first use). */
export async function openProvider(
  server: { wsUrl: string },
  user: TestUser,
  roomId: string,
  extra: Partial<ProviderOptions> = {},
) {
  const keyring = new RoomKeyring();
  const { teamId } = await user.api.room(roomId);
  await user.api.loadKeyring(roomId, user.identity, user.trust, keyring);
  const doc = new Y.Doc();
  const provider = new EncryptedProvider(doc, {
    url: server.wsUrl,
    roomId,
    token: user.token,
    identity: user.identity,
    keyring,
    batchMs: 5,
    trust: user.trust.forTeam(teamId),
    refreshKeys: async () => {
      await user.api.loadKeyring(roomId, user.identity, user.trust, keyring);
    },
    ...extra,
  });
  openProviders.add({ url: server.wsUrl, provider });
  return { doc, provider, keyring, text: doc.getText('t') };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw authenticated socket for sending hand-made frames. Resolves after HELLO; collects every frame received. */
export async function rawSocket(
  server: { wsUrl: string },
  user: TestUser,
  roomId: string,
  identity = user.identity,
  token = user.token,
) {
  const ws = new WebSocket(`${server.wsUrl}/v1/rooms/${roomId}/sync`);
  const frames: Buffer[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
  });
  ws.on('message', (d: Buffer) => {
    frames.push(d);
    if (d[0] === FrameKind.Challenge)
      ws.send(encodeAuth(identity.signPublicKey, signBytes(identity, authSignedBytes(d.subarray(1), roomId)), token));
  });
  await waitFor(() => frames.some((f) => f[0] === FrameKind.Synced) || closed !== null, 'raw socket to sync');
  return { ws, frames, closed: () => closed as { code: number; reason: string } | null };
}

/** Opens a socket and returns the close code (and frames) after `act` runs. */
export async function closeCodeOf(
  url: string,
  act: (ws: WebSocket, challenge: Buffer) => void,
  timeoutMs = 8000,
): Promise<number> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('message', (d: Buffer) => {
      if (d[0] === FrameKind.Challenge) act(ws, d.subarray(1));
    });
    ws.on('close', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    ws.on('error', () => undefined);
  });
}

/** Frames of one kind, from the frames a raw socket received. */
export const framesOf = (frames: Buffer[], kind: number) => frames.filter((f) => f[0] === kind);
/** The error bodies among received frames. */
export const errorsIn = (frames: Buffer[]) =>
  framesOf(frames, FrameKind.Error).map((f) => decodeJsonFrame<ErrorBody>(f));
/** The highest clock acknowledged so far (acknowledgements are cumulative). */
export const ackedIn = (frames: Buffer[]) =>
  Math.max(0, ...framesOf(frames, FrameKind.Ack).map((f) => f.readUInt32BE(5)));
/** A Yjs update that inserts `text`, as a client's first edit would be. */
export function yUpdate(text: string): Uint8Array {
  const d = new Y.Doc();
  d.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(d);
}
