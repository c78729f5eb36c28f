// The topology webview in a real Chromium on topologies the engine produces for whole repositories, where one folder
// holds both a workspace and a compose file (two groups with the folder '.'). The shop's dark-theme screenshot is kept
// in test-results/webview/ (docs/images/topology-shop.png is taken from it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { analyze } from '../../server/src/engine';
import type { Topology } from '../../server/src/protocol';
import { startHarness, launch, WebviewPage, type Harness } from './webview-harness/harness';

const root = join(__dirname, '..', '..');
const artefacts = join(root, 'test-results', 'webview');
let harness: Harness;
let browser: Browser;

before(async () => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
  mkdirSync(artefacts, { recursive: true });
  harness = await startHarness();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await harness?.close();
});

type Rect = { id: string; x: number; y: number; w: number; h: number };

async function show(t: Topology): Promise<WebviewPage> {
  const p = await WebviewPage.open(browser, harness, { theme: 'dark', width: 1400, height: 900 });
  await p.send({ type: 'topology', topology: t });
  // A render that throws never reaches the ELK layout: stop at the first page error instead of timing out.
  await p.page
    .waitForFunction(() => document.body.dataset.layout === 'elk', undefined, { timeout: 15_000 })
    .catch(() => {
      throw new Error(`the graph was not laid out; page errors: ${p.errors.join(' | ') || 'none'}`);
    });
  await p.page.waitForTimeout(350);
  return p;
}

async function boxes(p: WebviewPage, selector: string, shape: string): Promise<Rect[]> {
  return p.page.$$eval(
    selector,
    (els, shapeSel) =>
      els.map((el) => {
        const r = el.querySelector(shapeSel)!.getBoundingClientRect();
        return { id: (el as SVGGElement).dataset.id!, x: r.x, y: r.y, w: r.width, h: r.height };
      }),
    shape,
  );
}

for (const [name, folder, groupLabels] of [
  ['examples/shop', join(root, 'examples', 'shop'), ['shop · compose', 'shop · npm workspaces']],
  [
    'test/fixtures/monorepo-polyglot',
    join(root, 'test', 'fixtures', 'monorepo-polyglot'),
    ['monorepo-polyglot · compose', 'monorepo-polyglot · pnpm workspaces + turborepo'],
  ],
] as const) {
  test(`${name}: the engine's topology (a workspace and a compose file at the root) draws every service and edge`, async () => {
    const t = await analyze(folder);
    assert.deepEqual(
      t.groups.map((g) => g.id),
      ['.', '.'],
      'the repository keeps a workspace and a compose group in its root folder',
    );
    const p = await show(t);
    const nodes = await boxes(p, '.nodes .node', '.node-shape');
    assert.deepEqual(nodes.map((n) => n.id).sort(), t.services.map((s) => s.id).sort(), 'one node per service');
    const edges = t.edges.filter((e) => e.from !== e.to).length;
    assert.equal(await p.page.locator('.edges .edge').count(), edges);
    for (const n of nodes) assert.ok(n.w > 0 && n.h > 0 && Number.isFinite(n.x + n.y), `${n.id} is placed`);

    // One box per group, each with an id of its own, and every service inside the box of the group that lists it.
    const groups = await boxes(p, '.groups .group', 'rect');
    const ids = groups.map((g) => g.id);
    assert.equal(new Set(ids).size, ids.length, `group ids are unique: ${ids.join(', ')}`);
    assert.deepEqual(
      (await p.page.$$eval('.groups .group-label', (els) => els.map((e) => e.textContent))).sort(),
      groupLabels,
    );
    const workspace = t.groups.find((g) => g.kind === 'workspace')!;
    const box = new Map<string, Rect>();
    for (const g of groups) {
      const kind = await p.page.getAttribute(`.groups .group[data-id="${g.id}"]`, 'class');
      box.set(kind!.includes('group-workspace') ? 'workspace' : 'compose', g);
    }
    for (const n of nodes) {
      const g = box.get(workspace.members.includes(n.id) ? 'workspace' : 'compose')!;
      const inside = n.x >= g.x && n.y >= g.y && n.x + n.w <= g.x + g.w + 0.5 && n.y + n.h <= g.y + g.h + 0.5;
      assert.ok(inside, `${n.id} should be inside the ${g.id} box`);
    }
    assert.deepEqual(await p.violations(), []);
    assert.deepEqual(
      p.errors.filter((e) => !/favicon|404/.test(e)),
      [],
    );
    await p.page.screenshot({ path: join(artefacts, `${name.split('/').pop()}-dark.png`) });
    await p.page.close();
  });
}
