// bench:deploy's 100-service workspace (`npm run bench:deploy -- --only scale100` runs it alone): a compose.yaml of
// 100 small prebuilt HTTP services (busybox httpd on a local image with a HEALTHCHECK every 30 s), in 4 waves of 25
// where each service of a wave depends on one of the wave before. Measured in the same run:
//  - `kyozo up` to all healthy  vs  `docker-compose up -d` on the file `kyozo compose` exports, to all healthy (≤ 0.7x)
//  - the status read of `kyozo ps` with 100 running, p50/p99, with and without CPU/memory stats (p99 < 300 ms), and
//    the whole `kyozo ps --no-stats` command (Node start included)
//  - the language server (dist/server.js over stdio, the folder open) while the 100 run: RSS and CPU over 30 s idle
//    (< 250 MB, < 5 % of a core), and from `docker kill` of a container to the kyozo/serviceStatus notification that
//    shows its service no longer running (< 2 s)
// Cleans up every container, network and image it creates.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { exportCompose } from '../../server/src/engine/compose/compose-export';
import { ServiceStatusNotification, type ServiceStatusParams, type Topology } from '../../server/src/protocol';
import { cleanupWorkspace, testDocker } from '../support/docker-engine';
import { TEST_BASE_IMAGES } from '../support/docker-base-images';
import { procStats } from '../support/proc-stats';

const repo = join(import.meta.dirname, '..', '..');
// BENCH_SCALE_SERVICES (a multiple of 4) tries the bench on fewer services.
const SERVICES = Number(process.env.BENCH_SCALE_SERVICES ?? 100);
const WAVES = 4;
const docker = testDocker();

export interface ScaleFigures {
  services: number;
  kyozoUpMs: number;
  composeUpMs: number;
  /** Why docker-compose did not get all services healthy, when it did not (the figure is then how long it tried). */
  composeError?: string;
  kyozoDownMs: number;
  statusNoStats: { p50: number; p99: number; n: number };
  statusStats: { p50: number; p99: number; n: number };
  coldStatsMs: number;
  cliPsMs: number;
  lspRssMb: number;
  lspCpuPercent: number;
  killToStatusMs: number[];
  killStates: string[];
  loadBefore: string;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeWorkspace(dir: string, image: string): void {
  const per = SERVICES / WAVES;
  const lines = ['services:'];
  for (let i = 1; i <= SERVICES; i++) {
    const name = `s${String(i).padStart(3, '0')}`;
    lines.push(`  ${name}:`, `    image: ${image}`, '    ports:', '      - "8080"');
    if (i > per) lines.push('    depends_on:', `      - s${String(i - per).padStart(3, '0')}`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), `${lines.join('\n')}\n`);
}

async function allHealthy(project: string, expected: number): Promise<boolean> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  return list.length >= expected && list.every((c) => /\(healthy\)/.test(c.Status));
}

/** The built language server on the folder, as an editor starts it; resolves once a status lists every service. */
async function languageServer(folder: string, topology: Topology) {
  const child = spawn(process.execPath, [join(repo, 'dist/server.js'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: process.env,
  });
  child.stderr.resume();
  child.stdin.on('error', () => undefined); // the server exits on `exit`; a late write must not end the bench
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const listeners = new Set<(p: ServiceStatusParams, at: number) => void>();
  connection.onNotification(ServiceStatusNotification.method, (p: ServiceStatusParams) => {
    const at = performance.now();
    for (const l of listeners) l(p, at);
  });
  for (const m of ['client/registerCapability', 'workspace/codeLens/refresh', 'window/workDoneProgress/create'])
    connection.onRequest(m, () => null);
  connection.onRequest('workspace/configuration', () => []);
  connection.onNotification(() => undefined);
  connection.listen();
  const folderUri = pathToFileURL(folder).href;
  const deployable = topology.services.length;
  const ready = new Promise<void>((resolve) => {
    const l = (p: ServiceStatusParams) => {
      if (p.statuses.length >= deployable && p.statuses.every((s) => s.state === 'running')) {
        listeners.delete(l);
        resolve();
      }
    };
    listeners.add(l);
  });
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: folderUri,
    workspaceFolders: [{ uri: folderUri, name: 'scale100' }],
    capabilities: { window: { workDoneProgress: true } },
    initializationOptions: {
      settings: { docker: {}, baseImages: {}, defaults: {}, ignore: [], autoDeploy: false },
      workspaceTrusted: true,
    },
  });
  await connection.sendNotification('initialized', {});
  await Promise.race([
    ready,
    sleep(120_000).then(() => {
      throw new Error('the language server did not report 100 running services within 120 s');
    }),
  ]);
  /** Resolves when a notification shows `name` in a state other than running, with the time it arrived. */
  const notRunning = (name: string) =>
    new Promise<{ at: number; state: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no status for ${name} within 30 s`)), 30_000);
      const l = (p: ServiceStatusParams, at: number) => {
        const s = p.statuses.find((x) => x.name === name);
        if (s && s.state !== 'running') {
          clearTimeout(timer);
          listeners.delete(l);
          resolve({ at, state: s.state });
        }
      };
      listeners.add(l);
    });
  return {
    pid: child.pid!,
    notRunning,
    stop: async () => {
      await connection.sendRequest('shutdown').catch(() => undefined);
      await connection.sendNotification('exit').catch(() => undefined);
      connection.dispose();
      child.kill();
    },
  };
}

export async function scale100(work: string, stateDir: string, run: string): Promise<ScaleFigures> {
  const project = `kz-scale-${run}`;
  const composeProject = `kz-scalec-${run}`;
  const image = `kyozo-${project}/httpd:1`;
  const dir = join(work, project);
  const dockerfile = [
    `FROM ${TEST_BASE_IMAGES.busybox}`,
    'RUN echo ok > /www/index.html',
    'EXPOSE 8080',
    'HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/',
    'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
  ].join('\n');
  execFileSync('docker', ['build', '-q', '-t', image, '-'], { input: dockerfile, stdio: ['pipe', 'ignore', 'pipe'] });
  writeWorkspace(dir, image);
  process.env.KYOZO_STATE_DIR = stateDir; // the language server below reads the same state folder
  const topology = await analyze(dir);
  if (topology.services.length !== SERVICES)
    throw new Error(`scale100: the analysis found ${topology.services.length} services, not ${SERVICES}`);
  const orchestrator = createOrchestrator({ stateDir, healthTimeoutMs: 300_000 });
  const tsProject = topology.name;
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  try {
    // 1. kyozo up to all healthy
    let t0 = performance.now();
    const statuses = await orchestrator.up(topology);
    const kyozoUpMs = performance.now() - t0;
    const unhealthy = statuses.filter((s) => s.health !== 'healthy');
    if (unhealthy.length) throw new Error(`scale100: ${unhealthy.length} services not healthy after up`);
    console.log(`scale100: kyozo up ${Math.round(kyozoUpMs)} ms`);

    // 2. status reads with 100 running, once the engine's own health checks have answered (until then a read probes
    // each service from the host, as up does); reads with stats after one cold read (every container read twice,
    // 100 ms apart, for its CPU delta), which is reported beside them
    const settleEnd = Date.now() + 120_000;
    let settleMs = performance.now();
    while (Date.now() < settleEnd) {
      const starting = await docker.listContainers({
        filters: { label: [`dev.kyozo.workspace=${tsProject}`], health: ['starting'] },
      });
      if (starting.length === 0) break;
      await sleep(1000);
    }
    settleMs = performance.now() - settleMs;
    const noStats: number[] = [];
    for (let i = 0; i < 20; i++) {
      t0 = performance.now();
      await orchestrator.status(topology, { stats: false });
      noStats.push(performance.now() - t0);
    }
    t0 = performance.now();
    await orchestrator.status(topology, { stats: true });
    const coldStatsMs = performance.now() - t0;
    const withStats: number[] = [];
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      t0 = performance.now();
      await orchestrator.status(topology, { stats: true });
      withStats.push(performance.now() - t0);
    }
    t0 = performance.now();
    const ps = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'ps', dir, '--no-stats', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, KYOZO_STATE_DIR: stateDir },
      timeout: 120_000,
    });
    const cliPsMs = performance.now() - t0;
    if (ps.status !== 0) throw new Error(`kyozo ps failed: ${ps.stderr}`);
    console.log(
      `scale100: status read p50/p99 ${Math.round(percentile(noStats, 50))}/${Math.round(percentile(noStats, 99))} ms ` +
        `without stats, ${Math.round(percentile(withStats, 50))}/${Math.round(percentile(withStats, 99))} ms with; ` +
        `kyozo ps --no-stats ${Math.round(cliPsMs)} ms; first read with stats ${Math.round(coldStatsMs)} ms; engine ` +
        `health checks answered ${Math.round(settleMs)} ms after up`,
    );

    // 3. the language server while the 100 run
    const lsp = await languageServer(dir, topology);
    let lspRssMb = 0;
    let lspCpuPercent = 0;
    const killToStatusMs: number[] = [];
    const killStates: string[] = [];
    try {
      await sleep(5000); // the first status reads settle
      const a = procStats(lsp.pid);
      const idleMs = 30_000;
      await sleep(idleMs);
      const b = procStats(lsp.pid);
      lspRssMb = b.rss;
      lspCpuPercent = ((b.cpu - a.cpu) / (idleMs / 1000)) * 100;
      for (const n of [7, 42, 93]) {
        const name = `s${String(Math.min(n, SERVICES)).padStart(3, '0')}`;
        const c = (await docker.listContainers({ filters: { label: [`com.docker.compose.service=${name}`] } })).find(
          (x) => x.Labels['dev.kyozo.workspace'] === tsProject || x.Labels['com.docker.compose.project'] === tsProject,
        );
        if (!c) throw new Error(`no container of ${name}`);
        const seen = lsp.notRunning(name);
        const k0 = performance.now();
        await docker.getContainer(c.Id).kill();
        const r = await seen;
        killToStatusMs.push(r.at - k0);
        killStates.push(r.state);
        await sleep(2000);
        if (SERVICES < 93) break;
      }
    } finally {
      await lsp.stop();
    }
    console.log(
      `scale100: language server ${lspRssMb.toFixed(0)} MB, ${lspCpuPercent.toFixed(1)} % CPU; kill to status ` +
        `${killToStatusMs.map((x) => Math.round(x)).join(', ')} ms (${killStates.join(', ')})`,
    );

    // 4. kyozo down
    t0 = performance.now();
    await orchestrator.down(topology);
    const kyozoDownMs = performance.now() - t0;
    console.log(`scale100: kyozo down ${Math.round(kyozoDownMs)} ms`);

    // 5. docker-compose on the exported file
    const outDir = join(work, 'scale-compose');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, 'compose.yaml');
    writeFileSync(file, exportCompose(topology, { outputDir: outDir }).yaml);
    const compose = composeCommand();
    // docker-compose's own 60 s read timeout gives up on a busy engine before Kyozo's 300 s health wait would.
    const env = { ...process.env, COMPOSE_HTTP_TIMEOUT: '300' };
    t0 = performance.now();
    const up = spawnSync(compose[0]!, [...compose.slice(1), '-p', composeProject, '-f', file, 'up', '-d'], {
      encoding: 'utf8',
      timeout: 900_000,
      env,
    });
    let composeError: string | undefined;
    if (up.status !== 0) {
      const errors = up.stderr.split('\n').filter((l) => l.startsWith('ERROR'));
      composeError = `${compose.join(' ')} up -d failed (${errors.length} errors, first: ${errors[0] ?? up.stderr.slice(-300)})`;
    } else {
      const end = Date.now() + 600_000;
      while (!(await allHealthy(composeProject, SERVICES))) {
        if (Date.now() > end) {
          composeError = 'docker-compose: not all healthy within 10 minutes';
          break;
        }
        await sleep(250);
      }
    }
    const composeUpMs = performance.now() - t0;
    console.log(`scale100: docker-compose ${Math.round(composeUpMs)} ms${composeError ? ` (${composeError})` : ''}`);
    spawnSync(compose[0]!, [...compose.slice(1), '-p', composeProject, '-f', file, 'down', '-t', '2'], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    return {
      services: SERVICES,
      kyozoUpMs,
      composeUpMs,
      kyozoDownMs,
      statusNoStats: { p50: percentile(noStats, 50), p99: percentile(noStats, 99), n: noStats.length },
      statusStats: { p50: percentile(withStats, 50), p99: percentile(withStats, 99), n: withStats.length },
      coldStatsMs,
      cliPsMs,
      lspRssMb,
      lspCpuPercent,
      killToStatusMs,
      killStates,
      loadBefore,
      composeError,
    };
  } finally {
    await orchestrator.down(topology).catch(() => undefined);
    await cleanupWorkspace(tsProject);
    await cleanupWorkspace(composeProject);
    spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
  }
}

/** Debian's docker-compose (v1), else the `docker compose` plugin. */
function composeCommand(): string[] {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  return ['docker', 'compose'];
}

export function scaleRows(f: ScaleFigures): string[][] {
  const ms = (n: number) => `${Math.round(n)} ms`;
  const ratio = f.kyozoUpMs / f.composeUpMs;
  const median = [...f.killToStatusMs].sort((a, b) => a - b)[Math.floor(f.killToStatusMs.length / 2)] ?? 0;
  return [
    [
      `${f.services} services (4 waves) → all healthy`,
      ms(f.kyozoUpMs),
      f.composeError
        ? `docker-compose FAILED after ${ms(f.composeUpMs)}: ${f.composeError}`
        : `${ms(f.composeUpMs)} (docker-compose up -d)`,
      f.composeError ? '-' : `${ratio.toFixed(2)}x`,
      '≤ 0.70x',
      f.composeError ? 'reference failed' : ratio <= 0.7 ? 'met' : 'MISSED',
    ],
    [
      `status read, ${f.services} running, no stats (p50/p99, n=${f.statusNoStats.n})`,
      `${ms(f.statusNoStats.p50)} / ${ms(f.statusNoStats.p99)}`,
      `kyozo ps --no-stats command ${ms(f.cliPsMs)}`,
      '-',
      'p99 < 300 ms',
      f.statusNoStats.p99 < 300 ? 'met' : 'MISSED',
    ],
    [
      `status read, ${f.services} running, with stats (p50/p99, n=${f.statusStats.n})`,
      `${ms(f.statusStats.p50)} / ${ms(f.statusStats.p99)}`,
      `first read (no earlier reading) ${ms(f.coldStatsMs)}`,
      '-',
      'p99 < 300 ms',
      f.statusStats.p99 < 300 ? 'met' : 'MISSED',
    ],
    [
      `language server with ${f.services} running, 30 s idle`,
      `${f.lspRssMb.toFixed(0)} MB, ${f.lspCpuPercent.toFixed(1)} % CPU`,
      '-',
      '-',
      '< 250 MB, < 5 %',
      f.lspRssMb < 250 && f.lspCpuPercent < 5 ? 'met' : 'MISSED',
    ],
    [
      'docker kill → status notification (median of 3)',
      ms(median),
      `each ${f.killToStatusMs.map(ms).join(', ')}; showed ${[...new Set(f.killStates)].join('/')}`,
      '-',
      '< 2 s',
      median < 2000 ? 'met' : 'MISSED',
    ],
    [`kyozo down, ${f.services} services`, ms(f.kyozoDownMs), `load before ${f.loadBefore}`, '-', '-', ''],
  ];
}
