// Kyozo inside a real VS Code (code-server 4.100.3 = VS Code 1.100.3) driven through Debian's Chromium:
// Explorer badges, Services view items, hover and CodeLens via vscode.execute*Provider, then Deploy on a service
// and the container running in the Docker engine, with the badge and the tree item turning to running.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import {
  bundleSuite,
  explorerBadges,
  openBrowser,
  repoRoot,
  startCodeServer,
  themeColor,
  viewRows,
  workbenchUrl,
  type CodeServer,
  codeServerMissing,
} from './vscode/harness';

const artefacts = join(repoRoot, 'test-results');

async function waitFile(path: string, ms: number, why: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}: ${why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test(
  'Kyozo in VS Code: badges, Services view, hover, CodeLens, deploy turns the service to running',
  { timeout: 600_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    if (!(await engineAvailable())) {
      t.skip('no Docker engine');
      return;
    }
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    await ensureTestBaseImages();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-')));
    const folder = join(base, 'shop');
    const signals = join(base, 'signals');
    cpSync(join(repoRoot, 'test/fixtures/vscode-workspace'), folder, { recursive: true });
    mkdirSync(join(folder, '.vscode'), { recursive: true });
    writeFileSync(
      join(folder, '.vscode/settings.json'),
      JSON.stringify(
        { 'kyozo.baseImages': { node: TEST_BASE_IMAGES.node, static: TEST_BASE_IMAGES.busybox } },
        null,
        2,
      ),
    );
    mkdirSync(signals, { recursive: true });
    writeFileSync(join(signals, 'interactive'), '1');
    mkdirSync(artefacts, { recursive: true });
    const suite = await bundleSuite(base);

    const live: { cs?: CodeServer; closeBrowser?: () => Promise<void> } = {};
    t.after(async () => {
      await live.closeBrowser?.();
      await live.cs?.stop();
      const docker = testDocker();
      for (const c of await docker.listContainers({ all: true, filters: { label: [`dev.kyozo.root=${folder}`] } })) {
        await cleanupWorkspace(c.Labels['dev.kyozo.workspace'], { images: true });
      }
      rmSync(base, { recursive: true, force: true });
    });

    const cs = await startCodeServer(folder, { KYOZO_E2E_DIR: signals });
    live.cs = cs;
    const { browser, page } = await openBrowser();
    live.closeBrowser = () => browser.close();
    const results = () =>
      existsSync(join(signals, 'results.json'))
        ? readFileSync(join(signals, 'results.json'), 'utf8')
        : '(no results yet)';
    const why = () => `results: ${results()}\ncode-server: ${cs.output().slice(-3000)}`;
    await page.goto(workbenchUrl(cs, folder, suite));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await waitFile(join(signals, 'phase1'), 180_000, why);

    // Phase 1, in the page: type badges on the service folders, then the Services view. The type comes from the
    // engine (the suite reports it); the badge letters are the extension's (service-presentation.ts).
    const inner0 = JSON.parse(results()) as { services?: { id: string; type: string }[] };
    const typeOf = (id: string) => inner0.services?.find((x) => x.id === id)?.type ?? '?';
    const BADGE: Record<string, string> = { nodejs: 'JS', containerized: 'DK', static: 'ST', proxy: 'PX' };
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 30_000 });
    let badges = await explorerBadges(page);
    for (let i = 0; i < 40 && badges.length < 2; i++) {
      await page.waitForTimeout(250);
      badges = await explorerBadges(page);
    }
    const byLabel = (label: string) =>
      badges.find((b) => b.label === label || b.label.startsWith(`${label} `) || b.label.endsWith(`/${label}`));
    assert.equal(typeOf('api'), 'nodejs');
    assert.equal(byLabel('api')?.badge, 'JS', JSON.stringify(badges));
    assert.equal(byLabel('web')?.badge, BADGE[typeOf('web')], `${typeOf('web')}: ${JSON.stringify(badges)}`);
    const green = await themeColor(page, '--vscode-charts-green');
    assert.notEqual(byLabel('web')?.color, green, 'not running yet, so not green');

    await page.click('.activitybar a[aria-label^="Kyozo"]', { force: true });
    await page.waitForFunction(() => document.querySelectorAll('.pane .monaco-list-row').length > 0, undefined, {
      timeout: 30_000,
    });
    let rows = await viewRows(page, 'Services');
    assert.ok(
      rows.some((r) => r.startsWith('api, nodejs')),
      JSON.stringify(rows),
    );
    assert.ok(
      rows.some((r) => r === `web, ${typeOf('web')}, not-deployed`),
      JSON.stringify(rows),
    );
    await page.screenshot({ path: join(artefacts, 'vscode-services-before-deploy.png') });

    const inner1 = JSON.parse(results());
    assert.equal(inner1.error, undefined, inner1.error);
    assert.deepEqual(inner1.services.map((s: { id: string }) => s.id).sort(), ['api', 'web']);
    assert.match(inner1.hover, /\*\*api\*\* — nodejs/);
    assert.match(inner1.hover, /Port: 3001\/tcp \(env `PORT`\) — from code: listen/);
    // Other extensions (the built-in npm one) may add their own lenses beside ours.
    assert.ok(inner1.lensesBefore.includes('$(play) Deploy api'), JSON.stringify(inner1.lensesBefore));
    assert.ok(inner1.webLensesBefore.includes('$(play) Deploy web'), JSON.stringify(inner1.webLensesBefore));
    assert.ok(!inner1.webLensesBefore.includes('$(debug-stop) Stop'), JSON.stringify(inner1.webLensesBefore));

    // Phase 2: the suite runs "Kyozo: Deploy Service..." on web; the engine must run it and the UI must follow.
    writeFileSync(join(signals, 'deploy'), '1');
    await waitFile(join(signals, 'phase2'), 300_000, why);
    const inner2 = JSON.parse(results());
    assert.equal(inner2.error, undefined, inner2.error);
    assert.equal(inner2.webStatus.state, 'running');
    assert.ok(inner2.webLensesAfter.includes('$(debug-stop) Stop'), JSON.stringify(inner2.webLensesAfter));
    assert.ok(
      inner2.webLensesAfter.some((l: string) => /^\$\(globe\) Open http:\/\/127\.0\.0\.1:\d+$/.test(l)),
      JSON.stringify(inner2.webLensesAfter),
    );

    assert.ok(inner2.terminals.includes('Kyozo logs: web'), JSON.stringify(inner2.terminals));
    assert.deepEqual(inner2.running, ['web']);
    const statusTexts = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.statusbar-item')).map((e) => e.textContent?.trim() ?? ''),
    );
    assert.ok(statusTexts.includes('1/2'), `status bar shows running/total: ${JSON.stringify(statusTexts)}`);
    const containers = await testDocker().listContainers({
      filters: { label: [`dev.kyozo.root=${folder}`, 'dev.kyozo.service=web'] },
    });
    assert.equal(containers.length, 1, 'one web container in the engine');
    assert.equal(containers[0].State, 'running');

    await page.waitForFunction(
      (g) => {
        for (const row of Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row'))) {
          if (!/web/.test(row.getAttribute('aria-label') ?? '')) continue;
          const el = row.querySelector('[class*="monaco-decoration-itemBadge-"]');
          if (el && getComputedStyle(el, '::after').color === g) return true;
        }
        return false;
      },
      green,
      { timeout: 30_000 },
    );
    // The Explorer re-renders its rows as decorations change; read until the row is there again (at most 10 s).
    badges = await explorerBadges(page);
    for (let i = 0; i < 40 && byLabel('web')?.color !== green; i++) {
      await page.waitForTimeout(250);
      badges = await explorerBadges(page);
    }
    assert.equal(byLabel('web')?.color, green, `web badge is green once running: ${JSON.stringify(badges)}`);
    await page.click('.activitybar a[aria-label^="Kyozo"]', { force: true });
    const runningLabel = `web, ${typeOf('web')}, running`;
    await page.waitForFunction(
      (l) =>
        Array.from(document.querySelectorAll('.pane .monaco-list-row')).some((r) => r.getAttribute('aria-label') === l),
      runningLabel,
      { timeout: 30_000 },
    );
    rows = await viewRows(page, 'Services');
    assert.ok(rows.includes(runningLabel), JSON.stringify(rows));
    await page.screenshot({ path: join(artefacts, 'vscode-workbench.png') });
    writeFileSync(join(signals, 'done'), '1');
    await waitFile(join(signals, 'results.json'), 10_000, why);
  },
);
