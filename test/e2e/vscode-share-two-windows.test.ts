// Kyozo Share between two real VS Code windows: two code-server 4.100.3 instances (each its own port, user-data and
// extensions dirs) running the extension, and the real sync server (dist/sync-server.js) as its own process on
// 127.0.0.1. The HOST window shares a folder, the GUEST window joins it through kyozo-share:. Both type into the same
// file at once, a keystroke at a time from inside their extension hosts (test/e2e/vscode/share-two-windows-suite.ts),
// while this test kills the sync server (SIGKILL) and starts it again on the same port and data dir part-way through.
// At the end the host's file on disk, the host's document and the guest's document are the same text, holding every
// keystroke of both in the order each typed them. Then the guest creates and renames a file (it appears on the host's
// disk), the guest deploys the host's web service on the host's Docker engine (running on both sides), the host makes
// the guest a viewer (the guest's edit is refused and its document shows the host's text), and the host removes the
// guest (disconnected within 2 s; joining again fails). Screenshots of both windows go to test-results/
// share-two-windows-{host,guest}.png (after typing) and share-two-windows-deploy-{host,guest}.png (after the deploy).
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
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
import {
  bundleSuite,
  codeServerMissing,
  explorerBadges,
  extensionHostPid,
  freePort,
  openBrowser,
  outputChannelLog,
  repoRoot,
  startCodeServers,
  themeColor,
  viewRows,
  workbenchUrl,
  type CodeServer,
} from './vscode/harness';
import { keystrokes } from './vscode/share-two-windows-keys';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { peakRssMb, procStats } from '../support/proc-stats';
import { spawnSyncServerFrom } from '../support/sync-process';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';

const PASSWORD = 'correct horse battery staple';
// Each window's keystrokes; fewer (KYOZO_E2E_SHARE_KEYSTROKES) only to try a change quickly.
const KEYSTROKES = Number(process.env.KYOZO_E2E_SHARE_KEYSTROKES ?? 500);
const KILL_AT = Math.round(KEYSTROKES * 0.3);
const artefacts = join(repoRoot, 'test-results');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sync server as its own process, so it can be killed outright and started again on the same port and data. */
async function startSyncProcess(port: number, dataDir: string): Promise<{ child: ChildProcess; log: () => string }> {
  const argv = [join(repoRoot, 'dist/sync-server.js'), '--port', String(port), '--host', '127.0.0.1'];
  const { child, output } = await spawnSyncServerFrom([...argv, '--data-dir', dataDir], {
    KYOZO_SYNC_LOG_LEVEL: 'info',
  });
  return { child, log: () => output.join('').slice(-20_000) };
}

function kill(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

test(
  'Kyozo Share between two VS Code windows: concurrent typing through a server restart, files, viewer, removal',
  { timeout: 900_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    if (!(await engineAvailable())) {
      if (process.env.CI === 'true') throw new Error('no Docker engine answers (required when CI=true)');
      t.skip('no Docker engine');
      return;
    }
    await ensureTestBaseImages();
    const started = Date.now();
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-share2-')));
    const hostFolder = join(base, 'project');
    const guestFolder = join(base, 'guest-home');
    const signals = join(base, 'signals');
    const dataDir = join(base, 'sync-data');
    for (const d of [hostFolder, guestFolder, signals, artefacts]) mkdirSync(d, { recursive: true });
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(hostFolder, 'shared.txt'), 'Shared notes\n');
    writeFileSync(join(hostFolder, 'readme.md'), '# project\n');
    cpSync(join(repoRoot, 'test/fixtures/vscode-workspace/web'), join(hostFolder, 'web'), { recursive: true });
    const docker = testDocker();
    const webContainers = (all = false) =>
      docker.listContainers({ all, filters: { label: [`dev.kyozo.root=${hostFolder}`, 'dev.kyozo.service=web'] } });
    const suite = await bundleSuite(base, 'share-two-windows-suite.ts');

    const live: { sync?: ChildProcess; windows?: CodeServer[]; closeBrowsers: (() => Promise<void>)[] } = {
      closeBrowsers: [],
    };
    t.after(async () => {
      for (const c of live.closeBrowsers) await c().catch(() => undefined);
      for (const w of live.windows ?? []) await w.stop();
      await kill(live.sync, 'SIGTERM');
      for (const c of await webContainers(true).catch(() => []))
        await cleanupWorkspace(c.Labels['dev.kyozo.workspace'], { images: true }).catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let sync = await startSyncProcess(port, dataDir);
    live.sync = sync.child;
    const env = (role: string) => ({
      KYOZO_E2E_DIR: signals,
      KYOZO_E2E_ROLE: role,
      KYOZO_E2E_KEYSTROKES: String(KEYSTROKES),
      KYOZO_SHARE_SERVER: url,
      KYOZO_SHARE_PASSWORD: PASSWORD,
    });
    // The guest's window is a multi-root workspace, so joining adds the shared folder to its Explorer in place (from a
    // one-folder window VS Code would reload into a new workspace, which it refuses to a window under test).
    const guestWorkspace = join(guestFolder, 'guest.code-workspace');
    writeFileSync(guestWorkspace, JSON.stringify({ folders: [{ path: guestFolder }] }));
    const [host, guest] = await startCodeServers([
      { folder: hostFolder, env: env('host') },
      { folder: guestFolder, env: env('guest') },
    ]);
    live.windows = [host, guest];
    const pages = [];
    const loads: Promise<unknown>[] = [];
    for (const [cs, folder] of [
      [host, hostFolder],
      [guest, guestWorkspace],
    ] as const) {
      const { browser, page } = await openBrowser();
      live.closeBrowsers.push(() => browser.close());
      pages.push(page);
      // Generous: on a loaded machine the workbench takes long to load.
      loads.push(page.goto(workbenchUrl(cs, folder, suite), { timeout: 180_000 }));
    }
    await Promise.all(loads);
    const [hostPage, guestPage] = pages;

    const results = (role: string) => {
      const f = join(signals, `${role}-results.json`);
      return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
    };
    // Each binding's trace (kyozo.share.traceEdits, on in the suite) goes to test-results/ when something fails.
    const traceTail = (cs: CodeServer, role: string) => {
      const lines = outputChannelLog(cs, 'Kyozo')
        .split('\n')
        .filter((l) => l.includes('Kyozo Share'));
      writeFileSync(join(artefacts, `share-two-windows-trace-${role}.log`), lines.join('\n'));
      return lines.slice(-25).join('\n');
    };
    const why = () =>
      `host: ${JSON.stringify(results('host')).slice(0, 3000)}\nguest: ${JSON.stringify(results('guest')).slice(0, 3000)}` +
      `\nhost code-server: ${host.output().slice(-1500)}\nguest code-server: ${guest.output().slice(-1500)}` +
      `\nsync server: ${sync.log().slice(-1500)}` +
      `\nhost binding trace (all of it in test-results/): ${traceTail(host, 'host')}` +
      `\nguest binding trace: ${traceTail(guest, 'guest')}`;
    const send = (name: string, body: unknown = {}) => {
      writeFileSync(join(signals, `${name}.tmp`), JSON.stringify(body));
      renameSync(join(signals, `${name}.tmp`), join(signals, name));
    };
    const until = async (what: string, cond: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (results('host').error || results('guest').error) throw new Error(`a window's suite failed: ${why()}`);
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${why()}`);
        await sleep(50);
      }
    };
    const signalled = (name: string) => existsSync(join(signals, name));

    // ---- share and join ----
    await until('both windows ready to type', () => signalled('host-ready') && signalled('guest-ready'), 300_000);
    const setupMs = Date.now() - started;
    assert.equal(results('guest').joined.role, 'member');
    assert.equal(results('guest').before, 'Shared notes\n');

    // ---- both type 500 keystrokes at once; the sync server is killed and started again part-way ----
    // The host's extension host (its pid from code-server's log): CPU and peak RSS while both type, printed below.
    const hostExtHost = extensionHostPid(host);
    const cpuBefore = hostExtHost ? procStats(hostExtHost).cpu : 0;
    send('go');
    const typingStarted = Date.now();
    await until(`the host ${KILL_AT} keystrokes in`, () => (results('host').progress?.typed ?? 0) >= KILL_AT, 240_000);
    const typedAtKill = { host: results('host').progress.typed, guest: results('guest').progress?.typed ?? 0 };
    await kill(sync.child, 'SIGKILL');
    await sleep(500);
    sync = await startSyncProcess(port, dataDir);
    live.sync = sync.child;
    const restartedAfter = Date.now() - typingStarted;
    await until('both windows done typing', () => signalled('host-typed') && signalled('guest-typed'), 400_000);
    const typingMs = Date.now() - typingStarted;
    const hostCost = hostExtHost
      ? `the host's extension host used ${(((procStats(hostExtHost).cpu - cpuBefore) * 1000 * 100) / typingMs).toFixed(1)} % ` +
        `of a core while both typed (typing included), peak RSS ${peakRssMb(hostExtHost).toFixed(0)} MB`
      : "the host's extension host was not found in code-server's log";
    const hostTyped: string = results('host').typing.typed;
    const guestTyped: string = results('guest').typing.typed;
    assert.equal(hostTyped, keystrokes('host', KEYSTROKES).join(''));
    assert.equal(guestTyped, keystrokes('guest', KEYSTROKES).join(''));

    // Converge: both documents equal; then the host's disk (the host saves its own last keystrokes, as a user would,
    // when its document is still dirty once everything arrived).
    const disk = () => readFileSync(join(hostFolder, 'shared.txt'), 'utf8');
    const same = () => {
      const h = results('host').live?.text;
      return h !== undefined && h === results('guest').live?.text;
    };
    await until('the two documents equal', same, 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}`);
    });
    const convergedAfter = Date.now() - typingStarted;
    let savedByTest = false;
    await until('the host disk equal to the documents', () => disk() === results('host').live.text, 3_000).catch(
      async () => {
        savedByTest = true;
        send('save');
        await until('the host disk after a save', () => same() && disk() === results('host').live.text, 20_000);
      },
    );
    const final: string = results('host').live.text;
    assert.equal(results('guest').live.text, final, 'the guest document equals the host document');
    assert.equal(disk(), final, "the host's file on disk equals the documents");
    // What each window's binding reported (repairs of a divergence, refused edits), for a failure to name.
    const shareLog = (cs: CodeServer) =>
      outputChannelLog(cs, 'Kyozo')
        .split('\n')
        .filter((l) => /Kyozo Share: .*(repaired|refus|failed|differed)/.test(l) && !l.includes('trace:'))
        .join('\n');
    const bindingLog =
      `host: ${shareLog(host) || '(nothing)'}\nguest: ${shareLog(guest) || '(nothing)'}` +
      `\nlast steps of the host's binding: ${traceTail(host, 'host')}\nand the guest's: ${traceTail(guest, 'guest')}`;
    console.log(`# binding problems reported: ${bindingLog.split('\nlast steps')[0]}`);
    // Both typed at the end of the first line: everything typed lies between "Shared notes" and its line break.
    assert.ok(final.startsWith('Shared notes') && final.endsWith('\n'), final);
    const typedPart = final.slice('Shared notes'.length, -1);
    const letters = (re: RegExp) => [...typedPart].filter((c) => re.test(c)).join('');
    assert.equal(
      letters(/[a-z]/),
      hostTyped.replace(/\n/g, ''),
      `every host keystroke, in the host's order: ${JSON.stringify(final)}; ${bindingLog}`,
    );
    assert.equal(
      letters(/[A-Z]/),
      guestTyped.replace(/\n/g, ''),
      `every guest keystroke, in the guest's order: ${JSON.stringify(final)}; ${bindingLog}`,
    );
    assert.equal(final.length, 'Shared notes\n'.length + 2 * KEYSTROKES, 'nothing lost, nothing doubled');
    console.log(
      `# selections grown around a remote edit before a keystroke: host ${JSON.stringify(results('host').typing.grownFirst)} (${results('host').typing.grown}), guest ${JSON.stringify(results('guest').typing.grownFirst)} (${results('guest').typing.grown})`,
    );
    console.log(
      `# setup ${setupMs} ms; ${KEYSTROKES} keystrokes each in ${results('host').typing.ms} / ` +
        `${results('guest').typing.ms} ms (${results('host').typing.refused} / ${results('guest').typing.refused} ` +
        `typed again after a remote edit came first); sync server killed at ${typedAtKill.host} / ` +
        `${typedAtKill.guest} keystrokes and listening again ${restartedAfter} ms after the start; documents equal ` +
        `${convergedAfter} ms after the start${savedByTest ? '; the host saved its own last keystrokes' : ''}; ${hostCost}`,
    );
    await hostPage.screenshot({ path: join(artefacts, 'share-two-windows-host.png') });
    await guestPage.screenshot({ path: join(artefacts, 'share-two-windows-guest.png') });
    send('compared');

    // ---- the guest creates a file and renames it: it appears on the host's disk ----
    await until('the guest renamed a file', () => signalled('guest-renamed'), 30_000);
    // Saving the guest's document (bound, so it holds the shared text) is not refused as a conflict.
    assert.equal(results('guest').guestSaved, true, 'the guest saved its document');
    assert.equal(results('guest').guestDirtyAfterSave, false);
    const renamed = join(hostFolder, 'docs', 'renamed.txt');
    await until(
      'the renamed file on the host disk',
      () => existsSync(renamed) && readFileSync(renamed, 'utf8') === 'made by bob\n',
      10_000,
    );
    assert.equal(existsSync(join(hostFolder, 'made.txt')), false, 'the old name is gone from the host disk');
    send('renamed-checked');

    // ---- the guest deploys the host's web on the host's engine: running on both sides ----
    await until('the deploy seen by both windows', () => signalled('host-deploy-seen'), 420_000);
    assert.equal(results('guest').webAfter, 'running', 'the guest sees web running');
    assert.equal(results('host').hostWeb, 'running', 'the host sees web running');
    assert.match(results('guest').remoteHover ?? '', /on alice's machine \(remote, Kyozo Share\)/);
    assert.match(results('guest').remoteHover ?? '', /running/);
    const running = await webContainers();
    assert.equal(running.length, 1, 'one web container runs on the engine');
    assert.equal(running[0].State, 'running');
    // Both Services views list web running; the guest's marks it remote, on alice's machine.
    const rowShown = (page: typeof hostPage, pattern: RegExp) =>
      page.waitForFunction(
        (source) =>
          Array.from(document.querySelectorAll('.pane .monaco-list-row')).some((r) =>
            new RegExp(source).test(r.getAttribute('aria-label') ?? ''),
          ),
        pattern.source,
        { timeout: 30_000 },
      );
    await rowShown(hostPage, /^web, .*running/);
    await rowShown(guestPage, /^web, .*running.*remote on alice$/);
    assert.ok(
      (await viewRows(guestPage, 'Services')).some((r) => /^web, .*running.*remote on alice$/.test(r)),
      JSON.stringify(await viewRows(guestPage, 'Services')),
    );
    await hostPage.screenshot({ path: join(artefacts, 'share-two-windows-deploy-host.png') });
    await guestPage.screenshot({ path: join(artefacts, 'share-two-windows-deploy-guest.png') });
    // The guest's Explorer: the shared folder, its web folder with the type badge, green as it runs on alice's engine.
    await guestPage.click('.activitybar a[aria-label^="Explorer"]', { force: true });
    const sharedRoot = guestPage.locator('.explorer-folders-view .monaco-list-row[aria-label*="Kyozo Share"]').first();
    await sharedRoot.waitFor({ timeout: 30_000 });
    if ((await sharedRoot.getAttribute('aria-expanded')) === 'false') await sharedRoot.click();
    const webBadge = async () =>
      (await explorerBadges(guestPage)).find((b) => b.label === 'web' || b.label.endsWith('/web'));
    const green = await themeColor(guestPage, '--vscode-charts-green');
    for (let i = 0; i < 80 && (await webBadge())?.color !== green; i++) await sleep(250);
    const badge = await webBadge();
    assert.equal(badge?.badge, 'ST', JSON.stringify(await explorerBadges(guestPage)));
    assert.equal(badge?.color, green, 'the remote web runs: its badge is green');
    await guestPage.screenshot({ path: join(artefacts, 'share-two-windows-explorer-guest.png') });
    send('deploy-checked');

    // ---- the host makes the guest a viewer: the guest's edit is refused, its document shows the host's text ----
    await until('the viewer check', () => signalled('guest-viewer-done'), 40_000);
    const g = results('guest');
    assert.equal(
      g.viewerRestoreError,
      undefined,
      `${g.viewerRestoreError}: ${JSON.stringify({ ...g, live: undefined, before: undefined, typing: undefined })}`,
    );
    assert.equal(g.viewerText, final, "the viewer's document shows the host's text");
    assert.match(JSON.stringify(g.viewerWrite), /NoPermissions/);
    const viewerShare = g.viewerState.guests.find((x: { roomId: string }) => x.roomId === g.joined.roomId);
    assert.equal(viewerShare.role, 'viewer');
    assert.equal(viewerShare.readonly, true);
    assert.equal(readFileSync(join(hostFolder, 'shared.txt'), 'utf8'), final, 'the host disk did not take it');

    // ---- the host removes the guest: disconnected within 2 s, and joining again fails ----
    await until('the removal check', () => signalled('guest-rejoin-done'), 40_000);
    const h = results('host');
    const g2 = results('guest');
    assert.ok(g2.endedAt > 0, `the guest was not told it was removed: ${JSON.stringify(g2.guestStateAfterRejoin)}`);
    const removedWithin = g2.endedAt - h.removedAt;
    assert.ok(removedWithin < 2000, `the guest saw the removal after ${removedWithin} ms`);
    assert.equal(g2.removedState.ended, 'you were removed from the team');
    assert.match(g2.rejoin?.error ?? '', /cannot join the shared workspace/);
    await until('the host suite done', () => 'finishedAt' in results('host'), 20_000);
    assert.equal(results('host').error, undefined);
    assert.equal(results('guest').error, undefined);
    console.log(
      `# viewer: document back at the host's text after ${g.viewerRestoredMs} ms; removal seen by the guest ` +
        `${removedWithin} ms after the call (the call took ${h.removalMs} ms); rejoin: ${g2.rejoin.error}; ` +
        `total ${Date.now() - started} ms`,
    );
  },
);
