// PathWalker benchmark (issue 17), on the 100k-file tree of bench:detect (200 services in seven languages, generated
// once into the temp folder): describe every folder (time and peak RSS, in a plain Node.js process running the
// bundled engine), the repository map's size in tokens at 200 services and at 500 (a generated tree of 500 small
// services), and the p50/p99 of MCP tool calls made by the SDK's Client to the built `kyozo mcp` over stdio.
// Bounded: child processes have timeouts, calls are a fixed count.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ContextChildResult } from './context-child';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const TREE = process.env.KYOZO_BENCH_TREE ?? join(tmpdir(), 'kyozo-bench-detect-v3');
const CALLS = Number(process.env.KYOZO_BENCH_CALLS ?? 300);
const CHILD_TIMEOUT_MS = 300_000;
const TARGET = { describeAllMs: 2000, mapTokens: 4000, callP99Ms: 20 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

function ensureTree(): void {
  if (existsSync(join(TREE, '.kyozo-bench-complete'))) return;
  console.log(`tree: ${TREE} is missing; bench:detect generates it (one run, one edit)`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'detect.bench.ts')], {
    cwd: REPO,
    stdio: 'inherit',
    timeout: 1_800_000,
    env: { ...process.env, KYOZO_BENCH_RUNS: '1', KYOZO_BENCH_EDITS: '1' },
  });
  if (!existsSync(join(TREE, '.kyozo-bench-complete')))
    throw new Error(`bench:detect did not generate ${TREE} (${r.status})`);
}

/** 500 small Express services under eight domain folders: the topology a 500-service map is made from. */
function servicesTree(count: number): string {
  const root = mkdtempSync(join(tmpdir(), `kyozo-bench-context-${count}-`));
  const domains = ['catalog', 'checkout', 'identity', 'search', 'shipping', 'billing', 'analytics', 'platform'];
  for (let i = 0; i < count; i++) {
    const dir = join(root, 'services', domains[i % domains.length], `svc-${String(i).padStart(3, '0')}`);
    mkdirSync(join(dir, 'src'), { recursive: true });
    const pkg = { name: `svc-${i}`, scripts: { start: 'node src/index.js' }, dependencies: { express: '^4.19.2' } };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    writeFileSync(
      join(dir, 'src', 'index.js'),
      `const app = require('express')();\napp.get('/v1/items/${i}', (_q, r) => r.send('ok'));\n` +
        `app.listen(${3000 + i});\n`,
    );
  }
  return root;
}

function runChild(root: string): ContextChildResult {
  const out = join(REPO, 'dist', 'bench', 'context-child.js');
  esbuild.buildSync({
    entryPoints: [join(__dirname, 'context-child.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['web-tree-sitter', '@vscode/tree-sitter-wasm'],
    logLevel: 'warning',
  });
  const r = spawnSync(process.execPath, [out, root], {
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0)
    throw new Error(`the in-process run failed (${r.status ?? r.signal}): ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ContextChildResult;
}

async function mcpCalls(): Promise<{ startMs: number; times: number[]; byTool: Record<string, number[]> }> {
  const t0 = performance.now();
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', TREE], stderr: 'ignore' });
  const client = new Client({ name: 'kyozo-bench', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  const startMs = performance.now() - t0;
  const folders = [
    'services/catalog/express-000',
    'services/checkout/fastapi-001',
    'services/identity/gin-002',
    'packages/lib-03',
    'docs',
  ];
  const calls: [string, Record<string, unknown>][] = [
    ['kyozo_describe_folder', { folder: folders[0] }],
    ['kyozo_find', { route: 'GET /healthz' }],
    ['kyozo_find', { env: 'PORT' }],
    ['kyozo_find', { talksTo: 'express-000' }],
    ['kyozo_find', { file: 'services/identity/gin-002/main.go' }],
    ['kyozo_related', { folder: folders[1] }],
    ['kyozo_explain_service', { service: 'gin-002' }],
    ['kyozo_describe_folder', { folder: folders[3] }],
    ['kyozo_describe_folder', { folder: folders[4] }],
    ['kyozo_topology', {}],
  ];
  // The first call of each describes what it needs (every service folder for kyozo_find); measured after that.
  for (const [name, args] of calls) await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
  const times: number[] = [];
  const byTool: Record<string, number[]> = {};
  for (let i = 0; i < CALLS; i++) {
    const [name, args] = calls[i % calls.length];
    const t = performance.now();
    const r = await client.callTool({ name, arguments: args });
    const elapsed = performance.now() - t;
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    times.push(elapsed);
    (byTool[name] ??= []).push(elapsed);
  }
  await client.close();
  return { startMs, times, byTool };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench:context does).`);
  ensureTree();
  const started = performance.now();
  const big = runChild(TREE);
  const small = servicesTree(500);
  let five: ContextChildResult;
  try {
    five = runChild(small);
  } finally {
    rmSync(small, { recursive: true, force: true });
  }
  const calls = await mcpCalls();

  const verdict = (ok?: boolean) => (ok === undefined ? '' : ok ? 'ok' : 'MISSED');
  const row = (label: string, ours: string, reference: string, target: string, ok?: boolean) =>
    console.log(`${label.padEnd(36)}${ours.padStart(14)}   ${reference.padEnd(46)}${target.padEnd(14)}${verdict(ok)}`);
  console.log(
    `\ntree: ${TREE}: ${big.folders} folders, ${big.services} services; ` +
      `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores\n`,
  );
  row('measure', 'kyozo', 'reference (same run)', 'target');
  row(
    'describe every folder (cold)',
    ms(big.describeAllMs),
    `analyze() before it ${ms(big.analyzeMs)}`,
    `< ${TARGET.describeAllMs} ms`,
    big.describeAllMs < TARGET.describeAllMs,
  );
  row('  per folder', ms(big.describeAllMs / big.folders), `again from cache ${ms(big.describeAgainMs)}`, '');
  row('peak RSS (analyze + describe all)', `${big.peakRssMb.toFixed(0)} MB`, '', '');
  row(
    `repo map at ${big.services} services`,
    `${big.mapTokens} tok`,
    `${big.namesInMap}/${big.services} names in it, ${ms(big.mapMs)}`,
    `< ${TARGET.mapTokens} tok`,
    big.mapTokens < TARGET.mapTokens && big.namesInMap === big.services,
  );
  row(
    `repo map at ${five.services} services`,
    `${five.mapTokens} tok`,
    `${five.namesInMap}/${five.services} names in it, ${ms(five.mapMs)}`,
    '(report)',
  );
  row('kyozo mcp start to tools/list', ms(calls.startMs), 'built CLI, analyses the tree first', '');
  row(`MCP tool call p50 (${calls.times.length} calls)`, ms(pct(calls.times, 50)), 'SDK client over stdio', '');
  row(
    'MCP tool call p99',
    ms(pct(calls.times, 99)),
    '',
    `< ${TARGET.callP99Ms} ms`,
    pct(calls.times, 99) < TARGET.callP99Ms,
  );
  for (const [name, t] of Object.entries(calls.byTool))
    row(`  ${name} p50/p99`, `${pct(t, 50).toFixed(1)}/${pct(t, 99).toFixed(1)} ms`, '', '');
  console.log(`\ntotal bench time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(`bench:context failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
