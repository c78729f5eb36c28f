// `npm run bench:deploy`: Kyozo's orchestrator against the reference tools, measured in the same run.
//  1. one prebuilt service from `up` to healthy  vs  `docker run` + the same readiness probe   (target ≤ 1.15x)
//  2. a 10-service stack to all healthy          vs  `docker-compose up -d` on the file `kyozo compose` exported (target ≤ 0.7x)
//  3. folder-to-running time of a fixture service (analyse, build, start, healthy)
//  4. folder to verified (analyse, build, start, the HTTP check of test/realworld/manifest.json answers) for a Vite
//     SPA, a Next app and an express API, cold (a new copy of the folder: nothing of it built) and warm (the same
//     folder again after down: the image must be reused, not rebuilt), against the product's "< 60 s" target
//  5. a 100-service workspace (deploy-scale.bench.ts): up vs docker-compose, status reads, the language server's RSS,
//     CPU and kill-to-status time; `npm run bench:deploy -- --only scale100` (or BENCH_DEPLOY_ONLY=scale100) runs it
//     alone, without the slow image builds of 1-4
// Bounded (a quarter of an hour at most) and cleans up the containers, networks and images it creates.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { tcpProbe } from '../../server/src/engine/deploy/health-probe';
import { exportCompose } from '../../server/src/engine/compose/compose-export';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { ensureNode22BuildImage } from '../support/node-build-image';
import { scale100, scaleRows } from './deploy-scale.bench';

const repo = join(import.meta.dirname, '..', '..');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-bench-deploy-'));
const stateDir = join(work, 'state');
const docker = testDocker();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DEADLINE = Date.now() + 15 * 60_000;
const projects: string[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => `${Math.round(n)} ms`;

function checkDeadline(): void {
  if (Date.now() > DEADLINE) throw new Error('benchmark exceeded its 15 minute bound');
}

async function until(cond: () => Promise<boolean>, timeoutMs = 120_000, pollMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting for readiness');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** 1. One prebuilt service: Kyozo `up` to healthy versus `docker run` plus the same TCP readiness probe. */
async function singleService(): Promise<{ kyozo: number; reference: number }> {
  const project = `kz-bench1-${run}`;
  projects.push(project);
  const dir = join(work, project);
  cpSync(join(repo, 'test/fixtures/deploy-stack/api'), join(dir, 'api'), { recursive: true });
  const topology = await analyze(dir);
  const orchestrator = createOrchestrator({ baseImages: { node: 'kyozo-test/node:20' }, stateDir });
  const warm = await orchestrator.up(topology); // builds the image once: the timed runs start from a prebuilt image
  const image = (await docker.getContainer(warm[0]!.containers[0]!.containerId).inspect()).Image;
  await orchestrator.down(topology);
  const kyozo: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    checkDeadline();
    let t0 = performance.now();
    const statuses = await orchestrator.up(topology);
    kyozo.push(performance.now() - t0);
    if (statuses[0]!.health !== 'healthy') throw new Error('kyozo up returned before healthy');
    await orchestrator.down(topology);

    const name = `${project}-raw-${i}`;
    t0 = performance.now();
    execFileSync(
      'docker',
      [
        'run',
        '-d',
        '--name',
        name,
        '--label',
        `dev.kyozo.workspace=${project}`,
        '-e',
        'PORT=3001',
        '-p',
        '127.0.0.1::3001',
        '--memory',
        '512m',
        '--cpus',
        '0.5',
        image,
      ],
      { stdio: 'pipe' },
    );
    const hostPort = Number(
      execFileSync('docker', ['port', name, '3001/tcp'], { encoding: 'utf8' }).trim().split(':').pop(),
    );
    await until(() => tcpProbe(hostPort));
    reference.push(performance.now() - t0);
    execFileSync('docker', ['rm', '-f', name], { stdio: 'pipe' });
  }
  return { kyozo: median(kyozo), reference: median(reference) };
}

/** Ten folders: 4 node services that call `gateway` by name, 6 busybox httpd services (two of them gateways). */
function writeStack(dir: string): void {
  const files = (sub: string, entries: Record<string, string>) => {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const [f, text] of Object.entries(entries)) writeFileSync(join(dir, sub, f), text);
  };
  for (let i = 0; i < 6; i++) {
    const name = i === 0 ? 'gateway' : `static-${i}`;
    files(name, {
      Dockerfile:
        'FROM kyozo-test/busybox:1\nRUN mkdir -p /www && echo ok > /www/index.html\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n',
    });
  }
  for (let i = 1; i <= 4; i++) {
    files(`node-${i}`, {
      'package.json': JSON.stringify(
        { name: `node-${i}`, version: '1.0.0', private: true, scripts: { start: 'node server.js' } },
        null,
        2,
      ),
      'package-lock.json': JSON.stringify(
        {
          name: `node-${i}`,
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: { '': { name: `node-${i}`, version: '1.0.0' } },
        },
        null,
        2,
      ),
      'server.js': [
        "const http = require('http');",
        "const upstream = process.env.GATEWAY_URL || 'http://gateway:8080';",
        `const port = Number(process.env.PORT || ${3000 + i});`,
        'http.createServer((req, res) => { res.end(upstream); }).listen(port);',
        '',
      ].join('\n'),
    });
  }
}

async function composeHealthy(project: string, expected: number): Promise<boolean> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  if (list.length < expected) return false;
  return list.every((c) => /\(healthy\)/.test(c.Status));
}

/** 2. Ten services to all healthy: Kyozo versus docker-compose v1 on the exported compose file. */
async function tenServices(): Promise<{ kyozo: number; reference: number; services: number }> {
  const project = `kz-bench10-${run}`;
  const composeProject = `kz-bench10c-${run}`;
  projects.push(project, composeProject);
  const dir = join(work, project);
  writeStack(dir);
  const topology = await analyze(dir);
  const orchestrator = createOrchestrator({ baseImages: { node: 'kyozo-test/node:20' }, stateDir });
  const services = topology.services.length;
  await orchestrator.up(topology); // prebuild
  await orchestrator.down(topology);

  const outDir = join(work, 'compose-out');
  const exported = exportCompose(topology, { outputDir: outDir, baseImages: { node: 'kyozo-test/node:20' } });
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'compose.yaml');
  writeFileSync(file, exported.yaml);
  for (const [f, text] of Object.entries(exported.dockerfiles)) {
    mkdirSync(dirname(join(outDir, f)), { recursive: true });
    writeFileSync(join(outDir, f), text);
  }
  const build = spawnSync('docker-compose', ['-p', composeProject, '-f', file, 'build', '-q'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (build.status !== 0) throw new Error(`docker-compose build failed: ${build.stderr}`);

  const kyozo: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < Math.min(ROUNDS, 2); i++) {
    checkDeadline();
    let t0 = performance.now();
    const statuses = await orchestrator.up(topology);
    kyozo.push(performance.now() - t0);
    if (!statuses.every((s) => s.health === 'healthy'))
      throw new Error(`kyozo: not all healthy: ${JSON.stringify(statuses.map((s) => [s.name, s.health]))}`);
    await orchestrator.down(topology);

    t0 = performance.now();
    const up = spawnSync('docker-compose', ['-p', composeProject, '-f', file, 'up', '-d', '--no-build'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (up.status !== 0) throw new Error(`docker-compose up failed: ${up.stderr}`);
    await until(() => composeHealthy(composeProject, services), 180_000, 100);
    reference.push(performance.now() - t0);
    spawnSync('docker-compose', ['-p', composeProject, '-f', file, 'down', '--rmi', 'local', '-v'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (i + 1 < Math.min(ROUNDS, 2))
      spawnSync('docker-compose', ['-p', composeProject, '-f', file, 'build', '-q'], {
        encoding: 'utf8',
        timeout: 300_000,
      });
  }
  return { kyozo: median(kyozo), reference: median(reference), services };
}

/** 3. Folder to running: analyse a fresh copy of the fixture's `api`, build its generated Dockerfile, start, healthy. */
async function folderToRunning(): Promise<{ total: number; analyse: number }> {
  const project = `kz-bench-f2r-${run}`;
  projects.push(project);
  const dir = join(work, project);
  cpSync(join(repo, 'test/fixtures/deploy-stack/api'), join(dir, 'api'), { recursive: true });
  writeFileSync(join(dir, 'api', 'run-id.txt'), run); // a content change: the image cannot come from an earlier run
  const t0 = performance.now();
  const topology = await analyze(dir);
  const analyse = performance.now() - t0;
  const statuses = await createOrchestrator({ baseImages: { node: 'kyozo-test/node:20' }, stateDir }).up(topology);
  if (statuses[0]?.health !== 'healthy') throw new Error('folder-to-running: not healthy');
  return { total: performance.now() - t0, analyse };
}

/** The product's promise for a folder to a running, answering service. */
const FOLDER_TO_VERIFIED_TARGET_MS = 60_000;
const REALWORLD = ['vite-react', 'next-app', 'express-api'];

interface RealworldCheck {
  dir: string;
  check: { path: string; status: number; contains: string };
}

/** Untagged images (multi-stage build stages), to remove the ones this benchmark's builds left. */
function danglingImages(): Set<string> {
  const out = execFileSync('docker', ['images', '-q', '--no-trunc', '--filter', 'dangling=true'], { encoding: 'utf8' });
  return new Set(out.split('\n').filter(Boolean));
}

/** 4. A realworld project from folder to its HTTP check answering, cold then warm; the warm run must not build. */
async function folderToVerified(app: RealworldCheck, node: string): Promise<{ cold: number; warm: number }> {
  const project = `kz-bench-rw-${app.dir}-${run}`;
  projects.push(project);
  const dir = join(work, project);
  cpSync(join(repo, 'test/realworld', app.dir), dir, { recursive: true });
  writeFileSync(join(dir, '.kyozo-bench-run'), run); // a content change: no image of an earlier run is reused
  const orchestrator = createOrchestrator({ baseImages: { node }, stateDir });
  const once = async () => {
    checkDeadline();
    const t0 = performance.now();
    const topology = await analyze(dir);
    const statuses = await orchestrator.up(topology);
    const status = statuses[0];
    const url = status?.ports[0]?.url;
    if (!status || status.state !== 'running' || !url) {
      throw new Error(`${app.dir}: not running: ${JSON.stringify(status)}`);
    }
    const res = await fetch(`${url}${app.check.path}`, { signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status !== app.check.status || !body.includes(app.check.contains)) {
      throw new Error(`${app.dir}: ${url}${app.check.path} answered ${res.status} without ${app.check.contains}`);
    }
    const elapsed = performance.now() - t0;
    const image = (await docker.getContainer(status.containers[0]!.containerId).inspect()).Image;
    await orchestrator.down(topology);
    return { elapsed, image };
  };
  const cold = await once();
  const warm = await once();
  if (warm.image !== cold.image) throw new Error(`${app.dir}: the warm run rebuilt (${cold.image} → ${warm.image})`);
  return { cold: cold.elapsed, warm: warm.elapsed };
}

function verifiedRow(what: string, elapsed: number): string[] {
  const ratio = elapsed / FOLDER_TO_VERIFIED_TARGET_MS;
  const target = `${ms(FOLDER_TO_VERIFIED_TARGET_MS)} (target)`;
  const met = ratio < 1 ? 'met' : 'MISSED';
  return [`folder → verified, ${what}`, ms(elapsed), target, `${ratio.toFixed(2)}x`, '< 60 s', met];
}

function printRows(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

/** `--only scale100` (or BENCH_DEPLOY_ONLY=scale100): the 100-service part alone. */
function only(): string | undefined {
  const i = process.argv.indexOf('--only');
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? process.env.BENCH_DEPLOY_ONLY;
}

async function main(): Promise<void> {
  if (!(await engineAvailable())) process.exit(process.env.CI === 'true' ? 1 : 0);
  await ensureTestBaseImages();
  const part = only();
  if (part && part !== 'scale100') throw new Error(`--only expects scale100, got '${part}'`);
  if (part === 'scale100') {
    try {
      const f = await scale100(work, stateDir, run);
      const engine = execFileSync('docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
      console.log(`\nbench:deploy --only scale100 (engine ${engine})`);
      printRows([['measure', 'kyozo', 'reference', 'ratio', 'target', ''], ...scaleRows(f)]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  try {
    const one = await singleService();
    const ten = await tenServices();
    const f2r = await folderToRunning();
    const node22 = await ensureNode22BuildImage();
    const manifest = JSON.parse(readFileSync(join(repo, 'test/realworld/manifest.json'), 'utf8')) as {
      apps: RealworldCheck[];
    };
    const dangling = danglingImages();
    const verified: { dir: string; cold: number; warm: number }[] = [];
    try {
      for (const dir of REALWORLD) {
        const app = manifest.apps.find((a) => a.dir === dir);
        if (!app) throw new Error(`test/realworld/manifest.json has no ${dir}`);
        verified.push({ dir, ...(await folderToVerified(app, node22)) });
      }
    } finally {
      for (const p of projects) await cleanupWorkspace(p, { images: true });
      for (const id of danglingImages()) if (!dangling.has(id)) spawnSync('docker', ['rmi', id], { stdio: 'ignore' });
    }
    const r1 = one.kyozo / one.reference;
    const r2 = ten.kyozo / ten.reference;
    const rows = [
      ['measure', 'kyozo', 'reference', 'ratio', 'target', ''],
      [
        '1 prebuilt service, up → healthy',
        ms(one.kyozo),
        `${ms(one.reference)} (docker run + probe)`,
        `${r1.toFixed(2)}x`,
        '≤ 1.15x',
        r1 <= 1.15 ? 'met' : 'MISSED',
      ],
      [
        `${ten.services}-service stack → all healthy`,
        ms(ten.kyozo),
        `${ms(ten.reference)} (docker-compose up -d)`,
        `${r2.toFixed(2)}x`,
        '≤ 0.70x',
        r2 <= 0.7 ? 'met' : 'MISSED',
      ],
      ['folder → running (fixture api)', ms(f2r.total), `analyse ${ms(f2r.analyse)}`, '-', '-', ''],
      ...verified.flatMap((v) => [
        verifiedRow(`${v.dir}, cold`, v.cold),
        verifiedRow(`${v.dir}, warm (same image)`, v.warm),
      ]),
    ];
    rows.push(...scaleRows(await scale100(work, stateDir, run)));
    console.log(
      `\nbench:deploy (median of ${ROUNDS} rounds for 1, ${Math.min(ROUNDS, 2)} for 2; engine ${execFileSync('docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8' }).trim()})`,
    );
    printRows(rows);
  } finally {
    for (const p of projects) await cleanupWorkspace(p, { images: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench:deploy failed: ${(e as Error).message}`);
  process.exit(1);
});
