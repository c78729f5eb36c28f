// The topology panel inside a real VS Code (code-server, VS Code 1.100.3) through Debian's Chromium: the command
// opens the panel, the webview runs under VS Code's own webview host with our CSP, finds the fixture workspace's
// services laid out by ELK (its blob worker is allowed there too), and the serializer restores it after a reload.
// Reuses the code-server harness of test/e2e/vscode/ (no Docker needed: analysis only).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { openBrowser, repoRoot, startCodeServer, type CodeServer, codeServerMissing } from './vscode/harness';

const artefacts = join(repoRoot, 'test-results', 'webview');

/** The webview's inner frame (VS Code nests it: iframe.webview → #active-frame) once it shows service nodes. */
async function topologyFrame(
  page: Page,
  timeoutMs: number,
  want: (names: string[]) => boolean,
): Promise<{ frame: Frame; names: string[] }> {
  const end = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < end) {
    for (const frame of page.frames()) {
      const names = await frame
        .evaluate(() =>
          Array.from(document.querySelectorAll('.nodes .node .node-name')).map((n) => n.textContent ?? ''),
        )
        .catch(() => undefined);
      if (!names) continue;
      last = names;
      if (want(names)) return { frame, names };
    }
    await page.waitForTimeout(500);
  }
  await page.screenshot({ path: join(artefacts, 'vscode-panel-missing.png') });
  const frames = await Promise.all(
    page
      .frames()
      .map((f) =>
        f
          .evaluate(
            () =>
              `${location.href.slice(0, 80)} ${JSON.stringify(document.body?.dataset ?? {})} ${(document.body?.textContent ?? '').slice(0, 120)}`,
          )
          .catch((e) => `${f.url().slice(0, 80)} (${String(e).slice(0, 60)})`),
      ),
  );
  throw new Error(
    `no topology webview frame with the expected nodes within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}; frames: ${frames.join(' | ')}`,
  );
}

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget:not([style*="display: none"]) input', { timeout: 20_000 });
  await page.keyboard.type(title);
  try {
    await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 30_000 });
  } catch (err) {
    await page.screenshot({ path: join(artefacts, 'vscode-command-palette.png') });
    const rows = await page.$$eval('.quick-input-list .monaco-list-row', (els) =>
      els.map((e) => e.getAttribute('aria-label')),
    );
    throw new Error(
      `"${title}" is not in the command palette (is the extension activated?); rows: ${JSON.stringify(rows)}`,
      { cause: err },
    );
  }
  await page.keyboard.press('Enter');
}

test(
  'Kyozo: Open Topology shows the workspace services in a real VS Code and survives a reload',
  { timeout: 420_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-webview-e2e-')));
    const folder = join(base, 'shop');
    cpSync(join(repoRoot, 'test/fixtures/vscode-workspace'), folder, { recursive: true });
    mkdirSync(artefacts, { recursive: true });
    const live: { cs?: CodeServer; closeBrowser?: () => Promise<void> } = {};
    t.after(async () => {
      await live.closeBrowser?.();
      await live.cs?.stop();
      rmSync(base, { recursive: true, force: true });
    });

    const cs = await startCodeServer(folder, {});
    live.cs = cs;
    const { browser, page } = await openBrowser();
    live.closeBrowser = () => browser.close();
    // This repository as the development extension; no test suite runs inside, the page is driven from here.
    const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${cs.port}${repoRoot}`]]);
    await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await page.waitForTimeout(3000);

    await runCommand(page, 'Kyozo: Open Topology');
    await page.waitForSelector('.editor-group-container .tab[aria-label*="Topology"]', { timeout: 60_000 });
    const hasBoth = (names: string[]) => names.includes('api') && names.includes('web');
    const { frame, names } = await topologyFrame(page, 120_000, hasBoth);
    assert.ok(hasBoth(names), JSON.stringify(names));
    await frame.waitForFunction(() => document.body.dataset.layout === 'elk', undefined, { timeout: 60_000 });
    assert.equal(
      await frame.evaluate(() => document.body.dataset.engine),
      'elk',
      "ELK ran in its blob worker under VS Code's webview CSP",
    );
    // VS Code's theme reached the webview: the node fill is a real colour from --vscode-editorWidget-background.
    const fill = await frame.evaluate(() => getComputedStyle(document.querySelector('.node .node-shape')!).fill);
    assert.match(fill, /^rgb/);
    assert.ok(
      await frame.evaluate(
        () => document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-light'),
      ),
    );

    await frame.click('.node[data-id="api"]');
    await frame.waitForSelector('.details:not([hidden]) h2');
    assert.equal(await frame.locator('.details h2').textContent(), 'api');
    await page.waitForTimeout(800); // the view state is saved 150 ms after a change
    await page.screenshot({ path: join(artefacts, 'vscode-panel.png') });

    // Reload the window the way a user does (Developer: Reload Window): VS Code shuts the workbench down, which saves
    // its editor state, then reloads; the serializer restores the panel, and the webview its selection. (A bare
    // page.reload() can outrun the workbench's state save, and then there is nothing to restore.)
    const reloaded = page.waitForEvent('load', { timeout: 90_000 });
    await runCommand(page, 'Developer: Reload Window');
    await reloaded;
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    const restored = await topologyFrame(page, 120_000, hasBoth);
    await restored.frame.waitForSelector('.node.selected[data-id="api"]', { timeout: 30_000 });
    assert.equal(await restored.frame.locator('.details h2').textContent(), 'api');
    await page.screenshot({ path: join(artefacts, 'vscode-panel-restored.png') });
  },
);
