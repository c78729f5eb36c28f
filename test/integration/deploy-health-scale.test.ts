// Health probing at scale on a real engine: 12 small busybox httpd services whose image carries a HEALTHCHECK
// every 30 s come up healthy on Kyozo's own host-side HTTP probe (the deployment events say which probe said
// healthy; waiting on the engine would have said it 30 s after each start at the earliest), and `up`, stopping
// everything and `down` handle their containers with bounded parallelism (the orchestrator's limiter records the
// most container operations it had in flight).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Topology } from '../../server/src/protocol';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { DEFAULT_PARALLELISM } from '../../server/src/engine/deploy/docker-orchestrator';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { port, service, topology as buildTopology } from '../support/docker-topology-builder';

const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-health-scale-'));
const project = `kz-hs-${run}`;
// Named under kyozo-<project>/ so cleanupWorkspace({ images: true }) removes it.
const image = `kyozo-${project}/httpd:1`;
const COUNT = 12;
const orchestrator = createOrchestrator({ stateDir: join(work, 'state'), project });
const evidence = { file: 'compose.yaml', reason: 'test' };

describe('health probing at scale on a real engine', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('health probing at scale on a real engine', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;

  before(async () => {
    await ensureTestBaseImages();
    // Built once for all 12 services.
    const dockerfile = [
      `FROM ${TEST_BASE_IMAGES.busybox}`,
      'RUN echo ok > /www/index.html',
      'HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/',
      'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
    ].join('\n');
    execFileSync('docker', ['build', '-q', '-t', image, '-'], { input: dockerfile, stdio: ['pipe', 'ignore', 'pipe'] });
    const services = Array.from({ length: COUNT }, (_, i) =>
      service(`compose.yaml#web${String(i + 1).padStart(2, '0')}`, {
        type: 'static',
        image,
        ports: [port(8080, { source: 'compose' })],
        healthCheck: { kind: 'http', path: '/', evidence },
      }),
    );
    topology = buildTopology(work, project, services);
  });

  after(async () => {
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('`up` says healthy from the host probe, starting containers a bounded number at a time', async () => {
    orchestrator.engineCalls.resetStats();
    const statuses = await orchestrator.up(topology);
    assert.equal(statuses.length, COUNT);
    assert.deepEqual(
      statuses.filter((s) => s.health !== 'healthy').map((s) => `${s.name}: ${s.health}`),
      [],
    );
    const started = (await orchestrator.events(topology)).filter((e) => e.type === 'service_started');
    assert.equal(started.length, COUNT);
    for (const e of started)
      assert.deepEqual(e.details?.readiness, ['host-http'], `${e.serviceId}: ${JSON.stringify(e.details)}`);
    const most = orchestrator.engineCalls.maxActive;
    assert.ok(most >= 2 && most <= DEFAULT_PARALLELISM, `${most} containers were started at once`);
  });

  test('stopping everything stops the 12 services in parallel, at most the configured parallelism at once', async () => {
    orchestrator.engineCalls.resetStats();
    const progress: string[] = [];
    const all = await orchestrator.stopAll(topology, { onProgress: (p) => progress.push(p.serviceId) });
    assert.deepEqual(
      all.filter((s) => s.state !== 'stopped').map((s) => `${s.name}: ${s.state}`),
      [],
    );
    assert.equal(progress.length, COUNT);
    assert.equal(orchestrator.engineCalls.maxActive, DEFAULT_PARALLELISM);
  });

  test('`down` removes them all, at most the configured parallelism at once and never one after another', async () => {
    orchestrator.engineCalls.resetStats();
    await orchestrator.down(topology);
    assert.equal(orchestrator.engineCalls.maxActive, DEFAULT_PARALLELISM);
    const left = await testDocker().listContainers({
      all: true,
      filters: { label: [`dev.kyozo.workspace=${project}`] },
    });
    assert.equal(left.length, 0);
    const stopped = (await orchestrator.events(topology)).filter(
      (e) => e.type === 'service_stopped' && e.message === 'removed by down',
    );
    assert.equal(stopped.length, COUNT);
  });
});
