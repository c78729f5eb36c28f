// What a device trusts survives restarts in a file only its user can read and write, and the Share UI's operations
// (list devices with fingerprints and states, verify, unverify, pin) do what they say. Real files on disk: a file
// open to other users, a symlink, a FIFO, a folder and broken JSON are refused with what to do, never used or hung on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  createIdentity,
  DeviceTrust,
  fingerprint,
  JsonFileTrustStore,
  MemoryTrustStore,
  RosterError,
  signRoster,
  TrustStoreError,
  type DeviceIdentity,
  type RosterMember,
  type TrustStore,
  type TrustWarning,
} from '../../sync-server/src/client';

const dir = mkdtempSync(join(tmpdir(), 'kyozo-trust-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const owner = createIdentity();
const admin = createIdentity();
const member = createIdentity();
const me = createIdentity();
const fp = (d: DeviceIdentity) => fingerprint(d.signPublicKey, d.dhPublicKey);
const ann: RosterMember = { userId: 'u-ann', username: 'ann', role: 'member', devices: [member] };
const adam: RosterMember = { userId: 'u-adam', username: 'adam', role: 'admin', devices: [admin] };
const olga: RosterMember = { userId: 'u-owner', username: 'olga', role: 'owner', devices: [owner] };
const storeError = (re: RegExp) => (e: unknown) => e instanceof TrustStoreError && re.test(e.message);
const team = (version: number, extra: RosterMember[] = [], signer = owner) =>
  signRoster(
    'team1',
    version,
    [olga, { userId: 'u-me', username: 'me', role: 'member', devices: [me] }, ...extra],
    signer,
  );

async function opened(store: TrustStore = new MemoryTrustStore()) {
  const trust = await DeviceTrust.open(store, me);
  const warnings: TrustWarning[] = [];
  trust.on('warning', (w: TrustWarning) => warnings.push(w));
  return { trust, warnings };
}

test('verified and pinned devices and the newest roster survive a restart, in a file for its user only', async () => {
  const path = join(dir, 'nested', 'trust.json');
  const first = await opened(new JsonFileTrustStore(path));
  await first.trust.acceptRoster('team1', team(1).blob);
  assert.equal(first.warnings[0].kind, 'pinned-on-first-use');
  await first.trust.acceptRoster('team1', team(2, [ann]).blob);
  await first.trust.verify(fp(member));
  await first.trust.flushed();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'nested')).mode & 0o777, 0o700);

  const again = await opened(new JsonFileTrustStore(path));
  assert.equal(again.trust.device(fp(owner))?.state, 'pinned');
  assert.equal(again.trust.device(fp(member))?.state, 'verified');
  assert.equal(again.trust.roster('team1')?.version, 2);
  // The server cannot roll the roster back after the restart either.
  const rollback = (e: unknown) => e instanceof RosterError && e.reason === 'rollback';
  await assert.rejects(again.trust.acceptRoster('team1', team(1).blob), rollback);
  assert.equal(again.warnings.at(-1)?.reason, 'rollback');
  assert.equal(again.trust.canWrite('team1', member.signPublicKey), true);
});

test('a trust file open to others, a symlink, a FIFO, a folder or broken JSON is refused with what to do', async () => {
  const open = (path: string) => DeviceTrust.open(new JsonFileTrustStore(path), me);
  const wide = join(dir, 'wide.json');
  await new JsonFileTrustStore(wide).save({ format: 1, devices: [], rosters: [] });
  chmodSync(wide, 0o644);
  await assert.rejects(open(wide), storeError(/mode 644.*chmod 600/));
  const link = join(dir, 'link.json');
  symlinkSync('/etc/passwd', link);
  await assert.rejects(open(link), storeError(/symlink/));
  const fifo = join(dir, 'fifo.json');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  await assert.rejects(open(fifo), storeError(/not a regular file/));
  const folder = join(dir, 'folder.json');
  mkdirSync(folder, { mode: 0o700 });
  await assert.rejects(open(folder), storeError(/not a regular file/));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"format":1,"devi', { mode: 0o600 });
  await assert.rejects(open(broken), storeError(/not valid JSON.*restore it or remove it/));
  const other = join(dir, 'other.json');
  writeFileSync(other, '{"devices":{}}', { mode: 0o600 });
  await assert.rejects(open(other), storeError(/not a format-1 trust snapshot/));
  const badKey = join(dir, 'bad-key.json');
  const devices = [{ signPublicKey: 'AAAA', dhPublicKey: 'AAAA', state: 'verified' }];
  writeFileSync(badKey, JSON.stringify({ format: 1, devices, rosters: [] }), { mode: 0o600 });
  await assert.rejects(open(badKey), storeError(/malformed device entry/));
});

test('the Share UI lists devices with fingerprints and states; verify, unverify and pin change the trust', async () => {
  const { trust, warnings } = await opened();
  let changes = 0;
  trust.on('changed', () => changes++);
  const own = trust.devices().find((d) => d.own)!;
  assert.deepEqual([own.fingerprint, own.state], [fp(me), 'verified']);
  await assert.rejects(trust.unverify(fp(me)), /own key/);
  const unknown = '0000 1111 2222 3333 4444 5555 6666 7777 8888 9999 aaaa bbbb cccc dddd eeee ffff';
  await assert.rejects(trust.verify(unknown), /no known device .*list the team's devices first/);

  // A device the server lists is known but not trusted until the user says so.
  assert.equal(await trust.observe(admin.signPublicKey, admin.dhPublicKey, { userId: 'u-adam' }), true);
  assert.equal(trust.device(fp(admin))?.state, 'unverified');
  assert.equal(trust.wrapsTo(admin.signPublicKey), false);
  await trust.verify(fp(admin).toUpperCase().replace(/ /g, ''));
  assert.equal(trust.wrapsTo(admin.signPublicKey), true);

  await trust.acceptRoster('team1', team(1, [adam]).blob);
  assert.deepEqual(trust.device(fp(owner))?.teams, [{ teamId: 'team1', role: 'owner' }]);
  assert.equal(trust.canWrap('team1', admin.signPublicKey), true);
  await trust.unverify(fp(admin));
  assert.equal(trust.canWrap('team1', admin.signPublicKey), false, 'an unverified admin hands out no keys');
  assert.equal(trust.wrapsTo(admin.signPublicKey, 'trusted'), false, 'and gets none');
  await trust.acceptRoster('team1', team(2, [adam]).blob);
  assert.equal(trust.device(fp(admin))?.state, 'unverified', 'a new roster does not pin it again');
  await trust.pin(fp(admin));
  assert.equal(trust.canWrap('team1', admin.signPublicKey), true);
  assert.equal(trust.wrapsTo(admin.signPublicKey), false, 'pinned is not verified: no key goes to it by default');
  assert.equal(trust.wrapsTo(admin.signPublicKey, 'trusted'), true);
  assert.ok(changes >= 6, `the UI heard of every change (${changes})`);

  // The server shows the admin's signing key with another X25519 key: refused, with both fingerprints.
  const swapped = createIdentity();
  assert.equal(await trust.observe(admin.signPublicKey, swapped.dhPublicKey), false);
  const w = warnings.at(-1)!;
  const seen = fingerprint(admin.signPublicKey, swapped.dhPublicKey);
  assert.deepEqual([w.kind, w.fingerprint, w.seenFingerprint], ['fingerprint-changed', fp(admin), seen]);
  assert.equal(trust.device(admin.signPublicKey)?.fingerprint, fp(admin));
});

test("rosters: a fork, another team's, a signer without authority, a changed key, a bad blob: refused", async () => {
  const { trust, warnings } = await opened();
  const reason = (r: RosterError['reason']) => (e: unknown) => e instanceof RosterError && e.reason === r;
  await assert.rejects(trust.acceptRoster('team1', team(1, [], member).blob), reason('untrusted-signer'));
  await trust.acceptRoster('team1', team(1).blob);
  assert.equal(warnings.filter((w) => w.kind === 'pinned-on-first-use').length, 1);
  await trust.acceptRoster('team1', team(1).blob); // the same roster again: nothing to do
  const fork = signRoster('team1', 1, [olga], owner);
  await assert.rejects(trust.acceptRoster('team1', fork.blob), reason('fork'));
  await assert.rejects(trust.acceptRoster('team2', team(2).blob), reason('other-team'));
  // An admin named by a roster the owner did not sign cannot sign the next one.
  const usurper = signRoster('team1', 2, [olga, adam], admin);
  await assert.rejects(trust.acceptRoster('team1', usurper.blob), reason('untrusted-signer'));
  // ...but one the owner made admin can.
  await trust.acceptRoster('team1', team(2, [adam]).blob);
  await trust.acceptRoster('team1', team(3, [adam], admin).blob);
  const swappedOwner = { signPublicKey: owner.signPublicKey, dhPublicKey: admin.dhPublicKey };
  const changedKey = signRoster('team1', 4, [{ ...olga, devices: [swappedOwner] }], owner);
  await assert.rejects(trust.acceptRoster('team1', changedKey.blob), reason('fingerprint-changed'));
  const bent = Buffer.from(team(5).blob);
  bent[10] ^= 1;
  await assert.rejects(trust.acceptRoster('team1', bent), reason('bad-signature'));
  await assert.rejects(trust.acceptRoster('team1', Buffer.alloc(40)), reason('malformed'));
  assert.equal(trust.roster('team1')?.version, 3, 'the last roster accepted stays in force');
  assert.ok(warnings.filter((w) => w.kind === 'roster-refused').length >= 7);
});
