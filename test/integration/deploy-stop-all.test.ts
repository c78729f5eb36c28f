// stopAll as an engine use case on a real engine: it stops what the engine says is running (not what a client
// last saw), one service after another with progress, and stops nothing more once its signal is aborted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceStatus, Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator, type DeployProgress } from '../../server/src/engine/deploy/index';
import { cleanupWorkspace, engineAvailable } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'deploy-stack');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-stop-all-'));
const project = `kz-sa-${run}`;
const baseImages = { node: TEST_BASE_IMAGES.node };
const orchestrator = createOrchestrator({ baseImages, stateDir: join(work, 'state'), project });
const stateOf = (all: ServiceStatus[]) => Object.fromEntries(all.map((s) => [s.name, s.state]));

describe('stopAll on a real engine', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('stopAll on a real engine', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;

  before(async () => {
    await ensureTestBaseImages();
    const dir = join(work, project);
    cpSync(fixture, dir, { recursive: true });
    topology = await analyze(dir);
    const up = await orchestrator.up(topology, { services: ['api', 'files'] });
    assert.deepEqual(stateOf(up), { api: 'running', files: 'running', web: 'not-deployed' });
  });

  after(async () => {
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('an aborted stopAll stops nothing', async () => {
    const abort = new AbortController();
    abort.abort();
    const all = await orchestrator.stopAll(topology, { signal: abort.signal });
    assert.deepEqual(stateOf(all), { api: 'running', files: 'running', web: 'not-deployed' });
  });

  test('stops only the services with running containers, with progress for each', async () => {
    await orchestrator.stop(topology, 'files');
    const before = (await orchestrator.events(topology)).length;
    const progress: DeployProgress[] = [];
    const all = await orchestrator.stopAll(topology, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(stateOf(all), { api: 'stopped', files: 'stopped', web: 'not-deployed' });
    const seen = progress.map((p) => [p.serviceId, p.state, p.message, p.percentage]);
    assert.deepEqual(seen, [['api', 'stopping', 'api', 0]]);
    const stopped = (await orchestrator.events(topology)).slice(before).filter((e) => e.type === 'service_stopped');
    assert.deepEqual(
      stopped.map((e) => e.serviceId),
      ['api'],
    );
  });
});
