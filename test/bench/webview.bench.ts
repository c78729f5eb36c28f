// Topology webview: time from the topology message to the first painted frame, and to the ELK-refined layout,
// in Debian's Chromium, for generated topologies of 50, 200 and 500 services (with edges and groups).
// Reference, measured in the same run and browser: painting the same number of empty absolutely-positioned
// boxes on a plain page (the floor any renderer pays), and ELK layout alone.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { startHarness, launch, WebviewPage } from '../e2e/webview-harness/harness';
import { generateTopology } from '../e2e/webview-harness/generate';

const SIZES = [50, 200, 500];
const RUNS = 3;
const TARGET_MS = 500;
const root = join(__dirname, '..', '..');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'ignore' });
  const harness = await startHarness();
  const browser = await launch();
  const deadline = Date.now() + 5 * 60_000;
  const rows: string[][] = [];
  try {
    for (const n of SIZES) {
      const t = generateTopology(n);
      const first: number[] = [];
      const full: number[] = [];
      const boxes: number[] = [];
      const update: number[] = [];
      for (let r = 0; r < RUNS && Date.now() < deadline; r++) {
        const p = await WebviewPage.open(browser, harness, { width: 1400, height: 900 });
        const m = await p.page.evaluate(
          async (topology) => {
            const t0 = performance.now();
            window.postMessage({ type: 'topology', topology }, '*');
            while (!document.querySelector('.nodes .node')) await new Promise((res) => requestAnimationFrame(res));
            await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
            const firstPaint = performance.now() - t0;
            while (document.body.dataset.layout !== 'elk') await new Promise((res) => setTimeout(res, 2));
            await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
            return { firstPaint, full: performance.now() - t0 };
          },
          t as unknown as Record<string, unknown>,
        );
        // A live update on the warm page: one service more, re-laid out by ELK and glided into place.
        const next = structuredClone(t);
        next.services.push({
          ...structuredClone(t.services[t.services.length - 1]),
          id: 'services/added',
          name: 'added',
          folder: 'services/added',
          group: undefined,
        });
        next.order[next.order.length - 1].push('services/added');
        update.push(
          await p.page.evaluate(
            async (topology) => {
              document.body.dataset.layout = 'pending';
              const t0 = performance.now();
              window.postMessage({ type: 'topology', topology }, '*');
              while (document.body.dataset.layout !== 'elk') await new Promise((res) => setTimeout(res, 2));
              await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
              return performance.now() - t0;
            },
            next as unknown as Record<string, unknown>,
          ),
        );
        first.push(m.firstPaint);
        full.push(m.full);
        // Reference: the same number of empty boxes, on a fresh plain page in the same browser.
        const plain = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        boxes.push(
          await plain.evaluate(async (count) => {
            const t0 = performance.now();
            for (let i = 0; i < count; i++) {
              const d = document.createElement('div');
              d.style.cssText = `position:absolute;left:${(i % 25) * 60}px;top:${Math.floor(i / 25) * 30}px;width:50px;height:20px;border:1px solid #888`;
              document.body.appendChild(d);
            }
            await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
            return performance.now() - t0;
          }, n),
        );
        await plain.close();
        await p.page.close();
      }
      rows.push([
        String(n),
        String(t.edges.length),
        String(t.groups.length),
        median(first).toFixed(0),
        median(full).toFixed(0),
        median(update).toFixed(0),
        median(boxes).toFixed(0),
      ]);
    }
  } finally {
    await browser.close();
    await harness.close();
  }
  const head = [
    'services',
    'edges',
    'groups',
    'first paint ms',
    'ELK layout+render ms',
    'live update ms',
    'ref: empty boxes ms',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(
    `topology webview, Chromium ${execFileSync('/usr/bin/chromium', ['--version']).toString().trim()}, median of ${RUNS} fresh pages, load average ${loadavg()[0].toFixed(1)} on this machine`,
  );
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  const at500 = rows.find((r) => r[0] === '500');
  if (at500)
    console.log(
      `target: first paint < ${TARGET_MS} ms at 500 services: ${Number(at500[3]) < TARGET_MS ? 'met' : 'NOT met'} (${at500[3]} ms); ELK-refined layout at 500: ${at500[4]} ms`,
    );
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
