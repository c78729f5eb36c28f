// The SyncStore contract, run against both stores: the embedded SQLite one and PostgreSQL (a private server started
// for this file). Then what only a store shared by several instances does: it refuses a clock another instance stored
// first, two stores racing one (sender, clock) keep it once, and a snapshot on a head another one moved is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PostgresStore } from '../../sync-server/src/store/postgres-store';
import { SqliteStore } from '../../sync-server/src/store/sqlite-store';
import { StoreRefusal, type SyncStore } from '../../sync-server/src/store/store';
import { pgRedisMissing, startPostgres, type Service } from '../support/pg-redis';

const missing = pgRedisMissing();
const senderA = Buffer.alloc(32, 0xa1);
const senderB = Buffer.alloc(32, 0xb2);
const frame = (text: string) => Buffer.from(text);
const room = (id: string, teamId = 't1') => ({
  id,
  teamId,
  name: id,
  keyEpoch: 0,
  head: 0,
  rotationRequired: false,
  createdAt: Date.now(),
});

let postgres: Service | undefined;
let schemaNo = 0;
before(async () => {
  if (!missing) postgres = await startPostgres();
});
after(async () => {
  await postgres?.stop();
});

interface Kind {
  name: string;
  open(): Promise<{ store: SyncStore; done(): Promise<void> }>;
}
const kinds: Kind[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'kyozo-contract-'));
      const store = new SqliteStore({ dataDir: dir });
      return {
        store,
        async done() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      // A database per test, so tests do not see each other's rows.
      const db = `contract_${process.pid}_${++schemaNo}`;
      const pg = await import('pg');
      const c = new pg.default.Client({ connectionString: postgres!.url });
      await c.connect();
      await c.query(`CREATE DATABASE ${db}`);
      await c.end();
      const store = await PostgresStore.open({ url: postgres!.url.replace(/\/postgres$/, `/${db}`) });
      return { store, done: () => store.close() };
    },
  },
];

for (const kind of kinds) {
  describe(`${kind.name} store`, { skip: kind.name === 'PostgreSQL' && missing ? missing : false }, () => {
    const withStore = async (fn: (s: SyncStore) => Promise<void>) => {
      const { store, done } = await kind.open();
      try {
        await fn(store);
      } finally {
        await done();
      }
    };

    test('accounts, tokens, devices, teams, invites, rooms, keys, rosters and secrets read back as written', () =>
      withStore(async (s) => {
        await s.createUser({ id: 'u1', username: 'ada', passwordHash: 'h1', createdAt: 1 });
        await s.createUser({ id: 'u2', username: 'bob', passwordHash: 'h2', createdAt: 2 });
        await assert.rejects(s.createUser({ id: 'u3', username: 'ada', passwordHash: 'x', createdAt: 3 }));
        assert.equal((await s.userByName('ada'))?.id, 'u1');
        assert.equal(await s.userByName('nobody'), undefined);
        await s.setPasswordHash('u1', 'h1b');
        assert.equal((await s.userById('u1'))?.passwordHash, 'h1b');
        await s.addToken('tok', 'u1', 'laptop', 5000);
        assert.equal((await s.userByTokenHash('tok', 4000))?.username, 'ada');
        assert.equal(await s.userByTokenHash('tok', 6000), undefined, 'expired');
        assert.equal(await s.tokenExpiresAt('tok'), 5000);
        await s.deleteToken('tok');
        assert.equal(await s.tokenExpiresAt('tok'), undefined);
        const key = {
          signPublicKey: Buffer.alloc(32, 1),
          dhPublicKey: Buffer.alloc(32, 2),
          userId: 'u1',
          createdAt: 9,
        };
        await s.addDeviceKey(key);
        assert.deepEqual(await s.deviceKey(key.signPublicKey), key);
        assert.deepEqual(await s.deviceKeysOf('u1'), [key]);
        await s.createTeam({ id: 't1', name: 'team', createdAt: 10 }, 'u1');
        await s.setMember('t1', 'u2', 'member');
        await s.setMember('t1', 'u2', 'viewer');
        assert.deepEqual(
          (await s.members('t1')).map((m) => [m.username, m.role]),
          [
            ['ada', 'owner'],
            ['bob', 'viewer'],
          ],
        );
        assert.deepEqual(
          (await s.teamsOf('u2')).map((t) => [t.id, t.role]),
          [['t1', 'viewer']],
        );
        await s.removeMember('t1', 'u2');
        assert.equal(await s.membership('t1', 'u2'), undefined);
        await s.createInvite({ id: 'i1', teamId: 't1', role: 'member', expiresAt: 99, usedBy: null, createdBy: 'u1' });
        await s.createInvite({ id: 'i2', teamId: 't1', role: 'member', expiresAt: 99, usedBy: null, createdBy: 'u1' });
        assert.equal(await s.markInviteUsed('i1', 'u2'), true);
        assert.equal(await s.markInviteUsed('i1', 'u2'), false, 'single use');
        assert.equal(await s.revokeInvitesBy('t1', 'u1'), 1);
        assert.equal(await s.markInviteUsed('i2', 'u2'), false, 'revoked');
        assert.ok((await s.invite('i2'))?.revokedAt);
        await s.createRoom(room('r1'));
        await s.addWrappedKeys(
          'r1',
          1,
          [{ roomId: 'r1', epoch: 1, recipient: Buffer.alloc(32, 7), wrapped: frame('w1') }],
          true,
        );
        assert.equal((await s.room('r1'))?.keyEpoch, 1);
        await s.setRoomsRotationRequired('t1');
        assert.equal((await s.rooms('t1'))[0].rotationRequired, true);
        const wraps = await s.wrappedKeysFor('r1', [Buffer.alloc(32, 7), Buffer.alloc(32, 8)]);
        assert.deepEqual(
          wraps.map((w) => [w.epoch, String(w.wrapped)]),
          [[1, 'w1']],
        );
        assert.equal(await s.putRoster({ teamId: 't1', version: 2, blob: frame('v2') }), true);
        assert.equal(await s.putRoster({ teamId: 't1', version: 1, blob: frame('v1') }), false, 'no rollback');
        assert.equal(String((await s.roster('t1'))?.blob), 'v2');
        const secret = await s.secret('invite', () => frame('first'));
        assert.equal(String(await s.secret('invite', () => frame('second'))), String(secret));
      }));

    test('the log keeps acceptance order, stores a (sender, clock) once, and a snapshot drops what it covers', () =>
      withStore(async (s) => {
        await s.createRoom(room('r1'));
        await s.createRoom(room('r2'));
        await Promise.all([
          s.appendUpdate({ roomId: 'r1', sender: senderA, clock: 1, frame: frame('a1') }),
          s.appendUpdate({ roomId: 'r1', sender: senderB, clock: 1, frame: frame('b1') }),
          s.appendUpdate({ roomId: 'r2', sender: senderA, clock: 1, frame: frame('other room') }),
          s.appendUpdate({ roomId: 'r1', sender: senderA, clock: 2, frame: frame('a2') }),
        ]);
        // A repeated clock is stored once, whether the store says so (shared) or drops it silently (embedded).
        await s.appendUpdate({ roomId: 'r1', sender: senderA, clock: 2, frame: frame('a2 again') }).catch((e) => {
          assert.ok(e instanceof StoreRefusal && e.code === 'replay', String(e));
        });
        await s.appendUpdate({ roomId: 'r1', sender: senderA, clock: 3, frame: frame('a3') });
        await s.flush();
        assert.deepEqual((await s.loadRoomLog('r1')).updates.map(String), ['a1', 'b1', 'a2', 'a3']);
        assert.deepEqual([...(await s.senderClocks('r1'))].sort(), [
          [senderA.toString('hex'), 3],
          [senderB.toString('hex'), 1],
        ]);
        assert.deepEqual((await s.updatesBetween('r1', senderA, 1, 3)).map(String), ['a2', 'a3']);
        assert.equal(await s.storedBytes('r1'), 8);
        assert.equal((await s.logBytesBySender()).get(senderA.toString('hex')), 6 + 'other room'.length);
        assert.equal((await s.logBytesBySender('r1')).get(senderB.toString('hex')), 2);

        await s.putSnapshot({
          roomId: 'r1',
          head: 1,
          frame: frame('snap'),
          covers: new Map([[senderA.toString('hex'), 2]]),
        });
        const log = await s.loadRoomLog('r1');
        assert.equal(log.head, 1);
        assert.equal(String(log.snapshot), 'snap');
        assert.deepEqual(log.updates.map(String), ['b1', 'a3']);
        assert.equal((await s.room('r1'))?.head, 1);
        // The dropped updates' clocks still count: a replay of clock 2 is not stored again.
        assert.equal((await s.senderClocks('r1')).get(senderA.toString('hex')), 3);
        assert.equal(await s.storedBytes('r1'), 4 + 4);
      }));
  });
}

describe('PostgreSQL store shared by several instances', { skip: missing ?? false }, () => {
  const open = async () => {
    const db = `shared_${process.pid}_${++schemaNo}`;
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: postgres!.url });
    await c.connect();
    await c.query(`CREATE DATABASE ${db}`);
    await c.end();
    const url = postgres!.url.replace(/\/postgres$/, `/${db}`);
    // Two stores starting together: the schema is created once, under an advisory lock.
    const [one, two] = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    await one.createRoom(room('r1'));
    return { one, two };
  };

  test('a clock is taken only as the next one: a gap and a replay are refused with what the log expects', async () => {
    const { one, two } = await open();
    try {
      await one.appendUpdate({ roomId: 'r1', sender: senderA, clock: 1, frame: frame('a1') });
      const gap = await two
        .appendUpdate({ roomId: 'r1', sender: senderA, clock: 3, frame: frame('a3') })
        .catch((e) => e);
      assert.ok(gap instanceof StoreRefusal, String(gap));
      assert.equal(gap.code, 'clock-gap');
      assert.equal(gap.expected, 2);
      const replay = await two
        .appendUpdate({ roomId: 'r1', sender: senderA, clock: 1, frame: frame('x') })
        .catch((e) => e);
      assert.equal((replay as StoreRefusal).code, 'replay');
      await two.appendUpdate({ roomId: 'r1', sender: senderA, clock: 2, frame: frame('a2') });
      assert.deepEqual((await one.loadRoomLog('r1')).updates.map(String), ['a1', 'a2']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('two instances racing the same (sender, clock) 50 times store each clock once, and one of them is refused', async () => {
    const { one, two } = await open();
    try {
      for (let clock = 1; clock <= 50; clock++) {
        const results = await Promise.allSettled([
          one.appendUpdate({ roomId: 'r1', sender: senderA, clock, frame: frame(`one ${clock}`) }),
          two.appendUpdate({ roomId: 'r1', sender: senderA, clock, frame: frame(`two ${clock}`) }),
        ]);
        const kept = results.filter((r) => r.status === 'fulfilled').length;
        assert.equal(kept, 1, `clock ${clock}: ${results.map((r) => r.status).join(', ')}`);
        const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.ok(refused.reason instanceof StoreRefusal && refused.reason.code === 'replay', String(refused.reason));
      }
      const log = (await two.loadRoomLog('r1')).updates.map(String);
      assert.equal(log.length, 50);
      assert.deepEqual(
        log.map((f) => Number(f.split(' ')[1])),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('a snapshot on a head another instance already moved is refused as stale-head, and the log is untouched', async () => {
    const { one, two } = await open();
    try {
      await one.appendUpdate({ roomId: 'r1', sender: senderA, clock: 1, frame: frame('a1') });
      const covers = new Map([[senderA.toString('hex'), 1]]);
      await one.putSnapshot({ roomId: 'r1', head: 1, frame: frame('one'), covers });
      await two.appendUpdate({ roomId: 'r1', sender: senderA, clock: 2, frame: frame('a2') });
      const stale = await two
        .putSnapshot({ roomId: 'r1', head: 1, frame: frame('two'), covers: new Map([[senderA.toString('hex'), 2]]) })
        .catch((e) => e);
      assert.ok(stale instanceof StoreRefusal && stale.code === 'stale-head', String(stale));
      assert.equal(stale.expected, 1);
      const log = await two.loadRoomLog('r1');
      assert.equal(String(log.snapshot), 'one');
      assert.deepEqual(log.updates.map(String), ['a2']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
