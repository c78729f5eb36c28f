// Presence in a real VS Code (code-server 4.100.3) against a real sync server on 127.0.0.1, with this process as a Node
// peer on the client library. Phase 1: the window HOSTS a folder; bob (Node) puts his cursor in src/app.ts through the
// room's awareness: the window draws it with his name at the right character (read from the page), keeps it there when
// bob inserts a line above it, lists him in the Participants view (opened by clicking the status bar), follows him into
// another file and down it, stops following at a real key press, and goes to him. bob reads the window's own cursor from
// the room. Phase 2: the window JOINS carol's room (kyozo-share:) and draws carol's cursor there; carol reads the
// window's cursor under the same shared path. A screenshot with bob's named cursor: test-results/share-presence.png.
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
import type { Page } from 'playwright-core';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  colorOf,
  decodeSelections,
  encodeRange,
  encodeSelections,
  readPresence,
} from '../../extension/src/share/presence';
import { parseShareLink, shareLink } from '../../extension/src/share/share-link';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';
import { fingerprint } from '../../sync-server/src/client';
import { createUser, openProvider, startTestServer, waitFor, type TestServer } from '../support/sync-harness';
import {
  bundleSuite,
  codeServerMissing,
  openBrowser,
  repoRoot,
  startCodeServer,
  viewRows,
  waitFile,
  workbenchUrl,
  type CodeServer,
} from './vscode/harness';

const PASSWORD = 'correct horse battery staple';
const artefacts = join(repoRoot, 'test-results');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const APP = Array.from({ length: 40 }, (_, i) =>
  i === 4 ? 'const greeting = "hello";' : `export const line${i + 1} = ${i + 1};`,
).join('\n');
const NOTES = Array.from({ length: 200 }, (_, i) => `note ${i + 1}: ${'text '.repeat(4)}`).join('\n');

/** Every name tag drawn in the page's editors: the name, the text of its line, and the line's text before the tag. */
function nameTags(
  page: Page,
): Promise<{ name: string; line: string; before: string; color: string; x: number; y: number; h: number }[]> {
  return page.evaluate(() => {
    const out: { name: string; line: string; before: string; color: string; x: number; y: number; h: number }[] = [];
    for (const el of Array.from(document.querySelectorAll('.view-lines .view-line span'))) {
      const after = getComputedStyle(el, '::after');
      const content = after.content;
      if (!content || content === 'none' || content === 'normal' || content === '""') continue;
      const line = el.closest('.view-line')!;
      const r = document.createRange();
      r.setStart(line, 0);
      r.setEndBefore(el);
      out.push({
        name: content.replace(/^["']|["']$/g, ''),
        line: (line.textContent ?? '').replace(/\u00a0/g, ' '),
        before: r.toString().replace(/\u00a0/g, ' '),
        color: after.backgroundColor,
        // where the caret is: the tag's anchor sits at it, in the line's box
        x: el.getBoundingClientRect().left,
        y: line.getBoundingClientRect().top,
        h: line.getBoundingClientRect().height,
      });
    }
    return out;
  });
}

/** Polls an async condition (the page) every 100 ms. */
async function poll(cond: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

const rgb = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
};

test(
  'Kyozo Share presence in VS Code: named cursors, Participants view, Follow and Go to, as host and guest',
  { timeout: 300_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-presence-')));
    const folder = join(base, 'project');
    const signals = join(base, 'signals');
    mkdirSync(join(folder, 'src'), { recursive: true });
    mkdirSync(signals, { recursive: true });
    mkdirSync(artefacts, { recursive: true });
    writeFileSync(join(folder, 'src', 'app.ts'), `${APP}\n`);
    writeFileSync(join(folder, 'notes.md'), `${NOTES}\n`);
    const suite = await bundleSuite(base, 'share-presence-suite.ts');

    const live: { server?: TestServer; cs?: CodeServer; closeBrowser?: () => Promise<void>; destroy: (() => void)[] } =
      {
        destroy: [],
      };
    t.after(async () => {
      for (const d of live.destroy) d();
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
    const send = (name: string, body: unknown = {}) => {
      writeFileSync(join(signals, `${name}.tmp`), JSON.stringify(body));
      renameSync(join(signals, `${name}.tmp`), join(signals, name));
    };
    const tagsNamed = async (name: string, ms = 20_000) => {
      let last: Awaited<ReturnType<typeof nameTags>> = [];
      await poll(
        async () => {
          last = (await nameTags(page)).filter((x) => x.name === name);
          return last.length > 0;
        },
        `the name tag of ${name} in the editor`,
        ms,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}; tags: ${JSON.stringify(last)}; ${why()}`);
      });
      return last;
    };
    await page.goto(workbenchUrl(cs, folder, suite), { timeout: 120_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

    // ---- phase 1: the window hosts, bob is a Node guest ----
    await waitFile(join(signals, 'invited'), 120_000, why);
    const r1 = JSON.parse(results());
    const bob = await createUser(server, 'bob');
    await bob.api.acceptInvite(r1.invite);
    const bobFp = fingerprint(bob.identity.signPublicKey, bob.identity.dhPublicKey);
    send('joined', { fingerprint: bobFp });
    await waitFile(join(signals, 'shared'), 60_000, why);
    const r2 = JSON.parse(results());
    const { roomId } = parseShareLink(r2.share.link);
    const doc = new Y.Doc();
    const awareness = new Awareness(doc);
    const guest = await openProvider(server, bob, roomId, { awareness });
    live.destroy.push(() => guest.provider.destroy());
    await guest.provider.whenSynced();
    const w = new WorkspaceDoc(guest.doc);
    await waitFor(() => !!w.textOf('src/app.ts') && !!w.textOf('notes.md'), 'the shared files at bob', 10_000);
    const app = w.textOf('src/app.ts')!;
    const notes = w.textOf('notes.md')!;
    const bobState = (file: string, text: Y.Text, anchor: number, head: number, top = 0) => ({
      user: { name: 'bob', fingerprint: bobFp, color: colorOf(bobFp) },
      role: 'guest',
      file,
      selections: encodeSelections(text, [{ anchor, head }]),
      visible: encodeRange(text, top, Math.min(text.length, top + 400)),
      lastActive: Date.now(),
    });
    // bob selects "greeting" on line 5 (his head at its end)
    const g = app.toString().indexOf('greeting');
    const t0 = Date.now();
    awareness.setLocalState(bobState('src/app.ts', app, g, g + 'greeting'.length));

    // The window's own presence, read at bob's side: alice in src/app.ts with the selection the suite made.
    let alice: ReturnType<typeof readPresence>;
    await waitFor(
      () => {
        for (const [id, s] of awareness.getStates()) if (id !== awareness.clientID) alice = readPresence(s);
        return alice?.file === 'src/app.ts' && !!alice.selections?.length;
      },
      "the window's presence at bob",
      10_000,
    );
    assert.equal(alice!.user.name, 'alice');
    assert.equal(alice!.role, 'host');
    assert.equal(alice!.user.fingerprint, r1.fingerprint);
    assert.equal(alice!.user.color, colorOf(r1.fingerprint));
    assert.deepEqual(decodeSelections(app, alice!.selections), [r2.hostSelection]);

    // bob's cursor in the window: his name, on line 5, right after "const greeting", in his colour.
    const [tag] = await tagsNamed('bob');
    const drawnMs = Date.now() - t0;
    assert.equal(tag.line, 'const greeting = "hello";');
    assert.equal(tag.before, 'const greeting');
    assert.equal(tag.color, rgb(colorOf(bobFp)));

    // The status bar says Sharing · 1; a click on it opens the Participants view, which lists both.
    const status = page.locator('.statusbar-item', { hasText: 'Sharing · 1' });
    await status.waitFor({ timeout: 10_000 });
    await status.click();
    let rows: string[] = [];
    await poll(
      async () => {
        rows = await viewRows(page, 'Participants');
        return rows.some((r) => r.startsWith('bob'));
      },
      'bob in the Participants view',
      15_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: rows ${JSON.stringify(rows)}; ${why()}`);
    });
    assert.deepEqual(rows, [
      'alice (you), host · owner · src/app.ts · active',
      'bob, guest · member · src/app.ts · active',
    ]);
    await page.mouse.move(10, 10);
    await page.screenshot({ path: join(artefacts, 'share-presence.png') });
    // Hovering the character after bob's caret names him, with his roles and device.
    // The mouse goes to the tag where it is drawn now, and again every 2 s without a hover (the tag may be drawn
    // again meanwhile, or the first hover may be dropped on a loaded machine).
    let hoveredAt = 0;
    const pointAtTag = async () => {
      const [tagNow] = await tagsNamed('bob');
      await page.mouse.move(10, 10);
      await page.mouse.move(tagNow.x + 4, tagNow.y + tagNow.h / 2);
      hoveredAt = Date.now();
    };
    await pointAtTag();
    let hover = '';
    await poll(
      async () => {
        if (Date.now() - hoveredAt > 2000) await pointAtTag();
        hover = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.monaco-hover'))
            .map((h) => (h.textContent ?? '').replace(/\s+/g, ' '))
            .join(' | '),
        );
        return hover.includes('bob · guest, member · device');
      },
      "the hover of bob's cursor",
      10_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: hover text ${JSON.stringify(hover)}`);
    });
    assert.ok(hover.includes(bobFp), `the hover gives bob's fingerprint: ${hover}`);
    await page.screenshot({ path: join(artefacts, 'share-presence-hover.png') });
    await page.mouse.move(10, 10);

    // bob inserts a line above his cursor: the cursor stays on "greeting" (relative positions), now on line 6.
    app.insert(0, '// bob was here\n');
    await poll(
      () =>
        page.evaluate(() =>
          Array.from(document.querySelectorAll('.view-lines .view-line')).some(
            (l) => l.textContent?.replace(/\u00a0/g, ' ') === '// bob was here',
          ),
        ),
      "bob's inserted line in the window's editor",
      10_000,
    );
    let afterInsert: Awaited<ReturnType<typeof nameTags>> = [];
    await poll(
      async () => {
        afterInsert = (await nameTags(page)).filter((x) => x.name === 'bob');
        return afterInsert.some((x) => x.line === 'const greeting = "hello";' && x.before === 'const greeting');
      },
      'the tag after "const greeting" once the insert is in',
      10_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(afterInsert)}`);
    });

    // Follow bob: into notes.md, at line 30 (0-based 29) character 3, scrolled to line 25; then down to line 50.
    send('follow');
    await waitFile(join(signals, 'following'), 30_000, why);
    const rF = JSON.parse(results());
    assert.deepEqual(rF.follow, { name: 'bob', roomId });
    assert.match(rF.noOneNamed.error, /no participant nobody/);
    const lineStart = (text: string, line: number) => text.split('\n').slice(0, line).join('\n').length + 1;
    const n30 = lineStart(notes.toString(), 29) + 3;
    awareness.setLocalState(bobState('notes.md', notes, n30, n30, lineStart(notes.toString(), 24)));
    send('bob-moved', { where: 'notes.md:29:3', top: 24 });
    await waitFile(join(signals, 'followed-1'), 30_000, why);
    // Scrolled to bob's first visible line (24): VS Code keeps up to 5 lines above a line revealed at the top while
    // sticky scroll is on, so the window's first visible line is 19 to 24, and bob's cursor (line 29) is in view.
    const [[top, bottom]] = JSON.parse(results()).followedVisible as [number, number][];
    assert.ok(top >= 19 && top <= 24 && bottom > 29, `the window shows lines ${top}-${bottom}`);
    const n50 = lineStart(notes.toString(), 49) + 1;
    awareness.setLocalState(bobState('notes.md', notes, n50, n50, lineStart(notes.toString(), 45)));
    send('bob-moved-2', { where: 'notes.md:49:1' });
    await waitFile(join(signals, 'focused'), 30_000, why);
    // A real key press in the editor: the user takes over.
    await page.keyboard.press('ArrowUp');
    send('key-pressed');
    await waitFile(join(signals, 'user-moved'), 30_000, why);
    const rUser = JSON.parse(results());
    assert.equal(rUser.afterKey, 'notes.md:48:1');
    const a3 = app.toString().indexOf('line3 ');
    awareness.setLocalState(bobState('src/app.ts', app, a3, a3));
    send('bob-moved-3');
    await waitFile(join(signals, 'phase1-done'), 30_000, why);
    const r3 = JSON.parse(results());
    assert.equal(r3.afterBobMoved3, 'notes.md:48:1', 'no longer following after the key press');
    assert.deepEqual(r3.goTo, { name: 'bob', file: 'src/app.ts' });
    assert.equal(r3.afterGoTo, 'app.ts:3:13', "Go to Participant puts the cursor at bob's");
    assert.deepEqual(r3.stop, { stopped: 'bob' });
    assert.deepEqual(r3.stopAgain, { stopped: null });
    send('phase1-checked');
    console.log(`# phase 1: bob's cursor drawn ${drawnMs} ms after his awareness update (name tag read from the page)`);

    // ---- phase 2: carol (Node) hosts, the window joins ----
    const carol = await createUser(server, 'carol');
    const team = await carol.api.createTeam('Carol team');
    await carol.api.publishRoster(team.id, carol.identity, carol.trust);
    const { invite } = await carol.api.invite(team.id, 'member');
    send('invite2', { invite });
    await waitFile(join(signals, 'joined-team'), 30_000, why);
    for (const d of await carol.api.teamDevices(team.id, carol.trust))
      if (d.userId !== carol.userId) await carol.trust.verify(d.fingerprint);
    const { room } = await carol.api.createRoom(team.id, 'workspace carol', carol.identity, carol.trust);
    const cDoc = new Y.Doc();
    const cAwareness = new Awareness(cDoc);
    const host = await openProvider(server, carol, room.id, { awareness: cAwareness });
    live.destroy.push(() => host.provider.destroy());
    await host.provider.whenSynced();
    const hw = new WorkspaceDoc(host.doc);
    host.doc.transact(() => {
      hw.initLayout();
      hw.meta.set('host', 'carol');
      hw.createFile('a.txt', { text: 'first line\nsecond line\nthird line of a.txt\nfourth\n' });
    });
    await host.provider.whenAcked();
    const carolFp = fingerprint(carol.identity.signPublicKey, carol.identity.dhPublicKey);
    const at = hw.textOf('a.txt')!;
    const s2 = at.toString().indexOf('second') + 'second'.length;
    cAwareness.setLocalState({
      user: { name: 'carol', fingerprint: carolFp },
      role: 'host',
      file: 'a.txt',
      selections: encodeSelections(at, [{ anchor: s2, head: s2 }]),
      lastActive: Date.now(),
    });
    send('room', { link: shareLink('kyozo.kyozo', server.url, room.id) });
    await waitFile(join(signals, 'guest-open'), 60_000, why);
    const r4 = JSON.parse(results());
    const [ctag] = await tagsNamed('carol');
    assert.equal(ctag.line, 'second line');
    assert.equal(ctag.before, 'second');
    // The window's cursor at carol's side, under the same shared path.
    let guestState: ReturnType<typeof readPresence>;
    await waitFor(
      () => {
        for (const [id, s] of cAwareness.getStates()) if (id !== cAwareness.clientID) guestState = readPresence(s);
        return guestState?.file === 'a.txt' && !!guestState.selections?.length;
      },
      "the window's presence at carol",
      10_000,
    );
    assert.equal(guestState!.role, 'guest');
    const [gs] = decodeSelections(at, guestState!.selections);
    assert.equal(gs.head, r4.guestSelection);
    assert.match(await page.locator('.statusbar-item', { hasText: 'Joined carol' }).innerText(), /Joined carol/);
    await page.screenshot({ path: join(artefacts, 'share-presence-guest.png') });
    send('phase2-checked');
    const end = Date.now() + 30_000;
    while (!('finishedAt' in JSON.parse(results())) && !('error' in JSON.parse(results()))) {
      if (Date.now() > end) throw new Error(`the suite did not finish: ${why()}`);
      await sleep(200);
    }
    assert.equal(JSON.parse(results()).error, undefined, JSON.parse(results()).error);
  },
);
