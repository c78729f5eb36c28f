// Scaling while orchestrator.watch() follows the engine's events (as the language server always does):
// the status refresh that every container event triggers must not remove or kill the replicas scale creates.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeploymentEvent, ServiceStatus, Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { ensureTestGatewayImage, TEST_GATEWAY_IMAGE } from '../support/gateway-image';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'deploy-stack');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-scale-watch-'));
const stateDir = join(work, 'state');
const project = `kz-sw-${run}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scale while watch() follows engine events', { timeout: 240_000 }, async () => {
  if (!(await engineAvailable())) {
    test('scale while watch() follows engine events', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  const orchestrator = createOrchestrator({
    baseImages: { node: TEST_BASE_IMAGES.node },
    stateDir,
    gatewayImage: TEST_GATEWAY_IMAGE,
  });
  const docker = testDocker();
  let topology: Topology;
  let watcher: { dispose(): void } | undefined;
  const pushed: ServiceStatus[][] = [];
  const events: DeploymentEvent[] = [];
  const files = (all: ServiceStatus[]) => all.find((s) => s.name === 'files')!;
  /** Exit codes of this workspace's `files` containers that died (from the engine's own event stream). */
  const deaths: string[] = [];
  let deathStream: NodeJS.ReadableStream | undefined;

  before(async () => {
    await ensureTestBaseImages();
    await ensureTestGatewayImage(); // a scaled service with a port is served through the gateway
    const dir = join(work, project);
    cpSync(fixture, dir, { recursive: true });
    topology = await analyze(dir);
    const up = await orchestrator.up(topology, { services: ['files'] });
    assert.equal(files(up).state, 'running', JSON.stringify(files(up)));
    deathStream = await docker.getEvents({
      filters: { label: [`dev.kyozo.workspace=${project}`], type: ['container'], event: ['die'] },
    });
    deathStream.on('data', (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const ev = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
          deaths.push(`${ev.Actor?.Attributes?.name} exit ${ev.Actor?.Attributes?.exitCode}`);
        } catch {
          // a partial line; the assertion below reports what was parsed
        }
      }
    });
    watcher = orchestrator.watch(
      () => topology,
      (s) => pushed.push(s),
      (e) => events.push(e),
    );
  });

  after(async () => {
    watcher?.dispose();
    (deathStream as unknown as { destroy(): void } | undefined)?.destroy();
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('scale to 3 with watch active: status shows 3 running replicas, still running seconds later', async () => {
    // watch() refreshes 200 ms after each event, which hits the window between a replica's create and start
    // only sometimes. A status() on every create event with no delay (another client reading status) hits it
    // every time: before the fix, scale failed here with 404/409 (its new replica removed under it).
    const created = await docker.getEvents({
      filters: { label: [`dev.kyozo.workspace=${project}`], type: ['container'], event: ['create'] },
    });
    const refreshes: Promise<unknown>[] = [];
    created.on('data', () => refreshes.push(orchestrator.status(topology, { stats: false }).catch((e: Error) => e)));
    const scaled = await orchestrator
      .scale(topology, 'files', 3)
      .finally(() => (created as unknown as { destroy(): void }).destroy());
    await Promise.all(refreshes);
    assert.ok(refreshes.length >= 1, 'status() ran while scale was creating replicas');
    assert.deepEqual(scaled.replicas, { running: 3, desired: 3 }, JSON.stringify(scaled));
    assert.equal(scaled.state, 'running');
    const now = files(await orchestrator.status(topology, { stats: false }));
    assert.deepEqual(now.replicas, { running: 3, desired: 3 });
    assert.deepEqual(
      now.containers.map((c) => c.name).sort(),
      [1, 2, 3].map((n) => `${project}_files_${n}`),
    );
    await sleep(4000); // let watch() refresh several times on the events scale caused
    const later = files(await orchestrator.status(topology, { stats: false }));
    assert.deepEqual(later.replicas, { running: 3, desired: 3 }, JSON.stringify(later));
    assert.deepEqual(
      later.containers.map((c) => c.containerId).sort(),
      now.containers.map((c) => c.containerId).sort(),
      'the same three containers, none replaced',
    );
    assert.ok(
      later.containers.every((c) => c.state === 'running'),
      JSON.stringify(later.containers),
    );
    // Going from one replica to three puts the service behind its gateway (gateway.ts), which takes over the
    // published port: replica 1 is recreated once without it. No other replica dies.
    assert.deepEqual(
      deaths.filter((d) => !d.startsWith(`${project}_files_1 `)),
      [],
      'no new replica died while scaling up',
    );
    assert.ok(deaths.length <= 1, `replica 1 was recreated at most once: ${deaths.join(', ')}`);
    assert.ok(
      pushed.some((s) => files(s).replicas.running === 3),
      'watch() pushed the scaled status',
    );
    // scale is recorded as a deployment with its pid (so another process's reconcile sees it as live), and closed.
    const log = await orchestrator.events(topology, scaled.serviceId);
    const started = log.find(
      (e) => e.type === 'deployment_started' && String(e.details?.deployment).startsWith('scale-'),
    );
    assert.equal(started?.details?.pid, process.pid);
    assert.ok(
      log.some((e) => e.type === 'deployment_completed' && e.details?.deployment === started!.details!.deployment),
    );
  });

  test('scale back to 1 with watch active removes two replicas and keeps the first', async () => {
    const first = files(await orchestrator.status(topology, { stats: false })).containers.find((c) =>
      c.name.endsWith('_files_1'),
    )!;
    const back = await orchestrator.scale(topology, 'files', 1);
    assert.deepEqual(back.replicas, { running: 1, desired: 1 });
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.service=${back.serviceId}`] },
    });
    assert.deepEqual(
      containers.map((c) => c.Id),
      [first.containerId],
    );
    await sleep(2000);
    const later = files(await orchestrator.status(topology, { stats: false }));
    assert.deepEqual(later.replicas, { running: 1, desired: 1 });
    assert.equal(later.containers[0]!.containerId, first.containerId);
  });
});
