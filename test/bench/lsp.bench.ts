// bench:lsp — hover and CodeLens latency (p50/p99) of the built language server on a large generated repository,
// next to its analysis time and resident memory. Reference measured in the same run: the JSON-RPC round trip of a
// hover on a file Kyozo has nothing to say about (transport + dispatch floor).
// Size: KYOZO_BENCH_FILES (default 100000) files in KYOZO_BENCH_SERVICES (default 500) service folders. Bounded:
// every phase has a deadline, and the generated tree is removed at the end.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';
import { Methods, type TopologyParams } from '../../server/src/protocol';

const FILES = Number(process.env.KYOZO_BENCH_FILES ?? 100_000);
const SERVICES = Number(process.env.KYOZO_BENCH_SERVICES ?? 500);
const REQUESTS = Number(process.env.KYOZO_BENCH_REQUESTS ?? 2000);
const root = new URL('../..', import.meta.url).pathname;

function generate(dir: string): number {
  let files = 0;
  const perService = Math.max(4, Math.floor(FILES / SERVICES));
  const compose: string[] = ['services:'];
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const d = join(dir, 'services', name);
    mkdirSync(join(d, 'src'), { recursive: true });
    writeFileSync(
      join(d, 'package.json'),
      JSON.stringify(
        {
          name,
          version: '1.0.0',
          scripts: { start: 'node index.js' },
          dependencies: { express: '^4.19.2', ...(i % 7 === 0 ? { pg: '^8' } : {}) },
        },
        null,
        2,
      ),
    );
    writeFileSync(
      join(d, 'index.js'),
      `const express = require('express');\nconst app = express();\napp.get('/health', (q, r) => r.send('ok'));\napp.listen(${3000 + i});\n`,
    );
    files += 2;
    if (i % 3 === 0) {
      writeFileSync(
        join(d, 'Dockerfile'),
        `FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nEXPOSE ${3000 + i}\nCMD ["node", "index.js"]\n`,
      );
      files++;
    }
    for (let f = 0; f < perService - 3; f++) {
      writeFileSync(join(d, 'src', `module-${f}.js`), `module.exports = function m${f}(x) { return x + ${f}; };\n`);
      files++;
    }
    if (i < 100)
      compose.push(
        `  ${name}:`,
        `    build: ./services/${name}`,
        ...(i > 0 ? [`    depends_on: [svc-${String(i - 1).padStart(4, '0')}]`] : []),
      );
  }
  compose.push('  db:', '    image: postgres:16');
  writeFileSync(join(dir, 'docker-compose.yml'), compose.join('\n') + '\n');
  return files + 1;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error('bench:lsp exceeded 10 minutes; aborting');
    process.exit(2);
  }, 600_000);
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-bench-lsp-'));
  const t0 = performance.now();
  const files = generate(dir);
  const genMs = performance.now() - t0;
  // The flags the extension starts the server with (extension/src/language-client.ts); override to compare.
  const nodeArgs = (process.env.KYOZO_BENCH_NODE_ARGS ?? '--max-semi-space-size=32').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist/server.js'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/kyozo-bench.sock' },
  });
  const c = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  for (const m of ['client/registerCapability', 'workspace/codeLens/refresh', 'window/workDoneProgress/create'])
    c.onRequest(m, () => null);
  c.onNotification(() => undefined);
  let topologyAt = 0;
  const topology = new Promise<TopologyParams>((resolve) =>
    c.onNotification(Methods.topology, (p: TopologyParams) => {
      topologyAt = performance.now();
      resolve(p);
    }),
  );
  c.listen();
  const uri = (rel: string) => pathToFileURL(join(dir, rel)).href;
  const start = performance.now();
  await c.sendRequest('initialize', {
    processId: process.pid,
    rootUri: uri(''),
    workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'bench' }],
    capabilities: {},
    initializationOptions: { settings: { docker: {}, baseImages: {}, defaults: {}, ignore: [], autoDeploy: false } },
  });
  await c.sendNotification('initialized', {});
  const t = (await topology).topology;
  const analysisMs = topologyAt - start;

  const docs = [
    'docker-compose.yml',
    ...Array.from(
      { length: 50 },
      (_, i) => `services/svc-${String(i * Math.floor(SERVICES / 50)).padStart(4, '0')}/package.json`,
    ),
    'services/svc-0000/src/module-10.js',
  ];
  for (const d of docs)
    await c.sendNotification('textDocument/didOpen', {
      textDocument: { uri: uri(d), languageId: 'plaintext', version: 1, text: readFileSync(join(dir, d), 'utf8') },
    });
  const time = async (fn: (i: number) => Promise<unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < 50; i++) await fn(i); // warm-up
    for (let i = 0; i < REQUESTS; i++) {
      const s = performance.now();
      await fn(i);
      out.push(performance.now() - s);
    }
    return out.sort((a, b) => a - b);
  };
  const manifests = docs.slice(1, -1);
  const hover = await time((i) =>
    c.sendRequest('textDocument/hover', {
      textDocument: { uri: uri(manifests[i % manifests.length]) },
      position: { line: 1, character: 4 },
    }),
  );
  const composeHover = await time((i) =>
    c.sendRequest('textDocument/hover', {
      textDocument: { uri: uri('docker-compose.yml') },
      position: { line: 1 + 3 * (i % 90), character: 4 },
    }),
  );
  const lens = await time((i) =>
    c.sendRequest('textDocument/codeLens', { textDocument: { uri: uri(manifests[i % manifests.length]) } }),
  );
  const composeLens = await time(() =>
    c.sendRequest('textDocument/codeLens', { textDocument: { uri: uri('docker-compose.yml') } }),
  );
  const floor = await time(() =>
    c.sendRequest('textDocument/hover', {
      textDocument: { uri: uri('services/svc-0000/src/module-10.js') },
      position: { line: 0, character: 0 },
    }),
  );
  const rss = rssMb(child.pid!, 'VmRSS');
  const peak = rssMb(child.pid!, 'VmHWM');

  const row = (name: string, xs: number[], target: string) =>
    console.log(
      `${name.padEnd(34)} ${percentile(xs, 50).toFixed(3).padStart(8)} ${percentile(xs, 99).toFixed(3).padStart(8)} ms   ${percentile(floor, 50).toFixed(3).padStart(8)} ${percentile(floor, 99).toFixed(3).padStart(8)} ms   ${target}`,
    );
  console.log(
    `\nbench:lsp — ${files} files, ${t.services.length} services (${SERVICES} generated), ${REQUESTS} requests each; tree generated in ${(genMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `${'metric'.padEnd(34)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}      ${'ref p50'.padStart(8)} ${'ref p99'.padStart(8)}      target`,
  );
  row('hover, package.json', hover, 'p99 < 5 ms');
  row('hover, compose service (100 svc)', composeHover, 'p99 < 5 ms');
  row('CodeLens, package.json', lens, 'p99 < 5 ms');
  row('CodeLens, compose (100 svc)', composeLens, 'p99 < 5 ms');
  console.log(`(reference: hover on a file Kyozo ignores = JSON-RPC round trip)`);
  console.log(
    `analysis (initialize → kyozo/topology)   ${(analysisMs / 1000).toFixed(2)} s   (engine stats: ${t.stats.durationMs} ms, ${t.stats.files} files)`,
  );
  console.log(
    `server RSS after requests                ${rss.toFixed(0)} MB (peak ${peak.toFixed(0)} MB)   target < 300 MB`,
  );
  const ok = percentile(hover, 99) < 5 && percentile(lens, 99) < 5 && peak < 300;
  console.log(ok ? 'targets met' : 'TARGET MISSED');

  await Promise.race([c.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
  await c.sendNotification('exit');
  c.dispose();
  child.kill();
  rmSync(dir, { recursive: true, force: true });
  clearTimeout(deadline);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
