// A repository's own settings and Restricted Mode in a real VS Code (code-server 4.100.3 = VS Code 1.100.3, workspace
// trust on) through Debian's Chromium. The workspace's .vscode/settings.json points kyozo.docker.host at a dead port
// and turns kyozo.autoDeploy on: neither may take effect. While untrusted, deploying is refused with a message offering
// "Manage Workspace Trust"; trusting through that button makes Deploy work without a reload, on the default engine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import {
  bundleSuite,
  CHROMIUM,
  CODE_SERVER,
  explorerBadges,
  openBrowser,
  repoRoot,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
  waitFile,
} from './vscode/harness';

const artefacts = join(repoRoot, 'test-results');
const DEAD_ENGINE = 'tcp://127.0.0.1:1';

/** Waits for the suite's signal file; a suite that failed (results.json has an error) ends the wait at once. */
/** Text of the notification toasts on screen, with their buttons. */
function toasts(page: Page): Promise<{ text: string; buttons: string[] }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.notification-toast')).map((t) => ({
      text: t.querySelector('.notification-list-item-message')?.textContent ?? '',
      buttons: Array.from(t.querySelectorAll('.monaco-button')).map((b) => b.textContent?.trim() ?? ''),
    })),
  );
}

const title =
  'Kyozo in VS Code: workspace settings cannot pick the engine or deploy; Restricted Mode refuses until ' + 'trusted';
test(title, { timeout: 600_000 }, async (t) => {
  const missing = [CODE_SERVER, CHROMIUM].filter((p) => !existsSync(p));
  const setup = `${missing.join(', ')}; run bash .ci/machine-setup.sh`;
  if (missing.length && process.env.CI === 'true') throw new Error(`missing ${setup} (required when CI=true)`);
  if (missing.length) {
    console.log(`# skipped: not installed: ${setup}`);
    t.skip('code-server or Chromium missing');
    return;
  }
  if (!(await engineAvailable())) {
    t.skip('no Docker engine');
    return;
  }
  execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
  await ensureTestBaseImages();
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-trust-')));
  const folder = join(base, 'shop');
  const signals = join(base, 'signals');
  cpSync(join(repoRoot, 'test/fixtures/vscode-workspace'), folder, { recursive: true });
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  writeFileSync(
    join(folder, '.vscode/settings.json'),
    JSON.stringify(
      {
        'kyozo.docker.host': DEAD_ENGINE,
        'kyozo.autoDeploy': true,
        // Restricted in an untrusted workspace; once trusted, Deploy builds from these (already pulled) images.
        'kyozo.baseImages': { node: TEST_BASE_IMAGES.node, static: TEST_BASE_IMAGES.busybox },
      },
      null,
      2,
    ),
  );
  mkdirSync(signals, { recursive: true });
  mkdirSync(artefacts, { recursive: true });
  const suite = await bundleSuite(base, 'trust-suite.ts');

  const live: { cs?: CodeServer; closeBrowser?: () => Promise<void> } = {};
  const filters = { label: [`dev.kyozo.root=${folder}`] };
  t.after(async () => {
    await live.closeBrowser?.();
    await live.cs?.stop();
    for (const c of await testDocker().listContainers({ all: true, filters })) {
      await cleanupWorkspace(c.Labels['dev.kyozo.workspace'], { images: true });
    }
    rmSync(base, { recursive: true, force: true });
  });

  const cs = await startCodeServer(folder, { KYOZO_E2E_DIR: signals }, { workspaceTrust: true });
  live.cs = cs;
  const { browser, page } = await openBrowser();
  live.closeBrowser = () => browser.close();
  const resultsFile = join(signals, 'results.json');
  const results = () => (existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '(no results yet)');
  const why = () => `results: ${results()}\ncode-server: ${cs.output().slice(-3000)}`;
  await page.goto(workbenchUrl(cs, folder, suite));
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await waitFile(join(signals, 'phase1'), 180_000, why);

  // Phase 1: untrusted. The workspace's engine and auto-deploy are ignored; the analysis works; Deploy is refused.
  const r1 = JSON.parse(results());
  assert.equal(r1.error, undefined, r1.error);
  assert.equal(r1.trustedAtStart, false, 'the window opened in Restricted Mode');
  assert.deepEqual(r1.services.sort(), ['api', 'web']);
  // results.json leaves out undefined values: no workspaceValue (nor workspaceFolderValue) at all.
  assert.deepEqual(r1.dockerHost, { effective: '' }, `workspace kyozo.docker.host: ${JSON.stringify(r1.dockerHost)}`);
  assert.deepEqual(r1.autoDeploy, { effective: false }, `workspace kyozo.autoDeploy: ${JSON.stringify(r1.autoDeploy)}`);
  assert.equal(r1.engine.reachable, true, JSON.stringify(r1.engine));
  assert.notEqual(r1.engine.host, DEAD_ENGINE);
  let badges = await explorerBadges(page);
  for (let i = 0; i < 40 && badges.length < 2; i++) {
    await page.waitForTimeout(250);
    badges = await explorerBadges(page);
  }
  assert.deepEqual(badges.map((b) => b.badge).sort(), ['JS', 'ST'], `Explorer badges: ${JSON.stringify(badges)}`);
  assert.equal(r1.deployCommand, null);
  assert.equal(r1.deployLens, null);
  const refusal = /"Deploy(?: Service)?" is not available in Restricted Mode/;
  await page.waitForFunction(
    (src) =>
      Array.from(document.querySelectorAll('.notification-toast')).some((e) =>
        new RegExp(src).test(e.textContent ?? ''),
      ),
    refusal.source,
    { timeout: 30_000 },
  );
  const shown = (await toasts(page)).filter((x) => refusal.test(x.text));
  assert.ok(shown.length >= 1, JSON.stringify(await toasts(page)));
  for (const x of shown) assert.deepEqual(x.buttons, ['Manage Workspace Trust'], JSON.stringify(x));
  await page.screenshot({ path: join(artefacts, 'vscode-restricted-mode-refusal.png') });
  const before = await testDocker().listContainers({ all: true, filters });
  assert.deepEqual(
    before.map((c) => c.Names),
    [],
    'nothing deployed',
  );

  // Trust the folder the way a user would: the refusal's button opens the trust editor, whose Trust button grants it.
  const toast = page.locator('.notification-toast', { hasText: refusal }).first();
  await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).click();
  const trustButton = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
  await trustButton.waitFor({ timeout: 30_000 });
  await trustButton.click();
  await waitFile(join(signals, 'phase2'), 300_000, why);

  // Phase 2: trusted, without a reload. Deploy ran on the default engine; auto-deploy still came from nowhere.
  const r2 = JSON.parse(results());
  assert.equal(r2.error, undefined, r2.error);
  assert.equal(r2.trustedAfterGrant, true);
  assert.deepEqual(r2.dockerHostAfterGrant, { effective: '' });
  assert.deepEqual(r2.running, ['web']);
  const containers = await testDocker().listContainers({ all: true, filters });
  const deployed = containers.map((c) => c.Labels['dev.kyozo.service']);
  assert.deepEqual(deployed, ['web'], 'only the service deployed by hand, no auto-deploy');
  assert.equal(containers[0].State, 'running');
  await page.screenshot({ path: join(artefacts, 'vscode-trusted-after-grant.png') });
  writeFileSync(join(signals, 'done'), '1');
  await waitFile(join(signals, 'results.json'), 10_000, why);
});
