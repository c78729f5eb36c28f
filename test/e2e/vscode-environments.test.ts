// Environments and the registry in a real VS Code (code-server 4.100.3 through Debian's Chromium), on the real engine
// and a loopback distribution registry: Set Environment Secret takes a secret through its pickers and password box into
// a real secret store (pass) and staging runs with it; the status bar names the active environment, Select
// Environment switches it,
// Deploy runs the environment's project, Push Service fills the Services view's Registry node with the digest, and
// deploying to production asks first (Cancel deploys nothing; Deploy to production deploys).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { createPassStore, passStoreMissing } from '../support/pass-store';
import { registryAvailable, startRegistry } from '../support/loopback-registry';
import {
  bundleSuite,
  codeServerMissing,
  openBrowser,
  outputChannelLog,
  repoRoot,
  startCodeServer,
  viewRows,
  waitFile,
  workbenchUrl,
  type CodeServer,
} from './vscode/harness';

const artefacts = join(repoRoot, 'test-results');

function statusBarTexts(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.statusbar-item')).map((e) => e.textContent?.trim() ?? ''),
  );
}

/** The Kyozo warning on screen (a notification toast): its message and buttons. */
async function warning(page: Page): Promise<{ message: string; buttons: string[] }> {
  const toast = page.locator('.notification-toast', { hasText: 'Kyozo: deploy web to' }).first();
  await toast.waitFor({ timeout: 120_000 });
  return {
    message: (await toast.locator('.notification-list-item-message').textContent())?.trim() ?? '',
    buttons: (await toast.locator('.monaco-button').allTextContents()).map((b) => b.trim()).filter(Boolean),
  };
}

const clickWarning = (page: Page, button: string) =>
  page
    .locator('.notification-toast', { hasText: 'Kyozo: deploy web to' })
    .locator('.monaco-button', { hasText: button })
    .first()
    .click();

test(
  'Kyozo in VS Code: environment secret, environment switch, deploy to staging, push, production asks first',
  { timeout: 900_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    if (!(await engineAvailable())) return t.skip('no Docker engine');
    const missing = registryAvailable() ?? passStoreMissing();
    if (missing) {
      if (process.env.CI === 'true') throw new Error(missing);
      return t.skip(missing);
    }
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    await ensureTestBaseImages();
    const registry = await startRegistry();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-env-')));
    const project = `kzenv${Date.now().toString(36)}`;
    const folder = join(base, project);
    const signals = join(base, 'signals');
    cpSync(join(repoRoot, 'test/fixtures/registry-environments'), folder, { recursive: true });
    // Staging takes a secret from the user's secret store (pass behind docker-credential-pass, made for this test;
    // code-server and so the language server inherit its environment).
    const yaml = readFileSync(join(folder, 'kyozo.yaml'), 'utf8');
    writeFileSync(
      join(folder, 'kyozo.yaml'),
      yaml.replace('  staging:\n', '  staging:\n    secrets:\n      DB_PASSWORD: { from_store: db-password }\n'),
    );
    const store = createPassStore();
    const secretValue = `typed secret ${Date.now()}`;
    mkdirSync(join(folder, '.vscode'), { recursive: true });
    // The LSP trace on: every message between the extension and the language server goes to the Kyozo output channel.
    writeFileSync(
      join(folder, '.vscode/settings.json'),
      JSON.stringify({ 'kyozo.registry': registry.address, 'kyozo.trace.server': 'verbose' }),
    );
    mkdirSync(signals, { recursive: true });
    mkdirSync(artefacts, { recursive: true });
    const suite = await bundleSuite(base, 'environments-suite.ts');

    const live: { cs?: CodeServer; closeBrowser?: () => Promise<void> } = {};
    t.after(async () => {
      await live.closeBrowser?.();
      await live.cs?.stop();
      for (const env of ['staging', 'production']) await cleanupWorkspace(`${project}-${env}`);
      await cleanupWorkspace(project, { images: true });
      for (const img of await testDocker().listImages())
        for (const tag of (img.RepoTags ?? []).filter((x) => x.includes(`/${project}/`)))
          await testDocker()
            .getImage(tag)
            .remove({ force: true })
            .catch(() => undefined);
      await registry.stop();
      store.cleanup();
      rmSync(base, { recursive: true, force: true });
    });

    const cs = await startCodeServer(folder, { KYOZO_E2E_DIR: signals, KYOZO_STATE_DIR: join(base, 'state') });
    live.cs = cs;
    const { browser, page } = await openBrowser();
    live.closeBrowser = () => browser.close();
    const results = () =>
      existsSync(join(signals, 'results.json')) ? readFileSync(join(signals, 'results.json'), 'utf8') : '{}';
    const why = () => `results: ${results()}\ncode-server: ${cs.output().slice(-3000)}`;
    await page.goto(workbenchUrl(cs, folder, suite), { timeout: 120_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

    // Set Environment Secret through its own UI: pick staging, pick the name kyozo.yaml references, type the value.
    await waitFile(join(signals, 'secret-asking'), 240_000, why);
    const quickInput = page.locator('.quick-input-widget .quick-input-box input');
    const pick = async (text: string, expect: RegExp) => {
      await quickInput.waitFor({ timeout: 60_000 });
      await page.waitForFunction(
        (source) =>
          Array.from(document.querySelectorAll('.quick-input-widget .monaco-list-row')).some((r) =>
            new RegExp(source).test(r.getAttribute('aria-label') ?? r.textContent ?? ''),
          ),
        expect.source,
        { timeout: 60_000 },
      );
      await quickInput.fill(text);
      await page.keyboard.press('Enter');
    };
    await pick('staging', /staging/);
    await pick('db-password', /db-password/);
    await page.waitForSelector('.quick-input-widget input[type="password"]', { timeout: 60_000 });
    await page.screenshot({ path: join(artefacts, 'vscode-environments-secret.png') });
    await page.locator('.quick-input-widget input[type="password"]').fill(secretValue);
    await page.keyboard.press('Enter');
    await waitFile(join(signals, 'phase1'), 420_000, why);

    // Staging: selected, deployed as its own project, pushed.
    const inner1 = JSON.parse(results());
    assert.equal(inner1.error, undefined, inner1.error);
    assert.deepEqual(inner1.secret, { environment: 'staging', name: 'db-password', store: 'pass' });
    assert.ok(!results().includes(secretValue));
    assert.equal(inner1.selected, 'staging');
    assert.equal(inner1.setting, 'staging');
    assert.match(inner1.topologyTab ?? '', / · staging$/, 'the topology panel names the active environment');
    const docker = testDocker();
    const running = (p: string) => docker.listContainers({ filters: { label: [`dev.kyozo.workspace=${p}`] } });
    assert.equal((await running(`${project}-staging`)).length, 1, 'web runs in the staging project');
    assert.equal((await running(project)).length, 0, 'nothing of the workspace itself');
    const [stagingWeb] = await running(`${project}-staging`);
    const stagingEnv = (await docker.getContainer(stagingWeb!.Id).inspect()).Config.Env ?? [];
    assert.ok(stagingEnv.includes(`DB_PASSWORD=${secretValue}`), 'the secret typed in VS Code reaches staging');
    // The trace holds the setSecret request, its value sealed: nowhere the typed value.
    let kyozoLog = '';
    for (let i = 0; i < 120 && !/kyozo\.server\.setSecret[\s\S]*"epk"/.test(kyozoLog); i++) {
      await page.waitForTimeout(250);
      kyozoLog = outputChannelLog(cs, 'Kyozo');
    }
    assert.match(kyozoLog, /kyozo\.server\.setSecret[\s\S]*"epk"/, 'the LSP trace shows the request');
    const at = kyozoLog.indexOf(secretValue);
    assert.equal(at, -1, `in the Kyozo output channel: ${kyozoLog.slice(Math.max(0, at - 600), at + 200)}`);
    assert.match(inner1.pushed?.[0]?.reference ?? '', new RegExp(`^${registry.address}/${project}/web:[0-9a-f]{16}$`));
    const digest = inner1.pushed[0].digest as string;
    assert.ok((await statusBarTexts(page)).includes('staging'), JSON.stringify(await statusBarTexts(page)));

    await page.click('.activitybar a[aria-label^="Kyozo"]', { force: true });
    await page.waitForFunction(() => document.querySelectorAll('.pane .monaco-list-row').length > 0, undefined, {
      timeout: 30_000,
    });
    const registryRow = page.locator('.pane .monaco-list-row[aria-label^="Registry"]').first();
    await registryRow.waitFor({ timeout: 30_000 });
    await registryRow.click();
    const pushedRow = `web, pushed ${digest.slice(0, 19)}`;
    for (let i = 0; i < 80 && !(await viewRows(page, 'Services')).includes(pushedRow); i++)
      await page.waitForTimeout(250);
    const rows = await viewRows(page, 'Services');
    assert.ok(rows.includes(pushedRow), JSON.stringify(rows));
    assert.ok(rows.includes('worker, not built'), JSON.stringify(rows));
    await page.screenshot({ path: join(artefacts, 'vscode-environments-registry.png') });

    // Production asks first: Cancel deploys nothing.
    writeFileSync(join(signals, 'production'), '1');
    await waitFile(join(signals, 'asking'), 120_000, why);
    const asked = await warning(page);
    assert.match(asked.message, /^Kyozo: deploy web to production\? The active environment/);
    assert.deepEqual(asked.buttons, ['Deploy to production', 'Cancel']);
    assert.ok((await statusBarTexts(page)).includes('production'));
    await page.screenshot({ path: join(artefacts, 'vscode-environments-confirm.png') });
    await clickWarning(page, 'Cancel');
    await waitFile(join(signals, 'phase2'), 60_000, why);
    const inner2 = JSON.parse(results());
    assert.equal(inner2.error, undefined, inner2.error);
    assert.equal(inner2.cancelled, null);
    assert.equal(inner2.stateAfterCancel, 'not-deployed');
    assert.equal((await running(`${project}-production`)).length, 0, 'Cancel deployed nothing');

    // ...and Deploy to production deploys there, beside staging.
    writeFileSync(join(signals, 'again'), '1');
    await waitFile(join(signals, 'asking-again'), 60_000, why);
    await warning(page);
    await clickWarning(page, 'Deploy to production');
    await waitFile(join(signals, 'phase3'), 300_000, why);
    const inner3 = JSON.parse(results());
    assert.equal(inner3.error, undefined, inner3.error);
    const [prod] = await running(`${project}-production`);
    assert.ok(prod, 'web runs in the production project');
    const env = (await docker.getContainer(prod.Id).inspect()).Config.Env ?? [];
    assert.ok(env.includes('GREETING=hello from production'), JSON.stringify(env));
    assert.equal((await running(`${project}-staging`)).length, 1, 'staging still runs');
  },
);
