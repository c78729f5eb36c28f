// Share Workspace and Join Shared Workspace in a real VS Code (code-server 4.100.3) against a real sync server on
// 127.0.0.1. Phase 1: the window HOSTS a temp folder (text files and a binary, which is listed as excluded); the GUEST
// is this process, a Node peer on the client library and workspace-doc.ts. It types into two shared texts (one open in
// the host's editor before sharing, one opened after) and creates and renames a file: the host's documents and its
// disk end with the guest's text and the new file. Stop Sharing sets the document's ended flag. Phase 2: a Node host
// fills two rooms; the window JOINS them (as member and as viewer): the kyozo-share: folder lists the files, a file
// opens with its text, typing reaches the Node host's Y.Text and the host's edit reaches the editor, a new file
// reaches the host, the viewer's writes fail with NoPermissions, and when the host stops, the file system is read-only.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { parseShareLink, shareLink } from '../../extension/src/share/share-link';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';
import { fingerprint } from '../../sync-server/src/client';
import {
  createUser,
  openProvider,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';
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

const PASSWORD = 'correct horse battery staple';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readOr = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

/** A team `owner` made, with the window's user invited as `role`. */
async function teamWithInvite(owner: TestUser, name: string, role: string) {
  const team = await owner.api.createTeam(name);
  await owner.api.publishRoster(team.id, owner.identity, owner.trust);
  const { invite } = await owner.api.invite(team.id, role);
  return { teamId: team.id, invite };
}

/** A room of `teamId` keyed to every device of the team (verified first), filled as a host would fill it. */
async function nodeHostRoom(server: TestServer, owner: TestUser, teamId: string) {
  for (const d of await owner.api.teamDevices(teamId, owner.trust))
    if (d.userId !== owner.userId) await owner.trust.verify(d.fingerprint);
  const { room } = await owner.api.createRoom(teamId, 'workspace node', owner.identity, owner.trust);
  const p = await openProvider(server, owner, room.id);
  await p.provider.whenSynced();
  const w = new WorkspaceDoc(p.doc);
  p.doc.transact(() => {
    w.initLayout();
    w.meta.set('host', owner.name);
    w.createFile('a.txt', { text: 'hello from node\n' });
    w.createFile('src/b.ts', { text: 'export const b = 1;\n' });
    w.createFile('logo.png', { excluded: { reason: 'binary', detail: 'holds a NUL byte' }, size: 10 });
  });
  await p.provider.whenAcked();
  return {
    roomId: room.id,
    w,
    provider: p.provider,
    keyring: p.keyring,
    link: shareLink('kyozo.kyozo', server.url, room.id),
  };
}

test(
  'Kyozo Share in VS Code: share a workspace with a Node guest, join a Node host',
  { timeout: 240_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-sharews-')));
    const folder = join(base, 'project');
    const signals = join(base, 'signals');
    mkdirSync(join(folder, 'src'), { recursive: true });
    mkdirSync(signals, { recursive: true });
    writeFileSync(join(folder, 'note.txt'), 'note\n');
    writeFileSync(join(folder, 'later.txt'), 'later\n');
    writeFileSync(join(folder, 'src', 'app.ts'), 'export const app = 1;\n');
    writeFileSync(join(folder, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3]));
    const suite = await bundleSuite(base, 'share-workspace-suite.ts');

    const live: { server?: TestServer; cs?: CodeServer; closeBrowser?: () => Promise<void> } = {};
    t.after(async () => {
      await live.closeBrowser?.();
      await live.cs?.stop();
      await live.server?.stop();
      rmSync(base, { recursive: true, force: true });
    });
    const server = await startTestServer();
    live.server = server;
    const cs = await startCodeServer(folder, {
      KYOZO_E2E_DIR: signals,
      KYOZO_SHARE_SERVER: server.url,
      KYOZO_SHARE_PASSWORD: PASSWORD,
    });
    live.cs = cs;
    const { browser, page } = await openBrowser();
    live.closeBrowser = () => browser.close();
    const resultsFile = join(signals, 'results.json');
    const results = () => (existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '(no results yet)');
    const why = () => `results: ${results()}\ncode-server: ${cs.output().slice(-3000)}`;
    // Written whole (a temporary file, then a rename), as the suite polls for it.
    const send = (name: string, body: unknown) => {
      writeFileSync(join(signals, `${name}.tmp`), JSON.stringify(body));
      renameSync(join(signals, `${name}.tmp`), join(signals, name));
    };
    await page.goto(workbenchUrl(cs, folder, suite));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

    // ---- phase 1: the window hosts, this process is the guest ----
    await waitFile(join(signals, 'invited'), 120_000, why);
    const phase1 = Date.now();
    const r1 = JSON.parse(results());
    assert.match(r1.notSignedIn.error, /cannot share the workspace: no sync server is set|not signed in/);
    const bob = await createUser(server, 'bob');
    await bob.api.acceptInvite(r1.invite);
    send('joined', { fingerprint: fingerprint(bob.identity.signPublicKey, bob.identity.dhPublicKey) });
    await waitFile(join(signals, 'shared'), 60_000, why);
    const r2 = JSON.parse(results());
    assert.equal(r2.clipboard, r2.share.link, 'the join link is on the clipboard');
    assert.match(r2.share.link, /^vscode:\/\/kyozo\.kyozo\/share\?server=/);
    const parsed = parseShareLink(r2.share.link);
    assert.deepEqual(parsed, { server: server.url, roomId: r2.share.roomId });
    assert.deepEqual(r2.share.excluded, [{ path: 'image.bin', reason: 'binary' }]);
    assert.equal(r2.share.shared, 3);

    const doc = new Y.Doc();
    const awareness = new Awareness(doc);
    awareness.setLocalState({ user: { name: 'bob' } });
    const guest = await openProvider(server, bob, parsed.roomId, { awareness });
    await guest.provider.whenSynced();
    const w = new WorkspaceDoc(guest.doc);
    await waitFor(() => w.list().length >= 5, 'the host files in the guest doc', 10_000);
    assert.deepEqual(
      w.list().map((e) => `${e.path}${e.entry.excluded ? ` (${e.entry.excluded.reason})` : ''}`),
      ['image.bin (binary)', 'later.txt', 'note.txt', 'src', 'src/app.ts'],
    );
    assert.equal(w.textOf('note.txt')!.toString(), 'note\n');
    // The guest types into both texts, a keystroke at a time, then creates and renames a file.
    const note = w.textOf('note.txt')!;
    const later = w.textOf('later.txt')!;
    const t0 = Date.now();
    for (const ch of 'typed by bob') {
      note.insert(note.length, ch);
      later.insert(0, ch);
      await sleep(15);
    }
    w.createFile('made.txt', { text: 'made by the guest\n' });
    w.rename('made.txt', 'guest/renamed.txt');
    await guest.provider.whenAcked();
    send('typed', { note: note.toString(), later: later.toString() });
    await waitFor(
      () =>
        readOr(join(folder, 'note.txt')) === note.toString() &&
        readOr(join(folder, 'later.txt')) === later.toString() &&
        readOr(join(folder, 'guest', 'renamed.txt')) === 'made by the guest\n' &&
        !existsSync(join(folder, 'made.txt')),
      'the guest edits, the new and the renamed file on the host disk',
      20_000,
    ).catch((e) => {
      throw new Error(
        `${(e as Error).message}: note=${readOr(join(folder, 'note.txt'))} later=${readOr(join(folder, 'later.txt'))} ` +
          `renamed=${readOr(join(folder, 'guest', 'renamed.txt'))} made=${existsSync(join(folder, 'made.txt'))}; ${why()}`,
      );
    });
    const toDisk = Date.now() - t0;
    await waitFile(join(signals, 'seen'), 30_000, why);
    const r3 = JSON.parse(results());
    assert.equal(r3.hostNote, 'note\ntyped by bob');
    assert.equal(r3.hostLater, `${[...'typed by bob'].reverse().join('')}later\n`);
    assert.deepEqual(r3.hostState.bound.sort(), ['later.txt', 'note.txt']);
    assert.equal(r3.hostState.peers, 1, 'the guest is present');
    assert.equal(r3.hostState.status, '$(broadcast) Sharing · 1');
    send('checked', {});
    await waitFile(join(signals, 'stopped'), 30_000, why);
    await waitFor(() => w.meta.get('ended') !== undefined, 'the ended flag at the guest', 10_000);
    const rStop = JSON.parse(results());
    assert.equal(rStop.again.roomId, r2.share.roomId, 'the folder room is reused');
    assert.equal(rStop.again.reused, true);
    guest.provider.destroy();
    console.log(
      `# phase 1 (host): share took ${r2.shareMs} ms; 12 keystrokes x2 + create + rename on the host disk after ` +
        `${toDisk} ms; phase ${Date.now() - phase1} ms`,
    );

    // ---- phase 2: a Node host, the window joins ----
    const phase2 = Date.now();
    const carol = await createUser(server, 'carol');
    const member = await teamWithInvite(carol, 'Node team', 'member');
    const viewer = await teamWithInvite(carol, 'Node viewers', 'viewer');
    send('invites2', { member: member.invite, viewer: viewer.invite });
    await waitFile(join(signals, 'joined-teams'), 30_000, why);
    const m = await nodeHostRoom(server, carol, member.teamId);
    const v = await nodeHostRoom(server, carol, viewer.teamId);
    const k = await nodeHostRoom(server, carol, member.teamId);
    send('rooms', { member: m.link, viewer: v.link, rotate: k.link });
    await waitFile(join(signals, 'guest-typed'), 60_000, why);
    const r4 = JSON.parse(results());
    assert.match(r4.badLink.error, /cannot join the shared workspace: .*not a Kyozo share link/);
    assert.equal(r4.joined.role, 'member');
    assert.equal(r4.joined.readonly, false);
    assert.equal(r4.joined.folder, `kyozo-share:/${m.roomId}/`);
    assert.deepEqual(r4.rootListing, [
      ['a.txt', 1],
      ['logo.png', 1],
      ['src', 2],
    ]);
    assert.deepEqual(r4.srcListing, [['b.ts', 1]]);
    assert.match(r4.excludedRead, /logo\.png is listed but not shared by the host \(binary: holds a NUL byte\)/);
    assert.equal(r4.joinedState.status, '$(broadcast) Joined carol');
    assert.equal(r4.guestOpened, 'hello from node\n');
    assert.equal(r4.guestTyped, 'hello from node\n typed by the guest');
    const a = m.w.textOf('a.txt')!;
    await waitFor(() => a.toString() === r4.guestTyped, 'the typing at the Node host', 10_000);
    a.insert(0, '[host] ');
    send('host-edited', { a: a.toString() });
    await waitFile(join(signals, 'guest-done'), 60_000, why);
    const r5 = JSON.parse(results());
    assert.equal(r5.guestAfterHostEdit, '[host] hello from node\n typed by the guest');
    await waitFor(() => m.w.textOf('src/new.ts')?.toString() === 'export {};\n', 'the new file at the host', 10_000);
    assert.deepEqual(r5.folders, ['project file://' + folder, `carol (Kyozo Share) kyozo-share:/${v.roomId}/`]);
    assert.equal(r5.viewer.role, 'viewer');
    assert.equal(r5.viewer.readonly, true);
    assert.equal(r5.viewerRead, 'hello from node\n');
    assert.match(JSON.stringify(r5.viewerWrite), /NoPermissions|viewer/);
    assert.match(JSON.stringify(r5.viewerDelete), /NoPermissions/);
    assert.equal(v.w.textOf('a.txt')!.toString(), 'hello from node\n', 'the viewer changed nothing');
    assert.equal(v.w.entry('a.txt') !== undefined, true);
    // The Node host stops sharing: the guest is told and its file system turns read-only.
    m.w.doc.transact(() => m.w.meta.set('ended', { at: Date.now(), reason: 'stopped by the host' }));
    await m.provider.whenAcked();
    send('host-stopped', {});
    await waitFile(join(signals, 'end-checked'), 60_000, why);
    const rEnd = JSON.parse(results());
    assert.equal(a.toString(), '[host] hello from node\n typed by the guest', 'nothing reached the host after the end');
    assert.match(rEnd.afterEnd.status, /Share ended/);
    // carol removes the window's user from the viewer team: the server closes the socket, the guest is told.
    const aliceId = (await carol.api.members(viewer.teamId)).find((x) => x.userId !== carol.userId)!.userId;
    const tRemove = Date.now();
    await carol.api.removeMember(viewer.teamId, aliceId, carol.identity, carol.trust);
    send('removed', {});
    // carol gives a third room a new key wrapped to her device alone: the window can no longer open its updates.
    await carol.api.rotateRoomKey(k.roomId, member.teamId, carol.identity, k.keyring);
    send('rotated', {});
    const end = Date.now() + 60_000;
    while (!('finishedAt' in JSON.parse(results())) && !('error' in JSON.parse(results()))) {
      if (Date.now() > end) throw new Error(`the suite did not finish: ${why()}`);
      await sleep(200);
    }
    const r6 = JSON.parse(results());
    assert.equal(r6.error, undefined, r6.error);
    const endedGuest = r6.afterEnd.guests.find((g: { roomId: string }) => g.roomId === m.roomId);
    assert.match(endedGuest.ended, /carol stopped sharing/);
    assert.equal(endedGuest.readonly, true);
    assert.match(JSON.stringify(r6.writeAfterEnd), /NoPermissions|ended/);
    assert.equal(a.toString(), '[host] hello from node\n typed by the guest', 'nothing reached the host after the end');
    const removed = r6.afterRemoval.guests.find((g: { roomId: string }) => g.roomId === v.roomId);
    assert.equal(removed.ended, 'you were removed from the team');
    console.log(`# phase 2 (guest): ${Date.now() - phase2} ms; removal seen within ${Date.now() - tRemove} ms`);
    const rotated = r6.afterRotation.guests.find((g: { roomId: string }) => g.roomId === k.roomId);
    assert.equal(rotated.ended, "the room's key was rotated and this device was not given the new one");
    assert.equal(rotated.readonly, true);
    for (const x of [m, v, k]) x.provider.destroy();
  },
);
