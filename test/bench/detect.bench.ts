// Detection benchmark (issue 2): a generated ~100k-file monorepo (200 services in seven languages, libraries,
// node_modules / __pycache__ / target / dist noise, a .gitignore), analysed cold by the built CLI and in-process,
// side by side with the floor measured in the same run: a plain file listing of the same tree (`rg --files`, and
// `find -type f`). Then p50/p99 of analyzer.update() after one-file edits, and peak RSS. The in-process figures come
// from detect-child.ts bundled by esbuild and run by plain Node.js, as the language server runs the engine: the same
// code transpiled file by file under tsx ran about 25% slower per update, with `assemble` deoptimised on most calls.
// The tree is generated once per GENERATOR_VERSION into the temp folder and reused by later runs.
// Bounded: every child process has a timeout, runs and edits are fixed counts.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChildResult } from './detect-child';

const GENERATOR_VERSION = 'v3';
const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const TREE = process.env.KYOZO_BENCH_TREE ?? join(tmpdir(), `kyozo-bench-detect-${GENERATOR_VERSION}`);
const SERVICES = 200;
const RUNS = Number(process.env.KYOZO_BENCH_RUNS ?? 3);
const EDITS = Number(process.env.KYOZO_BENCH_EDITS ?? 200);
const CHILD_TIMEOUT_MS = 300_000;
const TARGET = { ratio: 1.5, p99Ms: 10, rssMb: 300 };

// ───────────────────────────── tree generator ─────────────────────────────

type Kind =
  | 'express'
  | 'fastify'
  | 'next'
  | 'fastapi'
  | 'flask'
  | 'django'
  | 'gin'
  | 'chi'
  | 'axum'
  | 'spring'
  | 'sinatra'
  | 'php'
  | 'worker';
const KINDS: Kind[] = [
  'express',
  'fastapi',
  'gin',
  'next',
  'flask',
  'axum',
  'fastify',
  'chi',
  'spring',
  'django',
  'sinatra',
  'php',
  'worker',
];
const DOMAINS = ['catalog', 'checkout', 'identity', 'search', 'shipping', 'billing', 'analytics', 'platform'];

let fileCount = 0;
function put(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  fileCount++;
}

const svcName = (i: number) => `${KINDS[i % KINDS.length]}-${String(i).padStart(3, '0')}`;
const svcDir = (i: number) => join('services', DOMAINS[i % DOMAINS.length], svcName(i));
const svcPort = (i: number) => 3000 + i;
const isNode = (k: Kind) => k === 'express' || k === 'fastify' || k === 'next' || k === 'worker';
const isPython = (k: Kind) => k === 'fastapi' || k === 'flask' || k === 'django';

function sourceFile(kind: Kind, n: number): [string, string] {
  if (isNode(kind)) {
    return [
      `src/modules/m${n % 12}/handler-${n}.js`,
      `const { format } = require('node:util');\n\n// Handler ${n}: validates the request and shapes the response.\nfunction handle${n}(input) {\n  if (!input || typeof input.id !== 'number') throw new Error(format('bad input %j', input));\n  return { id: input.id, n: ${n}, at: Date.now() };\n}\n\nmodule.exports = { handle${n} };\n`,
    ];
  }
  if (isPython(kind)) {
    return [
      `app/domain/d${n % 12}/rule_${n}.py`,
      `from dataclasses import dataclass\n\n\n@dataclass\nclass Rule${n}:\n    threshold: int = ${n}\n\n    def applies(self, value: int) -> bool:\n        return value >= self.threshold\n`,
    ];
  }
  switch (kind) {
    case 'gin':
    case 'chi':
      return [
        `internal/p${n % 12}/part_${n}.go`,
        `package p${n % 12}\n\nimport "fmt"\n\n// Part${n} formats one line of a report.\nfunc Part${n}(v int) string {\n\treturn fmt.Sprintf("part ${n}: %d", v)\n}\n`,
      ];
    case 'axum':
      return [
        `src/parts/part_${n}.rs`,
        `/// Part ${n} of the pricing rules.\npub fn part_${n}(v: u64) -> u64 {\n    v.saturating_mul(${(n % 7) + 1})\n}\n`,
      ];
    case 'spring':
      return [
        `src/main/java/com/acme/svc/p${n % 12}/Part${n}.java`,
        `package com.acme.svc.p${n % 12};\n\npublic final class Part${n} {\n    private Part${n}() {}\n\n    public static int apply(int v) {\n        return v + ${n};\n    }\n}\n`,
      ];
    case 'sinatra':
      return [
        `lib/parts/part_${n}.rb`,
        `module Parts\n  # Part ${n}\n  def self.part_${n}(v)\n    v + ${n}\n  end\nend\n`,
      ];
    default:
      return [
        `src/Parts/Part${n}.php`,
        `<?php\n\nnamespace App\\Parts;\n\nfinal class Part${n}\n{\n    public static function apply(int $v): int\n    {\n        return $v + ${n};\n    }\n}\n`,
      ];
  }
}

function writeService(root: string, i: number): void {
  const kind = KINDS[i % KINDS.length];
  const dir = join(root, svcDir(i));
  const name = svcName(i);
  const port = svcPort(i);
  const next = i + 1 < SERVICES ? svcName(i + 1) : undefined;
  const usesDb = i % 4 === 0;
  switch (kind) {
    case 'express':
    case 'fastify':
    case 'next':
    case 'worker': {
      const deps: Record<string, string> =
        kind === 'next'
          ? { next: '14.2.5', react: '18.3.1', 'react-dom': '18.3.1' }
          : kind === 'fastify'
            ? { fastify: '^4.28.1' }
            : kind === 'worker'
              ? { bullmq: '^5.10.0', ioredis: '^5.4.1' }
              : { express: '^4.19.2' };
      if (usesDb) deps.pg = '^8.12.0';
      if (i % 10 === 3) deps[`@acme/lib-${String(i % 20).padStart(2, '0')}`] = '*';
      const scripts =
        kind === 'next'
          ? { dev: 'next dev', build: 'next build', start: 'next start' }
          : { start: 'node src/index.js' };
      put(
        join(dir, 'package.json'),
        JSON.stringify(
          { name: `@acme/${name}`, version: '1.0.0', private: true, scripts, dependencies: deps },
          null,
          2,
        ) + '\n',
      );
      if (kind === 'next')
        put(join(dir, 'app', 'page.js'), `export default function Page() {\n  return <h1>${name}</h1>;\n}\n`);
      else if (kind === 'worker')
        put(
          join(dir, 'src', 'index.js'),
          `const { Worker } = require('bullmq');\nconst IORedis = require('ioredis');\n\nnew Worker('jobs-${i}', async (job) => job.data, { connection: new IORedis(process.env.REDIS_URL) });\n`,
        );
      else
        put(
          join(dir, 'src', 'index.js'),
          `const ${kind} = require('${kind}');\n\nconst app = ${kind}();\napp.get('/healthz', (_req, res) => res.send('ok'));\napp.listen(process.env.PORT || ${port});\n`,
        );
      if (next && i % 5 === 0) put(join(dir, '.env'), `NEXT_URL=http://${next}:${svcPort(i + 1)}\n`);
      // noise that must be ignored: installed packages and build output
      for (let p = 0; p < 40; p++) {
        const pkg = join(dir, 'node_modules', `dep-${p}`);
        put(
          join(pkg, 'package.json'),
          JSON.stringify({
            name: `dep-${p}`,
            version: '1.0.0',
            main: 'index.js',
            scripts: { start: 'node index.js' },
          }) + '\n',
        );
        for (let f = 0; f < 19; f++)
          put(join(pkg, 'lib', `f${f}.js`), `module.exports = function f${f}() { return ${f}; };\n`);
      }
      for (let f = 0; f < 20; f++) put(join(dir, 'dist', `chunk-${f}.js`), `"use strict";var a${f}=${f};\n`);
      break;
    }
    case 'fastapi':
    case 'flask':
    case 'django': {
      const req =
        kind === 'fastapi'
          ? 'fastapi==0.111.0\nuvicorn==0.30.1\n'
          : kind === 'flask'
            ? 'Flask==3.0.3\n'
            : 'Django==5.0.7\n';
      put(join(dir, 'requirements.txt'), req + (usesDb ? 'psycopg2-binary==2.9.9\n' : ''));
      if (kind === 'django')
        put(
          join(dir, 'manage.py'),
          `import os\nimport sys\n\nif __name__ == "__main__":\n    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_${i}.settings")\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n`,
        );
      else if (kind === 'fastapi')
        put(
          join(dir, 'main.py'),
          `from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/healthz")\ndef healthz():\n    return {"ok": True}\n`,
        );
      else
        put(
          join(dir, 'app.py'),
          `import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/health")\ndef health():\n    return "ok"\n\n\nif __name__ == "__main__":\n    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "${port}")))\n`,
        );
      for (let f = 0; f < 60; f++) put(join(dir, 'app', '__pycache__', `m${f}.cpython-312.pyc`), `\x00compiled ${f}\n`);
      break;
    }
    case 'gin':
    case 'chi': {
      const mod = kind === 'gin' ? 'github.com/gin-gonic/gin v1.10.0' : 'github.com/go-chi/chi/v5 v5.1.0';
      put(join(dir, 'go.mod'), `module example.com/acme/${name}\n\ngo 1.22\n\nrequire ${mod}\n`);
      put(
        join(dir, 'main.go'),
        `package main\n\nimport (\n\t"log"\n\t"net/http"\n)\n\nfunc main() {\n\tmux := http.NewServeMux()\n\tmux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })\n\tlog.Fatal(http.ListenAndServe(":${port}", mux))\n}\n`,
      );
      break;
    }
    case 'axum':
      put(
        join(dir, 'Cargo.toml'),
        `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\naxum = "0.7"\ntokio = { version = "1", features = ["full"] }\n`,
      );
      put(
        join(dir, 'src', 'main.rs'),
        `#[tokio::main]\nasync fn main() {\n    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));\n    let listener = tokio::net::TcpListener::bind("0.0.0.0:${port}").await.unwrap();\n    axum::serve(listener, app).await.unwrap();\n}\n`,
      );
      for (let f = 0; f < 100; f++) put(join(dir, 'target', 'debug', 'deps', `${name}-${f}.d`), `deps ${f}\n`);
      break;
    case 'spring':
      put(
        join(dir, 'pom.xml'),
        `<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n  <modelVersion>4.0.0</modelVersion>\n  <parent>\n    <groupId>org.springframework.boot</groupId>\n    <artifactId>spring-boot-starter-parent</artifactId>\n    <version>3.3.2</version>\n  </parent>\n  <artifactId>${name}</artifactId>\n  <dependencies>\n    <dependency>\n      <groupId>org.springframework.boot</groupId>\n      <artifactId>spring-boot-starter-web</artifactId>\n    </dependency>\n  </dependencies>\n</project>\n`,
      );
      put(join(dir, 'src', 'main', 'resources', 'application.properties'), `server.port=${port}\n`);
      break;
    case 'sinatra':
      put(join(dir, 'Gemfile'), `source "https://rubygems.org"\n\ngem "sinatra", "~> 4.0"\ngem "puma"\n`);
      put(join(dir, 'app.rb'), `require "sinatra"\n\nget "/health" do\n  "ok"\nend\n`);
      break;
    case 'php':
      put(
        join(dir, 'composer.json'),
        JSON.stringify({ name: `acme/${name}`, require: { php: '^8.2', 'slim/slim': '^4.14' } }, null, 4) + '\n',
      );
      put(
        join(dir, 'public', 'index.php'),
        `<?php\n\nrequire __DIR__ . '/../vendor/autoload.php';\n\n$app = Slim\\Factory\\AppFactory::create();\n$app->run();\n`,
      );
      break;
  }
  if (i % 3 !== 0)
    put(join(dir, 'Dockerfile'), `FROM alpine:3.20\nWORKDIR /app\nCOPY . .\nEXPOSE ${port}\nCMD ["./run"]\n`);
  for (let n = 0; n < 230; n++) {
    const [rel, text] = sourceFile(kind, n);
    put(join(dir, rel), text);
  }
  for (let n = 0; n < 30; n++) put(join(dir, 'tests', `case_${n}.txt`), `input ${n}\nexpected ${n * 2}\n`);
  put(join(dir, 'README.md'), `# ${name}\n\nPart of the ${DOMAINS[i % DOMAINS.length]} domain.\n`);
}

function generate(root: string): void {
  rmSync(root, { recursive: true, force: true });
  fileCount = 0;
  put(
    join(root, 'package.json'),
    JSON.stringify(
      {
        name: 'acme',
        private: true,
        workspaces: ['services/*/*', 'packages/*'],
        scripts: { dev: 'turbo run dev', build: 'turbo run build' },
        devDependencies: { turbo: '^2.0.9' },
      },
      null,
      2,
    ) + '\n',
  );
  put(
    join(root, 'package-lock.json'),
    JSON.stringify({ name: 'acme', lockfileVersion: 3, requires: true, packages: {} }) + '\n',
  );
  put(
    join(root, 'turbo.json'),
    JSON.stringify({ tasks: { build: { dependsOn: ['^build'] }, dev: { cache: false, persistent: true } } }, null, 2) +
      '\n',
  );
  put(join(root, '.gitignore'), 'node_modules\ndist\ntarget\n__pycache__\n*.log\n/tmp/\n');
  const composeServices = Array.from({ length: 12 }, (_, k) => k * 16)
    .map(
      (i) =>
        `  ${svcName(i)}:\n    build: ./${svcDir(i)}\n    environment:\n      DATABASE_URL: postgres://acme:acme@db:5432/acme\n    depends_on:\n      - db\n`,
    )
    .join('');
  put(
    join(root, 'compose.yaml'),
    `services:\n${composeServices}  db:\n    image: postgres:16\n  redis:\n    image: redis:7\n`,
  );
  for (let l = 0; l < 20; l++) {
    const dir = join(root, 'packages', `lib-${String(l).padStart(2, '0')}`);
    put(
      join(dir, 'package.json'),
      JSON.stringify(
        { name: `@acme/lib-${String(l).padStart(2, '0')}`, version: '1.0.0', main: 'src/index.js' },
        null,
        2,
      ) + '\n',
    );
    for (let f = 0; f < 20; f++)
      put(join(dir, 'src', f === 0 ? 'index.js' : `part-${f}.js`), `module.exports.part${f} = (v) => v + ${f};\n`);
  }
  for (let i = 0; i < SERVICES; i++) writeService(root, i);
  for (let d = 0; d < 2000; d++)
    put(join(root, 'docs', `area-${d % 40}`, `page-${d}.md`), `# Page ${d}\n\nNotes about area ${d % 40}.\n`);
  for (let t = 0; t < 500; t++) put(join(root, 'tmp', `scratch-${t}.log`), `scratch ${t}\n`);
  writeFileSync(join(root, '.kyozo-bench-complete'), `${GENERATOR_VERSION} ${fileCount}\n`);
}

// ───────────────────────────── measuring ─────────────────────────────

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

/** Wall time of a shell pipeline (the listing floors). */
function timeShell(cmd: string): { ms: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20 });
  const elapsed = performance.now() - t0;
  if (r.status !== 0) throw new Error(`\`${cmd}\` failed (${r.status}): ${r.stderr}`);
  return { ms: elapsed, out: r.stdout.trim() };
}

/** Wall time and peak RSS of the built CLI (`/usr/bin/time -v` reports the child's max RSS). */
function timeCli(): { ms: number; rssMb: number } {
  const useTime = existsSync('/usr/bin/time');
  const argv = [CLI, 'analyze', TREE, '--json'];
  const t0 = performance.now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-v', process.execPath, ...argv], {
        encoding: 'utf8',
        timeout: CHILD_TIMEOUT_MS,
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawnSync(process.execPath, argv, {
        encoding: 'utf8',
        timeout: CHILD_TIMEOUT_MS,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
  const elapsed = performance.now() - t0;
  if (r.status !== 0) throw new Error(`kyozo analyze failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  return { ms: elapsed, rssMb: kb ? Number(kb[1]) / 1024 : NaN };
}

/** Bundles detect-child.ts beside the other bundles (so the grammars resolve from node_modules) and runs it. */
function runChild(edited: string[]): ChildResult {
  const out = join(REPO, 'dist', 'bench', 'detect-child.js');
  esbuild.buildSync({
    entryPoints: [join(__dirname, 'detect-child.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['web-tree-sitter', '@vscode/tree-sitter-wasm'],
    logLevel: 'warning',
  });
  const r = spawnSync(process.execPath, [out, TREE, String(RUNS), String(EDITS), ...edited], {
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0)
    throw new Error(`the in-process run failed (${r.status ?? r.signal}): ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function main(): Promise<void> {
  const started = performance.now();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench:detect does).`);
  const marker = join(TREE, '.kyozo-bench-complete');
  if (existsSync(marker) && readFileSync(marker, 'utf8').startsWith(GENERATOR_VERSION)) {
    console.log(
      `tree: reusing ${TREE} (${readFileSync(marker, 'utf8').trim().split(' ')[1]} files, generator ${GENERATOR_VERSION})`,
    );
  } else {
    const t0 = performance.now();
    generate(TREE);
    console.log(`tree: generated ${fileCount} files in ${TREE} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  // Warm the page cache once so the floor and Kyozo read the same warm tree.
  const findCount = Number(timeShell(`find '${TREE}' -type f | wc -l`).out);
  const rgCount = Number(timeShell(`rg --files --no-require-git --hidden '${TREE}' | wc -l`).out);

  // Context for the CLI figure: what a bare Node.js process costs to start, and `kyozo analyze --help` (startup plus
  // loading everything analyze loads).
  const nodeStartMs = median([0, 1, 2].map(() => timeShell(`'${process.execPath}' -e 0`).ms));
  const cliStartMs = median([0, 1, 2].map(() => timeShell(`'${process.execPath}' '${CLI}' analyze --help`).ms));

  const rgTimes: number[] = [];
  const findTimes: number[] = [];
  const cliRuns: { ms: number; rssMb: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    rgTimes.push(timeShell(`rg --files --no-require-git --hidden '${TREE}' | wc -l`).ms);
    findTimes.push(timeShell(`find '${TREE}' -type f | wc -l`).ms);
    cliRuns.push(timeCli());
  }

  // analyze() in-process, then update() after one-file edits in turn: a plain source file, the entry file the code
  // reader uses (service 0 is express without a Dockerfile: its port comes from code), and a Dockerfile EXPOSE line.
  const child = runChild([
    join(svcDir(0), sourceFile(KINDS[0], 7)[0]),
    join(svcDir(0), 'src', 'index.js'),
    join(svcDir(1), 'Dockerfile'),
  ]);
  const { inProc, srcTimes, entryTimes, dockerTimes, seen, checked, services, libraries, scanned } = child;
  const all = [...srcTimes, ...entryTimes, ...dockerTimes];
  const inProcRssMb = child.rssMb;

  const cliMs = median(cliRuns.map((c) => c.ms));
  const cliRss = Math.max(...cliRuns.map((c) => c.rssMb));
  const rgMs = median(rgTimes);
  const findMs = median(findTimes);
  const row = (label: string, ours: string, reference: string, target: string, ok?: boolean) =>
    console.log(
      `${label.padEnd(34)}${ours.padStart(14)}   ${reference.padEnd(52)}${target.padEnd(16)}${ok === undefined ? '' : ok ? 'ok' : 'MISSED'}`,
    );

  console.log(
    `\ntree: ${findCount} files on disk, ${rgCount} not ignored (rg), Kyozo scanned ${scanned}; found ${services} services, ${libraries} libraries`,
  );
  console.log(
    `runs: ${RUNS} cold analyses (median shown), ${EDITS} one-file edits; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores\n`,
  );
  row('measure', 'kyozo', 'reference (same run)', 'target', undefined);
  row(
    'cold `kyozo analyze --json` (CLI)',
    ms(cliMs),
    `rg --files ${ms(rgMs)}`,
    `≤ ${TARGET.ratio}x floor`,
    cliMs <= TARGET.ratio * rgMs,
  );
  row(
    '  ratio to rg --files floor',
    `${(cliMs / rgMs).toFixed(2)}x`,
    `find -type f ${ms(findMs)} (${(cliMs / findMs).toFixed(2)}x)`,
    `≤ ${TARGET.ratio}x`,
    cliMs / rgMs <= TARGET.ratio,
  );
  row('  of which process start', ms(cliStartMs), `bare \`node -e 0\` ${ms(nodeStartMs)}`, '', undefined);
  row(
    'analyze() in-process, 1st run',
    ms(inProc[0]),
    `ratio ${(inProc[0] / rgMs).toFixed(2)}x rg`,
    `≤ ${TARGET.ratio}x floor`,
    inProc[0] <= TARGET.ratio * rgMs,
  );
  row(
    'analyze() in-process, median',
    ms(median(inProc)),
    `ratio ${(median(inProc) / rgMs).toFixed(2)}x rg`,
    `≤ ${TARGET.ratio}x floor`,
    median(inProc) <= TARGET.ratio * rgMs,
  );
  const kinds = (q: number) =>
    `plain ${ms(pct(srcTimes, q))}, entry ${ms(pct(entryTimes, q))}, Dockerfile ${ms(pct(dockerTimes, q))}`;
  row('update() p50, all edits', ms(pct(all, 50)), kinds(50), '', undefined);
  row('update() p99, all edits', ms(pct(all, 99)), kinds(99), `< ${TARGET.p99Ms} ms`, pct(all, 99) < TARGET.p99Ms);
  row('peak RSS, CLI process', `${cliRss.toFixed(0)} MB`, '', `< ${TARGET.rssMb} MB`, cliRss < TARGET.rssMb);
  row(
    'peak RSS, in-process analyzer',
    `${inProcRssMb.toFixed(0)} MB`,
    `after ${RUNS} analyses and ${EDITS} updates`,
    `< ${TARGET.rssMb} MB`,
    inProcRssMb < TARGET.rssMb,
  );
  if (seen !== checked)
    console.log(
      `\nWARNING: only ${seen}/${checked} port edits (entry file, Dockerfile) showed the new port after update()`,
    );
  // Loaded only now, so the engine is not in this process while the timed children run.
  const { describeAccuracy, measureAccuracy } = await import('./detect-accuracy');
  console.log(`\n${describeAccuracy(await measureAccuracy()).join('\n')}`);
  console.log(`\ntotal bench time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(`bench:detect failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
