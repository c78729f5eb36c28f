// The autoscaler on a real engine: a service with `scaling: { min: 1, max: 2, target_cpu: 5 }` (and a 3 s window
// and cooldown, which tests may set) runs a CPU loop in its replica through exec; the autoscaler reads the stats API,
// scales it out to 2, and once the loop ends back in to 1, each decision a `service_scaled` event with its reason.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Topology } from '../../server/src/protocol';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { Autoscaler, type ScaleDecision } from '../../server/src/engine/deploy/autoscaler';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { service, topology as buildTopology } from '../support/docker-topology-builder';

const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-autoscale-'));
const project = `kz-as-${run}`;
const image = `kyozo-${project}/burner:1`;
const orchestrator = createOrchestrator({ stateDir: join(work, 'state'), project });
const docker = testDocker();
const ID = 'compose.yaml#burner';

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('autoscaling on a real engine', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('autoscaling on a real engine', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;
  let scaler: Autoscaler | undefined;
  const decisions: { decision: ScaleDecision; error?: string }[] = [];
  const replicas = async () =>
    docker.listContainers({ filters: { label: [`dev.kyozo.workspace=${project}`, `dev.kyozo.service=${ID}`] } });

  before(async () => {
    await ensureTestBaseImages();
    execFileSync('docker', ['build', '-q', '-t', image, '-'], {
      input: [`FROM ${TEST_BASE_IMAGES.busybox}`, 'CMD ["sleep", "3600"]'].join('\n'),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    topology = buildTopology(work, project, [
      service(ID, {
        type: 'static',
        image,
        resources: { cpus: 0.5 },
        scaling: { min: 1, max: 2, targetCpu: 5 },
      }),
    ]);
  });

  after(async () => {
    scaler?.dispose();
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('CPU above the target scales out to max; the loop ending scales back in to min', async () => {
    await orchestrator.up(topology);
    const [first] = await replicas();
    assert.ok(first, 'one replica runs (scaling.min)');
    scaler = new Autoscaler(orchestrator, () => topology, {
      intervalMs: 1000,
      windowMs: 3000,
      cooldownMs: 3000,
      onDecision: (_, decision, error) => decisions.push({ decision, error: error?.message }),
    });
    scaler.start();
    // A busy loop as long as /tmp/burn exists: half a core, the replica's whole CPU limit.
    const exec = async (script: string) => {
      const e = await docker.getContainer(first.Id).exec({ Cmd: ['sh', '-c', script] });
      await e.start({ Detach: true });
    };
    await exec('touch /tmp/burn; while [ -f /tmp/burn ]; do :; done');
    await waitFor(
      'scaled out',
      async () => (await replicas()).length,
      (n) => n === 2,
      90_000,
    );
    await exec('rm -f /tmp/burn');
    await waitFor(
      'scaled back in',
      async () => (await replicas()).length,
      (n) => n === 1,
      90_000,
    );
    await scaler.settled();
    scaler.dispose();
    assert.deepEqual(
      decisions.filter((d) => d.error),
      [],
    );
    const scaled = (await orchestrator.events(topology, ID)).filter((e) => e.type === 'service_scaled');
    assert.equal(scaled.length, 2, JSON.stringify(scaled));
    assert.match(scaled[0]!.message ?? '', /^cpu \d+% > 5% for 3s$/);
    assert.deepEqual({ from: scaled[0]!.details?.from, to: scaled[0]!.details?.to }, { from: 1, to: 2 });
    assert.match(scaled[1]!.message ?? '', /^cpu \d+% < 3% for 3s$/);
    assert.deepEqual({ from: scaled[1]!.details?.from, to: scaled[1]!.details?.to }, { from: 2, to: 1 });
    const [left] = await replicas();
    assert.equal(left!.Id, first.Id, 'the first replica stays');
  });
});
