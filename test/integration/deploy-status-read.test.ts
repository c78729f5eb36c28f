// status() is a read, as every watch-triggered refresh and every other client calls it: it neither removes
// containers nor appends events. Repairing what an interrupted deployment left (a never-started container, an
// open deployment record whose process is gone) is `up`'s, `kyozo ps`'s and an explicit repair's job.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { EventLog } from '../../server/src/engine/deploy/event-log';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'deploy-stack');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-status-read-'));
const project = `kz-sr-${run}`;
const orchestrator = createOrchestrator({ stateDir: join(work, 'state'), project });
const docker = testDocker();
const mine = () => docker.listContainers({ all: true, filters: { label: [`dev.kyozo.workspace=${project}`] } });

describe('status() is a read', { timeout: 120_000 }, async () => {
  if (!(await engineAvailable())) {
    test('status() is a read', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;

  before(async () => {
    await ensureTestBaseImages();
    const dir = join(work, project);
    cpSync(fixture, dir, { recursive: true });
    topology = await analyze(dir);
    // What a deployment killed between create and start leaves: an open record (its pid long gone) and a container.
    const deployment = `killed-${run}`;
    new EventLog(orchestrator.stateDir(topology), project).append('deployment_started', {
      details: { deployment, pid: 2 ** 22 + 1, services: ['files'] },
    });
    const files = topology.services.find((s) => s.name === 'files')!;
    await docker.createContainer({
      Image: TEST_BASE_IMAGES.busybox,
      Cmd: ['sleep', '60'],
      name: `${project}_files_1`,
      Labels: {
        'dev.kyozo.workspace': project,
        'dev.kyozo.service': files.id,
        'dev.kyozo.replica': '1',
        'dev.kyozo.deployment': deployment,
      },
    });
  });

  after(async () => {
    await cleanupWorkspace(project);
    rmSync(work, { recursive: true, force: true });
  });

  test('status() and watch() refreshes leave the containers and the event log as they are', async () => {
    const events = (await orchestrator.events(topology)).length;
    const pushed: unknown[] = [];
    const watch = orchestrator.watch(
      () => topology,
      (s) => pushed.push(s),
    );
    const statuses = await orchestrator.status(topology, { stats: false });
    const deadline = Date.now() + 10_000;
    while (!pushed.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    watch.dispose();
    assert.ok(pushed.length > 0, 'watch() refreshed');
    assert.equal(statuses.find((s) => s.name === 'files')?.state, 'stopped', JSON.stringify(statuses));
    assert.deepEqual(
      (await mine()).map((c) => c.State),
      ['created'],
    );
    assert.equal((await orchestrator.events(topology)).length, events);
  });

  test('a full read reuses the inspect of a container the list shows unchanged; a read of a service inspects', async () => {
    await orchestrator.status(topology, { stats: false });
    // Counted on the real client: every inspect the orchestrator makes goes through getContainer().inspect().
    let inspects = 0;
    const client = orchestrator.docker;
    const getContainer = client.getContainer.bind(client);
    client.getContainer = (id: string) => {
      const container = getContainer(id);
      const inspect = container.inspect.bind(container);
      container.inspect = ((...args: Parameters<typeof inspect>) => {
        inspects++;
        return inspect(...args);
      }) as typeof container.inspect;
      return container;
    };
    try {
      const again = await orchestrator.status(topology, { stats: false });
      assert.equal(inspects, 0, 'the list showed the container unchanged');
      assert.equal(again.find((s) => s.name === 'files')?.state, 'stopped');
      const files = topology.services.find((s) => s.name === 'files')!;
      await orchestrator.status(topology, { stats: false, services: [files.id] });
      assert.equal(inspects, 1, 'a read of the service inspects its container');
    } finally {
      client.getContainer = getContainer;
    }
  });

  test('repair() removes the never-started container and records the interrupted deployment as failed', async () => {
    const removed = await orchestrator.repair(topology);
    assert.deepEqual(removed, [`${project}_files_1`]);
    assert.deepEqual(await mine(), []);
    const last = (await orchestrator.events(topology)).at(-1);
    assert.equal(last?.type, 'deployment_failed');
    assert.equal(last?.details?.interrupted, true);
  });
});
