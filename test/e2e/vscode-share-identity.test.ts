// Kyozo Share's identity and teams in a real VS Code (code-server 4.100.3) against a real sync server on 127.0.0.1.
// In the editor (share-identity-suite.ts): create an account, sign in, create a team, invite as member. In this
// process, a second user on a device of its own (a real HTTP peer) joins with the copied link. Back in the editor: the
// member list shows both fingerprints, verify, change role, remove (the room the removed admin made gets a new key and
// their API calls fail), bad invites refused with a sentence, sign out revokes and forgets the token. The token and
// password never appear in settings, logs or any file of the user-data dir; the trust file is 0600.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import Database from 'better-sqlite3';
import { joinLink, parseInvite } from '../../extension/src/share/join-uri';
import { fingerprint, newRoomKey, SyncApiError, wrapRoomKey } from '../../sync-server/src/client';
import { OperatorDb } from '../support/hostile-server';
import { createUser, startTestServer, verifyDevices, type TestServer } from '../support/sync-harness';
import {
  bundleSuite,
  openBrowser,
  repoRoot,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
  codeServerMissing,
  waitFile,
} from './vscode/harness';

const artefacts = join(repoRoot, 'test-results');
const PASSWORD = 'correct horse battery staple';

/** Waits for the suite's signal file; a suite that failed (results.json has an error) ends the wait at once. */
/** Every file under `dir` (below 20 MB) whose bytes contain one of `needles`, as path: needle. */
function filesHolding(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 20_000_000) {
        const bytes = readFileSync(p);
        for (const n of needles) if (bytes.includes(n)) hits.push(`${p}: ${n.slice(0, 6)}…`);
      }
    }
  };
  walk(dir);
  return hits;
}

const BELL = '.statusbar-item[id*="notifications"] a, .codicon-bell, .codicon-bell-dot';

/**
 * The notification holding `text`: its toast, or, once the toast has timed out (15 s for information; a loaded
 * machine can take that long between two steps), its entry in the notification center, opened for the look.
 */
async function notification(page: Page, text: string): Promise<{ item: Locator; done(): Promise<void> }> {
  const toast = page.locator('.notification-toast', { hasText: text }).first();
  if (
    await toast.waitFor({ timeout: 3000 }).then(
      () => true,
      () => false,
    )
  ) {
    await page.waitForTimeout(600); // the toast's fade-in, for the screenshot
    return { item: toast, done: async () => undefined };
  }
  await page.locator(BELL).first().click({ force: true });
  const item = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  await item.waitFor({ timeout: 30_000 });
  return { item, done: () => page.locator(BELL).first().click({ force: true }) };
}

async function rejects(p: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof SyncApiError && e.status === status);
}

test(
  'Kyozo Share in VS Code: account, team, invite, join, members, role, removal, sign out',
  { timeout: 420_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-share-')));
    const folder = join(base, 'project');
    const signals = join(base, 'signals');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'README.md'), '# a project\n');
    mkdirSync(signals, { recursive: true });
    mkdirSync(artefacts, { recursive: true });
    const suite = await bundleSuite(base, 'share-identity-suite.ts');

    const live: { server?: TestServer; cs?: CodeServer; closeBrowser?: () => Promise<void>; db?: Database.Database } =
      {};
    t.after(async () => {
      live.db?.close();
      await live.closeBrowser?.();
      await live.cs?.stop();
      await live.server?.stop();
      rmSync(base, { recursive: true, force: true });
    });
    const server = await startTestServer();
    live.server = server;
    const db = new Database(join(server.dataDir, 'sync.db'), { readonly: true });
    live.db = db;
    const tokensOf = (username: string) =>
      (
        db
          .prepare('SELECT count(*) AS n FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.username = ?')
          .get(username) as { n: number }
      ).n;

    const cs = await startCodeServer(folder, {
      KYOZO_E2E_DIR: signals,
      KYOZO_SHARE_SERVER: server.url,
      KYOZO_SHARE_PASSWORD: PASSWORD,
    });
    live.cs = cs;
    const args = cs.process.spawnargs;
    const userData = args[args.indexOf('--user-data-dir') + 1];
    const { browser, page } = await openBrowser();
    live.closeBrowser = () => browser.close();
    const resultsFile = join(signals, 'results.json');
    const results = () => (existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '(no results yet)');
    const why = () => `results: ${results()}\ncode-server: ${cs.output().slice(-3000)}`;
    const send = (name: string, body: unknown) => writeFileSync(join(signals, name), JSON.stringify(body));
    await page.goto(workbenchUrl(cs, folder, suite));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await waitFile(join(signals, 'invited'), 180_000, why);

    // Signed in: the setting holds the server (user settings), the device has a fingerprint, the server one token.
    const r1 = JSON.parse(results());
    assert.match(
      r1.beforeSignIn,
      /cannot create the team: no sync server is set: set kyozo\.sync\.server in your user settings/,
    );
    assert.equal(r1.created.username, 'alice');
    assert.match(r1.wrongPassword, /wrong username or password .* "Kyozo Share: Create Account"/);
    assert.equal(r1.signedIn.userId, r1.created.userId);
    assert.match(r1.fingerprint.fingerprint, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    assert.equal(r1.fingerprint.fingerprint, r1.signedIn.fingerprint);
    assert.equal(r1.fingerprint.signedInAs, 'alice', 'read back from SecretStorage');
    assert.equal(r1.serverSetting.globalValue, server.url);
    assert.equal(r1.serverSetting.workspaceValue, undefined);
    assert.equal(tokensOf('alice'), 1, 'signing in again revoked the token made with the account');
    assert.match(r1.invite.link, /^vscode:\/\/kyozo\.kyozo\/join\?server=/);
    assert.equal(r1.clipboard, r1.invite.link, 'the link is on the clipboard');
    assert.equal(r1.invite.role, 'member');

    // The second device joins with the link, as a user pasting it would.
    const bob = await createUser(server, 'bob');
    const parsed = parseInvite(r1.clipboard);
    assert.equal(parsed.server, server.url);
    const joined = await bob.api.acceptInvite(parsed.invite);
    assert.deepEqual(joined, { teamId: r1.team.teamId, role: 'member' });
    const bobFp = fingerprint(bob.identity.signPublicKey, bob.identity.dhPublicKey);
    send('joined', { userId: bob.userId, fingerprint: bobFp });
    await waitFile(join(signals, 'role-changed'), 60_000, why);

    // Both members with their fingerprints; bob verified, then raised to admin on the server and in the signed roster.
    const r2 = JSON.parse(results());
    type Listed = {
      members: { username: string; role: string; you: boolean; devices: { fingerprint: string; state: string }[] }[];
    };
    const shown = (l: Listed) =>
      l.members
        .map(
          (m) =>
            `${m.username} ${m.role}${m.you ? ' (you)' : ''}: ${m.devices.map((d) => `${d.fingerprint} ${d.state}`)}`,
        )
        .sort();
    assert.deepEqual(shown(r2.members), [
      `alice owner (you): ${r1.fingerprint.fingerprint} verified`,
      `bob member: ${bobFp} unverified`,
    ]);
    assert.equal(r2.verified.state, 'verified');
    assert.deepEqual(shown(r2.membersAfterRole), [
      `alice owner (you): ${r1.fingerprint.fingerprint} verified`,
      `bob admin: ${bobFp} verified`,
    ]);
    // The Manage Members quick pick, as the user sees it: each member with role and device fingerprint and state.
    const rows = page.locator('.quick-input-widget .monaco-list-row');
    await page.waitForFunction(
      () => document.querySelectorAll('.quick-input-widget .monaco-list-row').length === 2,
      undefined,
      { timeout: 30_000 },
    );
    const picked = (await rows.allTextContents()).join('\n');
    for (const text of [
      'alice (you)',
      'owner',
      `${r1.fingerprint.fingerprint} · verified`,
      'bob',
      'admin',
      `${bobFp} · verified`,
    ]) {
      assert.ok(picked.includes(text), `${text} in ${picked}`);
    }
    await page.screenshot({ path: join(artefacts, 'vscode-share-members.png') });
    // Picking bob shows his whole fingerprint and what can be done (left open: the suite clears it later).
    await rows.filter({ hasText: 'bob' }).click();
    const card = await notification(page, 'bob · admin');
    const cardText = (await card.item.locator('.notification-list-item-message').textContent()) ?? '';
    assert.ok(cardText.includes(`device 1 (verified): ${bobFp}`), cardText);
    assert.deepEqual(await card.item.locator('.monaco-button').allTextContents(), ['Change Role…', 'Remove…']);
    await page.screenshot({ path: join(artefacts, 'vscode-share-member.png') });
    await card.done();
    const roster = await bob.api.syncRoster(r1.team.teamId, bob.trust);
    assert.equal(bob.trust.roleOf(r1.team.teamId, bob.identity.signPublicKey), 'admin', `roster v${roster?.version}`);
    const { room } = await bob.api.createRoom(r1.team.teamId, 'notes', bob.identity);
    assert.equal(room.keyEpoch, 1);
    send('room-made', { roomId: room.id });
    await waitFile(join(signals, 'removed'), 60_000, why);

    // Removed: the room got a new key, bob's calls fail, bad invites were refused with what to do.
    const r3 = JSON.parse(results());
    assert.equal(r3.memberPick, null, 'the member card was cleared without a choice: nothing done');
    assert.deepEqual(r3.removal.rotated, [{ roomId: room.id, epoch: 2 }]);
    assert.deepEqual(shown(r3.membersAfterRemoval), [`alice owner (you): ${r1.fingerprint.fingerprint} verified`]);
    await rejects(bob.api.members(r1.team.teamId), 404);
    await rejects(bob.api.room(room.id), 404);
    await rejects(bob.api.invite(r1.team.teamId, 'member'), 404);
    assert.match(r3.badInvites.garbage, /cannot join the team: this is not a Kyozo invite/);
    assert.match(r3.badInvites.own, /cannot join the team: you are already a member of this team\.$/);
    assert.match(r3.badInvites.otherServer, /the invite is for https:\/\/sync\.example\.com and you use http:\/\/127/);
    assert.equal(r3.serverAfterForeignLink, server.url, 'a foreign link changed nothing');

    // What the user sees: the fingerprint notification with its Copy button.
    const shownFp = await notification(page, `fingerprint is ${r1.fingerprint.fingerprint}`);
    assert.deepEqual(await shownFp.item.locator('.monaco-button').allTextContents(), ['Copy']);
    await page.screenshot({ path: join(artefacts, 'vscode-share-fingerprint.png') });
    await shownFp.done();

    // No token or password in any file VS Code keeps for this profile (settings, logs, state) or in the workspace.
    const tokens = db.prepare('SELECT hash FROM tokens').all();
    assert.equal(tokens.length, 2, 'alice and bob hold one token each');
    const leaks = [...filesHolding(userData, ['kyz_', PASSWORD]), ...filesHolding(folder, ['kyz_', PASSWORD])];
    assert.deepEqual(leaks, []);
    const trustDir = join(userData, 'User', 'globalStorage', 'kyozo.kyozo', 'share');
    const trustFiles = readdirSync(trustDir);
    assert.equal(trustFiles.length, 1, trustFiles.join(', '));
    assert.equal(statSync(join(trustDir, trustFiles[0])).mode & 0o777, 0o600);
    assert.match(
      readFileSync(join(trustDir, trustFiles[0]), 'utf8'),
      new RegExp(bob.identity.signPublicKey.toString('base64').replace(/[+/]/g, '.')),
    );

    // A second team, owned here by dave, with carol a verified member and a room; the operator of the server adds a key
    // wrap for alice's device signed by carol, who is no admin, as a server could try to hand out a key of its choosing.
    const dave = await createUser(server, 'dave');
    const carol = await createUser(server, 'carol');
    const ops = await dave.api.createTeam('Ops');
    await carol.api.acceptInvite((await dave.api.invite(ops.id, 'member')).invite);
    await verifyDevices(dave, ops.id, [carol]);
    const { room: opsRoom } = await dave.api.createRoom(ops.id, 'ops', dave.identity, dave.trust);
    const aliceKeys = db
      .prepare(
        'SELECT sign_pub AS sign, dh_pub AS dh FROM device_keys k JOIN users u ON u.id = k.user_id WHERE u.username = ?',
      )
      .get('alice') as { sign: Buffer; dh: Buffer };
    const forged = wrapRoomKey(
      opsRoom.id,
      1,
      newRoomKey(),
      { signPublicKey: aliceKeys.sign, dhPublicKey: aliceKeys.dh },
      carol.identity,
    );
    const operator = new OperatorDb(server.dataDir);
    operator.putWrap(opsRoom.id, 1, aliceKeys.sign, forged);
    operator.close();
    const opsLink = joinLink('kyozo.kyozo', server.url, (await dave.api.invite(ops.id, 'viewer')).invite);
    send('checked', { link: opsLink });
    await waitFile(join(signals, 'joined-second'), 60_000, why);

    const r5 = JSON.parse(results());
    assert.deepEqual(r5.joinedSecond, {
      teamId: ops.id,
      role: 'viewer',
      server: server.url,
      rooms: [{ roomId: opsRoom.id, name: 'ops', epochs: [] }],
    });
    const carolFp = fingerprint(carol.identity.signPublicKey, carol.identity.dhPublicKey);
    const refused = await notification(page, 'refused a room key');
    const refusedText = (await refused.item.locator('.notification-list-item-message').textContent()) ?? '';
    assert.ok(refusedText.includes(`signed by device ${carolFp} (carol)`), refusedText);
    assert.equal(await refused.item.locator('.codicon-error').count(), 1, 'shown as an error');
    await page.screenshot({ path: join(artefacts, 'vscode-share-wrap-refused.png') });
    await refused.done();
    send('checked-second', {});
    await waitFile(join(signals, 'done'), 60_000, why);

    // Signed out: the token is revoked on the server and gone from SecretStorage; team commands say to sign in.
    const r4 = JSON.parse(results());
    assert.equal(r4.error, undefined, r4.error);
    assert.equal(r4.signOut.signedOut, true);
    assert.equal(r4.fingerprintAfterSignOut.signedInAs, undefined);
    assert.equal(r4.fingerprintAfterSignOut.fingerprint, r1.fingerprint.fingerprint, 'the device keeps its keys');
    assert.match(r4.afterSignOut, /you are not signed in to/);
    assert.equal(tokensOf('alice'), 0);
    assert.equal(r4.ok, true);
  },
);
