// Shared services in a real VS Code (code-server 4.100.3), with a real sync server on 127.0.0.1 and the real Docker
// engine. Phase 1: the window HOSTS a folder with one service (web: busybox httpd from the local test base image);
// bob (member) and dave (viewer) are Node peers on the client library. bob's signed Deploy reaches the window, which
// tries to ask in a modal (VS Code refuses modals in a test run: the guest is told the host could not be asked), then,
// with kyozo.share.confirmRemoteActions off, deploys web on the engine, and both sides see it running; dave's
// Stop is refused by the sync server (a viewer's write) and, forced into the room by a member, by the host; bob's Logs stream httpd's lines into the room. Phase 2:
// carol, a Node host, publishes web; the window JOINS as member, its Services view lists web as remote (screenshot in
// test-results/share-remote-services.png), and its Stop command reaches carol as a request signed by its device.
import assert from 'node:assert/strict';
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
import { parseShareLink, shareLink } from '../../extension/src/share/share-link';
import {
  awaitResult,
  followLogs,
  publishStatuses,
  publishTopology,
  readShared,
  OPS_KEYS,
  RemoteActionHost,
  resultOf,
  sendRequest,
  signRequest,
  stopLogs,
  type SignedRequest,
} from '../../extension/src/share/shared-operations';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';
import { fingerprint } from '../../sync-server/src/client';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
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

test(
  'Kyozo Share in VS Code: a guest deploys a host service on Docker, a viewer is refused, a joined window shows and stops remote services',
  { timeout: 600_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    if (!(await engineAvailable())) {
      if (process.env.CI === 'true') throw new Error('no Docker engine answers (required when CI=true)');
      t.skip('no Docker engine');
      return;
    }
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    await ensureTestBaseImages();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-shareops-')));
    const folder = join(base, 'project');
    const signals = join(base, 'signals');
    mkdirSync(signals, { recursive: true });
    mkdirSync(artefacts, { recursive: true });
    cpSync(join(repoRoot, 'test/fixtures/vscode-workspace/web'), join(folder, 'web'), { recursive: true });
    const suite = await bundleSuite(base, 'share-services-suite.ts');
    const docker = testDocker();
    const webContainers = (all = false) =>
      docker.listContainers({ all, filters: { label: [`dev.kyozo.root=${folder}`, 'dev.kyozo.service=web'] } });

    const live: { server?: TestServer; cs?: CodeServer; closeBrowser?: () => Promise<void>; stop: (() => void)[] } = {
      stop: [],
    };
    t.after(async () => {
      for (const s of live.stop) s();
      await live.closeBrowser?.();
      await live.cs?.stop();
      await live.server?.stop();
      for (const c of await webContainers(true).catch(() => []))
        await cleanupWorkspace(c.Labels['dev.kyozo.workspace'], { images: true }).catch(() => undefined);
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
    const results = () => (existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '{}');
    const why = () => `results: ${results()}\ncode-server: ${cs.output().slice(-3000)}`;
    const send = (name: string, body: unknown) => {
      writeFileSync(join(signals, `${name}.tmp`), JSON.stringify(body));
      renameSync(join(signals, `${name}.tmp`), join(signals, name));
    };
    // A machine running other suites beside this one can take over 30 s (page.goto's default) to serve the workbench.
    await page.goto(workbenchUrl(cs, folder, suite), { timeout: 120_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

    // ---- phase 1: the window hosts; bob (member) and dave (viewer) are Node guests ----
    await waitFile(join(signals, 'invited'), 180_000, why);
    const r1 = JSON.parse(results());
    assert.equal(r1.localWeb, 'found', 'the window analysed web');
    const bob = await createUser(server, 'bob');
    const dave = await createUser(server, 'dave');
    await bob.api.acceptInvite(r1.invites.member);
    await dave.api.acceptInvite(r1.invites.viewer);
    const fp = (u: typeof bob) => fingerprint(u.identity.signPublicKey, u.identity.dhPublicKey);
    send('joined', { fingerprints: [fp(bob), fp(dave)] });
    await waitFile(join(signals, 'shared'), 60_000, why);
    const { roomId } = parseShareLink(JSON.parse(results()).share.link);
    const b = await openProvider(server, bob, roomId);
    await b.provider.whenSynced();
    await waitFor(() => !!readShared(b.doc).topology?.services.some((s) => s.id === 'web'), 'web published', 20_000);
    const published = readShared(b.doc);
    assert.equal(published.host, 'alice');
    assert.notEqual(published.statuses.find((s) => s.serviceId === 'web')?.state, 'running');
    assert.doesNotMatch(JSON.stringify(published.topology), new RegExp(folder), 'no absolute host path is published');

    // With kyozo.share.confirmRemoteActions on (the default) the host asks in a modal; VS Code refuses modals in an
    // extension test run, so nothing runs and the guest is told why, with the question the host would have seen.
    const unasked = sendRequest(b.doc, bob.identity, 'bob', {
      room: roomId,
      action: 'deploy',
      service: 'web',
      args: {},
    });
    const notAsked = await awaitResult(b.doc, unasked.nonce, 60_000);
    assert.equal(notAsked.state, 'refused', JSON.stringify(notAsked));
    assert.match(notAsked.message!, /^alice could not be asked \(.*bob \(member\) asks to deploy web on this machine/);
    assert.equal((await webContainers(true)).length, 0, 'nothing ran');
    send('confirm-off', {});
    await waitFile(join(signals, 'confirm-is-off'), 30_000, why);

    const t0 = Date.now();
    const deploy = sendRequest(b.doc, bob.identity, 'bob', {
      room: roomId,
      action: 'deploy',
      service: 'web',
      args: {},
    });
    const steps: string[] = [];
    const done = await awaitResult(b.doc, deploy.nonce, 300_000, (r) => steps.push(r.state));
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.equal(done.serviceState, 'running');
    assert.equal(done.by, 'bob');
    await waitFor(
      () => readShared(b.doc).statuses.find((s) => s.serviceId === 'web')?.state === 'running',
      'web running at the guest',
      60_000,
    );
    const deployMs = Date.now() - t0;
    const running = await webContainers();
    assert.equal(running.length, 1, 'one web container in the engine');
    assert.equal(running[0].State, 'running');
    await waitFile(join(signals, 'host-running'), 60_000, why);
    assert.equal(JSON.parse(results()).hostWeb, 'running', 'running in the host window too');

    // dave is a viewer: the sync server refuses his writes, so his own request never reaches the room; the same
    // request, signed by his device and written into the room by a member (forced), is refused by the host for his
    // role, with the reason written back.
    const d = await openProvider(server, dave, roomId);
    await d.provider.whenSynced();
    const serverErrors: { code?: string }[] = [];
    d.provider.on('server-error', (e: { code?: string }) => serverErrors.push(e));
    const own = sendRequest(d.doc, dave.identity, 'dave', { room: roomId, action: 'stop', service: 'web', args: {} });
    await waitFor(() => serverErrors.length > 0, "the server's refusal of a viewer's write", 30_000);
    assert.equal(serverErrors[0].code, 'forbidden', JSON.stringify(serverErrors));
    const forced = signRequest(dave.identity, 'dave', { room: roomId, action: 'stop', service: 'web', args: {} });
    b.doc.getMap<SignedRequest>(OPS_KEYS.requests).set(forced.nonce, forced);
    const refused = await awaitResult(b.doc, forced.nonce, 30_000);
    assert.equal(refused.state, 'refused');
    assert.match(refused.message!, /dave is a viewer in this team: viewers see the host's services but cannot act/);
    assert.equal(resultOf(b.doc, own.nonce), undefined, "dave's own request never reached the host");
    assert.equal((await webContainers())[0]?.State, 'running', 'web still running');

    // bob's Logs: the host streams httpd's lines (the health check's requests) into the room until bob stops them.
    const logs = sendRequest(b.doc, bob.identity, 'bob', { room: roomId, action: 'logs', service: 'web', args: {} });
    const chunks: string[] = [];
    live.stop.push(followLogs(b.doc, logs.nonce, (c) => chunks.push(c)));
    await waitFor(() => chunks.join('').length > 0, 'log lines at the guest', 30_000);
    stopLogs(b.doc, logs.nonce);
    const logsDone = await awaitResult(b.doc, logs.nonce, 30_000);
    assert.equal(logsDone.message, 'log stream closed');
    send('guest-checked', {});
    await waitFile(join(signals, 'host-done'), 60_000, why);
    const hostEvents: string[] = JSON.parse(results()).hostEvents;
    const guestEvents = readShared(b.doc)
      .events.filter((e) => e.type === 'remote_action')
      .map((e) => e.message);
    for (const events of [hostEvents, guestEvents]) {
      assert.ok(events.includes('deploy web requested by bob (remote)'), JSON.stringify(events));
      assert.ok(
        events.some((e) => /^deploy web requested by bob \(remote\): web is running in \d+ ms$/.test(e!)),
        JSON.stringify(events),
      );
      assert.ok(
        events.some((e) => /^stop web requested by dave \(remote\) refused: dave is a viewer/.test(e!)),
        JSON.stringify(events),
      );
      assert.ok(events.includes('logs of web requested by bob (remote)'), JSON.stringify(events));
    }
    const sharedTopology = readShared(b.doc).topology!;
    const sharedStatuses = readShared(b.doc).statuses;
    b.provider.destroy();
    d.provider.destroy();
    console.log(`# phase 1: guest Deploy to running on both sides in ${deployMs} ms (steps ${steps.join(' > ')})`);

    // ---- phase 2: carol (Node) hosts, the window joins as member ----
    const carol = await createUser(server, 'carol');
    const team = await carol.api.createTeam('Carol team');
    await carol.api.publishRoster(team.id, carol.identity, carol.trust);
    const { invite } = await carol.api.invite(team.id, 'member');
    send('carol-invite', { invite });
    await waitFile(join(signals, 'joined-carol'), 60_000, why);
    for (const dev of await carol.api.teamDevices(team.id, carol.trust))
      if (dev.userId !== carol.userId) await carol.trust.verify(dev.fingerprint);
    const { room } = await carol.api.createRoom(team.id, 'workspace carol', carol.identity, carol.trust);
    const c = await openProvider(server, carol, room.id);
    await c.provider.whenSynced();
    const w = new WorkspaceDoc(c.doc);
    c.doc.transact(() => {
      w.initLayout();
      w.meta.set('host', 'carol');
      w.createFile('web/Dockerfile', { text: readFileSync(join(folder, 'web', 'Dockerfile'), 'utf8') });
      w.createFile('web/index.html', { text: '<h1>carol</h1>\n' });
      publishTopology(c.doc, 'carol', sharedTopology);
      publishStatuses(c.doc, sharedStatuses);
    });
    const asks: string[] = [];
    const carolHost = new RemoteActionHost(c.doc, {
      roomId: room.id,
      host: 'carol',
      lookup: async (signer) => {
        const m = (await carol.api.members(team.id)).find((x) =>
          x.keys.some((k) => Buffer.from(k.signPublicKey, 'base64').equals(signer)),
        );
        return m && { userId: m.userId, username: m.username, role: m.role };
      },
      hasService: (id) => id === 'web',
      confirm: async (r, who) => {
        asks.push(`${who.username} ${r.action} ${r.service}`);
        return true;
      },
      // carol's machine is this one: her Stop stops the real container, and she publishes what the engine says.
      run: async (r) => {
        if (r.action !== 'stop') throw new Error(`this test host only stops, not ${r.action}`);
        for (const ci of await webContainers()) await docker.getContainer(ci.Id).stop({ t: 1 });
        const state = (await webContainers(true))[0]?.State === 'exited' ? 'stopped' : 'running';
        publishStatuses(
          c.doc,
          sharedStatuses.map((s) =>
            s.serviceId === 'web' ? { ...s, state, replicas: { running: 0, desired: 1 }, hostPorts: [] } : s,
          ),
        );
        return { message: `web is ${state}`, serviceState: state };
      },
    });
    live.stop.push(() => carolHost.dispose());
    await c.provider.whenAcked();
    send('carol-room', { link: shareLink('kyozo.kyozo', server.url, room.id) });
    await waitFile(join(signals, 'guest-shown'), 60_000, why);
    const r5 = JSON.parse(results());
    assert.equal(r5.guest.role, 'member');
    assert.equal(r5.remoteBefore.host, 'carol');
    assert.deepEqual(
      r5.remoteBefore.services.map((s: { id: string; state: string }) => `${s.id} ${s.state}`),
      ['web running'],
    );
    const remoteFolder = page.locator('.pane .monaco-list-row[aria-label$="remote · carol"]').first();
    if ((await remoteFolder.getAttribute('aria-expanded')) === 'false') await remoteFolder.click();
    await page
      .waitForFunction(
        () =>
          Array.from(document.querySelectorAll('.pane .monaco-list-row')).some((r) =>
            /remote on carol/.test(r.getAttribute('aria-label') ?? ''),
          ),
        undefined,
        { timeout: 30_000 },
      )
      .catch(async (e) => {
        await page.screenshot({ path: join(artefacts, 'share-remote-services-failed.png') });
        throw new Error(`${(e as Error).message}; Services rows: ${JSON.stringify(await viewRows(page, 'Services'))}`);
      });
    const rows = await viewRows(page, 'Services');
    assert.ok(
      rows.some((r) => /^web, \w+, running, remote on carol$/.test(r)),
      JSON.stringify(rows),
    );
    const description = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.pane .monaco-list-row'))
        .filter((r) => /remote on carol/.test(r.getAttribute('aria-label') ?? ''))
        .map((r) => r.querySelector('.label-description')?.textContent ?? ''),
    );
    assert.match(description[0] ?? '', /running · remote · carol$/, JSON.stringify(description));
    await page.screenshot({ path: join(artefacts, 'share-remote-services.png') });
    send('screenshot-taken', {});

    await waitFile(join(signals, 'guest-stopped'), 90_000, why);
    const r6 = JSON.parse(results());
    assert.equal(r6.stopAnswer.state, 'done', JSON.stringify(r6.stopAnswer));
    assert.equal(r6.stopAnswer.by, 'alice');
    assert.deepEqual(asks, ['alice stop web'], 'the request named the window user, verified by her device key');
    assert.equal((await webContainers(true))[0]?.State, 'exited', 'the container stopped in the engine');
    assert.ok(
      r6.remoteAfterStop.events.some((e: string) => /^stop web requested by alice \(remote\): web is stopped/.test(e)),
      JSON.stringify(r6.remoteAfterStop.events),
    );
    send('done', {});
    const end = Date.now() + 30_000;
    while (!('finishedAt' in JSON.parse(results())) && !('error' in JSON.parse(results()))) {
      if (Date.now() > end) throw new Error(`the suite did not finish: ${why()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(JSON.parse(results()).error, undefined, JSON.parse(results()).error);
    c.provider.destroy();
  },
);
