// The fixture stack (web → api by name, api, a busybox-based static server) deployed on the real engine.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { ServiceStatus, Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { ensureTestGatewayImage, TEST_GATEWAY_IMAGE } from '../support/gateway-image';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { exportCompose } from '../../server/src/engine/compose/compose-export';
import { engineAvailable, cleanupWorkspace, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages } from '../support/docker-base-images';

const repo = join(import.meta.dirname, '..', '..');
const fixture = join(repo, 'test', 'fixtures', 'deploy-stack');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-deploy-it-'));
const stateDir = join(work, 'state');
const project = `kz-it-${run}`;
const killedProject = `kz-kill-${run}`;
const docker = testDocker();

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      KYOZO_STATE_DIR: stateDir,
      KYOZO_BASE_IMAGES: 'node=kyozo-test/node:20',
      NO_COLOR: '1',
      ...env,
    },
  });
}

describe('deploy the fixture stack on a real engine', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('deploy the fixture stack', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;
  let statuses: ServiceStatus[];
  const orchestrator = createOrchestrator({
    baseImages: { node: 'kyozo-test/node:20' },
    stateDir,
    gatewayImage: TEST_GATEWAY_IMAGE,
  });
  const byName = (name: string) => statuses.find((s) => s.name === name)!;

  before(async () => {
    await ensureTestBaseImages();
    await ensureTestGatewayImage(); // a scaled service with a port is served through the gateway
    const dir = join(work, project);
    cpSync(fixture, dir, { recursive: true });
    topology = await analyze(dir);
  });

  after(async () => {
    await cleanupWorkspace(project, { images: true });
    await cleanupWorkspace(killedProject, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('the engine detects the three services and the web → api dependency', () => {
    assert.equal(topology.name, project);
    assert.deepEqual(topology.services.map((s) => s.name).sort(), ['api', 'files', 'web']);
    assert.ok(topology.edges.some((e) => e.from === 'web' && e.to === 'api'));
  });

  test('up builds and starts all services healthy, in dependency order, with live progress', async () => {
    const progress: { serviceId: string; state: string }[] = [];
    statuses = await orchestrator.up(topology, {
      onProgress: (p) => progress.push({ serviceId: p.serviceId, state: p.state }),
    });
    for (const name of ['api', 'web', 'files']) {
      assert.equal(byName(name).state, 'running', `${name}: ${JSON.stringify(byName(name))}`);
      assert.equal(byName(name).health, 'healthy', name);
    }
    const at = (id: string, state: string) => progress.findIndex((p) => p.serviceId === id && p.state === state);
    assert.ok(
      at('api', 'healthy') >= 0 && at('api', 'healthy') < at('web', 'starting'),
      'web starts only after api is healthy',
    );
  });

  test('web is reachable on its published 127.0.0.1 port and calls api by service name', async () => {
    const url = byName('web').ports[0]!.url!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const body = (await (await fetch(url)).json()) as { from: string; api: { from: string; uid: number } };
    assert.equal(body.from, 'web');
    assert.equal(body.api.from, 'api');
    assert.equal(body.api.uid, 10001, 'the generated Dockerfile runs the app as a non-root user');
    const files = await (await fetch(byName('files').ports[0]!.url!)).text();
    assert.match(files, /busybox httpd/);
  });

  test('api is probed over HTTP on its health path (kyozo.yaml), from the host through the published port', async () => {
    assert.deepEqual(
      [
        topology.services.find((s) => s.id === 'api')!.healthCheck?.kind,
        topology.services.find((s) => s.id === 'api')!.healthCheck?.path,
      ],
      ['http', '/health'],
    );
    const lines: string[] = [];
    for await (const line of orchestrator.logs(topology, 'api', { tail: 50 })) lines.push(line);
    assert.ok(
      lines.some((l) => l.startsWith('first health check: GET /health')),
      lines.join('\n'),
    );
  });

  test('logs --follow streams lines and ends when aborted', async () => {
    const abort = new AbortController();
    const lines: string[] = [];
    const timer = setTimeout(() => abort.abort(), 15_000);
    for await (const line of orchestrator.logs(topology, 'web', { follow: true, tail: 5, signal: abort.signal })) {
      lines.push(line);
      if (line.includes('web listening on 3000')) abort.abort();
    }
    clearTimeout(timer);
    assert.ok(
      lines.some((l) => l.includes('web listening on 3000, api at http://api:3001')),
      lines.join('\n'),
    );
  });

  test('watch reports status changes from the engine event stream', async () => {
    const seen: ServiceStatus[][] = [];
    const watcher = orchestrator.watch(
      () => topology,
      (s) => seen.push(s),
    );
    try {
      await orchestrator.stop(topology, 'files');
      const deadline = Date.now() + 20_000;
      while (!seen.some((s) => s.find((x) => x.name === 'files')?.state === 'stopped') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      assert.ok(
        seen.some((s) => s.find((x) => x.name === 'files')?.state === 'stopped'),
        'a stopped state was pushed',
      );
    } finally {
      watcher.dispose();
      await orchestrator.start(topology, 'files');
    }
  });

  test('a container killed outside Kyozo is an error, pushed by the watch; a stop by Kyozo is not', async () => {
    const seen: { state: string; message?: string; at: number }[] = [];
    const watcher = orchestrator.watch(
      () => topology,
      (s) => {
        const files = s.find((x) => x.name === 'files');
        if (files) seen.push({ state: files.state, message: files.message, at: Date.now() });
      },
    );
    try {
      const [c] = await docker.listContainers({
        filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.service=${byName('files').serviceId}`] },
      });
      const killedAt = Date.now();
      await docker.getContainer(c!.Id).kill();
      const deadline = Date.now() + 20_000;
      while (!seen.some((x) => x.at >= killedAt && x.state === 'error') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const error = seen.find((x) => x.at >= killedAt && x.state === 'error');
      assert.ok(error, `no error state was pushed: ${JSON.stringify(seen)}`);
      assert.match(error.message ?? '', /was killed outside Kyozo \(SIGKILL, exit code 137/);
      // Started again and stopped by Kyozo: stopped, not an error, even when the stop ends in SIGKILL.
      await orchestrator.start(topology, 'files');
      assert.equal((await orchestrator.stop(topology, 'files')).state, 'stopped');
    } finally {
      watcher.dispose();
      await orchestrator.start(topology, 'files');
    }
  });

  test('containers carry labels, limits and hardening; env is injected at run time, not baked into the image', async () => {
    const list = await docker.listContainers({ all: true, filters: { label: [`dev.kyozo.workspace=${project}`] } });
    assert.equal(list.length, 3);
    for (const c of list) {
      const info = await docker.getContainer(c.Id).inspect();
      const labels = info.Config.Labels;
      assert.equal(labels['com.docker.compose.project'], project);
      assert.equal(labels['com.docker.compose.oneoff'], 'False');
      assert.ok(labels['dev.kyozo.service'] && labels['dev.kyozo.folder'] && labels['com.docker.compose.config-hash']);
      assert.equal(info.HostConfig.Memory, 512 * 1024 * 1024);
      assert.equal(info.HostConfig.NanoCpus, 0.5e9);
      assert.equal(info.HostConfig.Privileged, false);
      assert.ok(info.HostConfig.SecurityOpt?.some((o: string) => o.startsWith('no-new-privileges')));
      for (const binds of Object.values(info.HostConfig.PortBindings ?? {}) as { HostIp: string }[][])
        assert.equal(binds[0]!.HostIp, '127.0.0.1');
      assert.ok(
        info.NetworkSettings.Networks[`${project}_default`]?.Aliases?.includes(labels['com.docker.compose.service']!),
      );
    }
    const web = list.find((c) => c.Labels['dev.kyozo.service'] === 'web')!;
    const image = await docker.getImage(web.ImageID).inspect();
    assert.ok(!(image.Config.Env ?? []).some((e) => e.startsWith('API_URL=')), 'API_URL must not be in the image');
    const info = await docker.getContainer(web.Id).inspect();
    assert.ok(info.Config.Env.includes('API_URL=http://api:3001'));
  });

  test('docker-compose v1 lists the same containers for the exported compose file', () => {
    const out = exportCompose(topology, { outputDir: work });
    const file = join(work, 'compose.yaml');
    writeFileSync(file, out.yaml);
    for (const [f, text] of Object.entries(out.dockerfiles)) {
      mkdirSync(dirname(join(work, f)), { recursive: true });
      writeFileSync(join(work, f), text);
    }
    const ps = spawnSync('docker-compose', ['-p', project, '-f', file, 'ps', '-q'], { encoding: 'utf8' });
    assert.equal(ps.status, 0, ps.stderr);
    const ids = ps.stdout.trim().split('\n').filter(Boolean).sort();
    const ours = statuses.flatMap((s) => s.containers.map((c) => c.containerId)).sort();
    assert.deepEqual(ids, ours);
  });

  test('a second up reuses images and containers and keeps the host ports', async () => {
    const again = await orchestrator.up(topology);
    for (const s of again) {
      const before = statuses.find((x) => x.serviceId === s.serviceId)!;
      assert.deepEqual(
        s.containers.map((c) => c.containerId),
        before.containers.map((c) => c.containerId),
      );
      assert.deepEqual(s.ports, before.ports);
    }
    const started = (await orchestrator.events(topology)).filter((e) => e.type === 'service_started').slice(-3);
    assert.ok(
      started.every((e) => e.details?.built === false),
      'unchanged folders are not rebuilt',
    );
  });

  test('scale api to 3 replicas behind the shared alias; web still reaches it', async () => {
    const s = await orchestrator.scale(topology, 'api', 3);
    assert.deepEqual(s.replicas, { running: 3, desired: 3 });
    assert.equal(s.containers.length, 3);
    for (const c of s.containers) {
      const info = await docker.getContainer(c.containerId).inspect();
      assert.ok(info.NetworkSettings.Networks[`${project}_default`]?.Aliases?.includes('api'));
    }
    const hosts = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const body = (await (await fetch(byName('web').ports[0]!.url!)).json()) as { api: { hostname: string } };
      hosts.add(body.api.hostname);
    }
    assert.ok(hosts.size >= 1);
    const ps = cli(['ps', '--json', '--no-stats', '-d', join(work, project)]);
    assert.equal(ps.status, 0, ps.stderr);
    const api = (JSON.parse(ps.stdout) as ServiceStatus[]).find((x) => x.name === 'api')!;
    assert.equal(api.replicas.running, 3);
  });

  test('restart brings api back healthy on the same host port; stop and start work', async () => {
    const before = (await orchestrator.status(topology, { stats: false })).find((s) => s.name === 'api')!;
    const restarted = await orchestrator.restart(topology, 'api');
    assert.equal(restarted.health, 'healthy');
    assert.deepEqual(restarted.ports, before.ports);
    const stopped = await orchestrator.stop(topology, 'files');
    assert.equal(stopped.state, 'stopped');
    const started = await orchestrator.start(topology, 'files');
    assert.equal(started.state, 'running');
    assert.equal(started.health, 'healthy');
  });

  test('ps samples CPU and memory from the stats API', async () => {
    const all = await orchestrator.status(topology);
    const web = all.find((s) => s.name === 'web')!;
    assert.ok((web.memoryBytes ?? 0) > 1024 * 1024, `memory ${web.memoryBytes}`);
    assert.equal(typeof web.cpuPercent, 'number');
    // A busy loop in the files container (busybox sh) for 8 s: status reads (each answered from a reading under 30 s
    // old while a new one is taken) show it using a good part of a core within a few seconds.
    const [files] = await docker.listContainers({
      filters: { label: [`dev.kyozo.workspace=${project}`, 'dev.kyozo.service=files'] },
    });
    const exec = await docker.getContainer(files.Id).exec({
      Cmd: ['sh', '-c', 'end=$(($(date +%s)+8)); while [ $(date +%s) -lt $end ]; do :; done'],
    });
    await exec.start({ Detach: true });
    const filesId = topology.services.find((x) => x.name === 'files')!.id;
    const seen: (number | undefined)[] = [];
    for (let read = 0; read < 12 && !((seen.at(-1) ?? 0) > 10); read++) {
      await new Promise((r) => setTimeout(r, 500));
      const [busy] = await orchestrator.status(topology, { services: [filesId] });
      seen.push(busy.cpuPercent);
    }
    assert.ok((seen.at(-1) ?? 0) > 10, `files while busy, read after read: ${seen.join(', ')} % CPU`);
  });

  test('events are durable JSON lines with durations', async () => {
    const events = await orchestrator.events(topology);
    const types = new Set(events.map((e) => e.type));
    for (const t of [
      'deployment_started',
      'deployment_completed',
      'service_started',
      'service_scaled',
      'service_stopped',
    ])
      assert.ok(types.has(t as never), t);
    assert.ok(events.filter((e) => e.type === 'service_started').every((e) => typeof e.durationMs === 'number'));
    const file = join(orchestrator.stateDir(topology), 'events.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, events.length);
    assert.equal(JSON.parse(lines.at(-1)!).id, events.at(-1)!.id);
    const cliEvents = cli(['events', 'api', '--json', '-d', join(work, project)]);
    assert.equal(cliEvents.status, 0, cliEvents.stderr);
    assert.ok((JSON.parse(cliEvents.stdout) as { type: string }[]).some((e) => e.type === 'service_scaled'));
  });

  test('killing the CLI in the middle of up leaves nothing half-made: ps and the next up reconcile', async () => {
    const dir = join(work, killedProject);
    cpSync(fixture, dir, { recursive: true });
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), 'up', dir], {
      cwd: repo,
      env: { ...process.env, KYOZO_STATE_DIR: stateDir, KYOZO_BASE_IMAGES: 'node=kyozo-test/node:20', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`up never reached a starting service:\n${out}`)), 120_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^api\s+starting/m.test(out)) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const ps = cli(['ps', '--json', '--no-stats', dir]);
    assert.equal(ps.status, 0, ps.stderr);
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`dev.kyozo.workspace=${killedProject}`] },
    });
    assert.ok(
      left.every((c) => c.State !== 'created'),
      `never-started containers were removed: ${left.map((c) => c.State).join(',')}`,
    );
    for (const c of left)
      for (const l of ['dev.kyozo.service', 'com.docker.compose.service', 'com.docker.compose.config-hash'])
        assert.ok(c.Labels[l], l);
    const up = cli(['up', '--json', dir]);
    assert.equal(up.status, 0, up.stderr + up.stdout);
    const after = JSON.parse(up.stdout) as ServiceStatus[];
    assert.ok(
      after.every((s) => s.health === 'healthy' && s.containers.length === 1),
      JSON.stringify(after),
    );
    const all = await docker.listContainers({
      all: true,
      filters: { label: [`dev.kyozo.workspace=${killedProject}`] },
    });
    assert.equal(all.length, 3);
    const events = cli(['events', '--json', '-d', dir]);
    assert.equal(events.status, 0, events.stderr);
    const parsed = JSON.parse(events.stdout) as { type: string; details?: { interrupted?: boolean } }[];
    assert.ok(
      parsed.some((e) => e.type === 'deployment_failed' && e.details?.interrupted),
      'the interrupted deployment is recorded as failed',
    );
    assert.equal(parsed.at(-1)!.type, 'deployment_completed');
  });

  test('down removes the containers and the network', async () => {
    const res = cli(['down', join(work, project)]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(
      (await docker.listContainers({ all: true, filters: { label: [`dev.kyozo.workspace=${project}`] } })).length,
      0,
    );
    assert.equal((await docker.listNetworks({ filters: { name: [`${project}_default`] } })).length, 0);
  });
});
