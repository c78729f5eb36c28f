// Runs the suites in order with node's test runner (TypeScript through tsx) and prints one closing line.
// unit: pure engine, LSP over JSON-RPC, sync server on loopback (parallel files)
// integration: a real Docker engine (one file at a time: they share the engine)
// e2e: real Chromium and a real VS Code through code-server (one file at a time)
// Usage: node test/run.mjs [suite...] [--filter substring]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites = [
  { name: 'unit', concurrency: 2 },
  { name: 'integration', concurrency: 1 },
  { name: 'e2e', concurrency: 1 },
];
const args = process.argv.slice(2);
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args.splice(filterAt, 2)[1] : undefined;
const wanted = args.length ? suites.filter((s) => args.includes(s.name)) : suites;

function testFiles(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(testFiles(p));
    else if (/\.test\.(ts|mjs)$/.test(e) && (!filter || p.includes(filter))) out.push(p);
  }
  return out;
}

const totals = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
let failed = false;
for (const suite of wanted) {
  const files = testFiles(join(root, 'test', suite.name));
  if (files.length === 0) continue;
  console.log(`\n=== ${suite.name}: ${files.length} files ===`);
  const code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        // --test-force-exit: a test that fails before its cleanup (a provider or timer left open) must not keep its file's
        // process, and so the whole run, alive once every test has finished.
        '--import',
        'tsx',
        '--test',
        '--test-force-exit',
        `--test-concurrency=${suite.concurrency}`,
        '--test-reporter=spec',
        ...files.map((f) => relative(root, f)),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KYOZO_TEST_SUITE: suite.name } },
    );
    let tail = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d.toString()).slice(-4000);
    });
    child.on('close', (c) => {
      for (const k of Object.keys(totals)) {
        const m = tail.match(new RegExp(`^ℹ ${k} (\\d+)$`, 'm'));
        if (m) totals[k] += Number(m[1]);
      }
      resolve(c);
    });
  });
  if (code !== 0) failed = true;
}
console.log(`\n${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped} skipped`);
process.exit(failed || totals.fail + totals.cancelled > 0 ? 1 : 0);
