// Named volumes of a service survive `down` and go only with `down --volumes`; an image-only service runs
// with the compose command from the topology.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { port, service, topology } from '../support/docker-topology-builder';

describe('volumes on a real engine', { timeout: 120_000 }, async () => {
  if (!(await engineAvailable())) {
    test('volumes', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'kyozo-volumes-'));
  const project = `kz-vol-${randomBytes(3).toString('hex')}`;
  const docker = testDocker();
  const orchestrator = createOrchestrator({ stateDir: join(work, 'state') });
  after(async () => {
    await cleanupWorkspace(project);
    rmSync(work, { recursive: true, force: true });
  });

  test('data written to a named volume survives down and up; down --volumes removes it', async () => {
    await ensureTestBaseImages();
    const t = topology(work, project, [
      service('compose.yaml#store', {
        name: 'store',
        type: 'database',
        image: 'kyozo-test/busybox:1',
        start: {
          command: 'x',
          argv: ['sh', '-c', 'date >> /data/boots; httpd -f -p 8080 -h /data'],
          source: 'compose',
          evidence: { file: 'compose.yaml', reason: 'test' },
        },
        ports: [port(8080, { source: 'compose' })],
        volumes: [{ target: '/data', evidence: { file: 'compose.yaml', reason: 'test' } }],
      }),
    ]);
    const first = await orchestrator.up(t);
    assert.equal(first[0]!.health, 'healthy');
    await orchestrator.down(t);
    const second = await orchestrator.up(t);
    const boots = await (await fetch(`${second[0]!.ports[0]!.url}/boots`)).text();
    assert.equal(boots.trim().split('\n').length, 2, 'the volume kept the first boot');
    await orchestrator.down(t, { volumes: true });
    const { Volumes } = await docker.listVolumes({ filters: { label: [`dev.kyozo.workspace=${project}`] } });
    assert.equal((Volumes ?? []).length, 0);
  });
});
