// The TextDocument <-> Y.Text binding on real documents in a real VS Code (code-server 4.100.3 = VS Code 1.100.3,
// driven through Debian's Chromium): the suite (test/e2e/vscode/share-binding-suite.ts) runs in the extension host
// and reports to results.json; this test prepares the files and checks what it saw.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  bundleSuite,
  openBrowser,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
  codeServerMissing,
  repoRoot,
} from './vscode/harness';

test(
  'Share binding in VS Code: minimal remote edits, typing, CRLF, emoji, a disk edit while open',
  { timeout: 300_000 },
  async (t) => {
    if (codeServerMissing(t)) return;
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-e2e-share-')));
    const folder = join(base, 'ws');
    const signals = join(base, 'signals');
    mkdirSync(folder, { recursive: true });
    mkdirSync(signals, { recursive: true });
    writeFileSync(join(folder, 'plain.txt'), 'hello world\n');
    writeFileSync(join(folder, 'crlf.txt'), 'one\r\ntwo\r\n');
    writeFileSync(join(folder, 'emoji.txt'), 'a😀b\n');
    writeFileSync(join(folder, 'disk.txt'), 'disk v1\n');
    writeFileSync(join(folder, 'race.txt'), 'race\n');
    const suite = await bundleSuite(base, 'share-binding-suite.ts');

    const live: { cs?: CodeServer; closeBrowser?: () => Promise<void> } = {};
    t.after(async () => {
      await live.closeBrowser?.();
      await live.cs?.stop();
      rmSync(base, { recursive: true, force: true });
    });
    const cs = await startCodeServer(folder, { KYOZO_E2E_DIR: signals });
    live.cs = cs;
    const { browser, page } = await openBrowser();
    live.closeBrowser = () => browser.close();
    const resultsFile = join(signals, 'results.json');
    await page.goto(workbenchUrl(cs, folder, suite));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    const end = Date.now() + 240_000;
    while (!existsSync(resultsFile) || !('finishedAt' in JSON.parse(readFileSync(resultsFile, 'utf8')))) {
      if (Date.now() > end) throw new Error(`no results within 240 s: ${cs.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
    console.log(`# race: ${r.race?.length} characters, ${JSON.stringify(r.race?.stats)}`);
    // The binding's steps while both typed, for a failure to show.
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    writeFileSync(join(repoRoot, 'test-results', 'share-binding-race.log'), (r.race?.log ?? []).join('\n'));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.ok, true);
    // The peer's insert and delete arrived as change events of exactly their ranges (never the whole document).
    assert.deepEqual(r.remoteEvents, [
      [{ rangeOffset: 6, rangeLength: 0, text: 'big ' }],
      [{ rangeOffset: 0, rangeLength: 6, text: '' }],
    ]);
    assert.deepEqual(r.crlfEvents[0], [{ rangeOffset: 5, rangeLength: 0, text: 'new\r\nline\r\n' }]);
    assert.deepEqual(r.emojiEvents[0], [{ rangeOffset: 1, rangeLength: 2, text: '' }]);
    assert.ok(r.diskEvents.length >= 1, JSON.stringify(r.diskEvents));
    assert.equal(r.race.length, 125);
  },
);
