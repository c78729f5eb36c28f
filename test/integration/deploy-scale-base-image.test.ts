// `kyozo scale` after `kyozo up --base-image node=...`: scale runs more of what is deployed. It reuses the image the
// running replicas use (and, with none left, the one `up` built with the base images it remembered), so a later
// command line without --base-image neither rebuilds with the default base image nor needs a registry.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { ensureTestGatewayImage, TEST_GATEWAY_IMAGE } from '../support/gateway-image';
import { createOrchestrator } from '../../server/src/engine/deploy/index';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';

const repo = join(import.meta.dirname, '..', '..');
const fixture = join(repo, 'test', 'fixtures', 'deploy-stack');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-scale-base-'));
const stateDir = join(work, 'state');
const project = `kz-sb-${run}`;
const dir = join(work, project);

// What `kyozo up --base-image node=...` and a later plain `kyozo scale` each create from their flags.
const gatewayImage = TEST_GATEWAY_IMAGE;
const upWith = createOrchestrator({ baseImages: { node: TEST_BASE_IMAGES.node }, stateDir, project, gatewayImage });
const later = createOrchestrator({ baseImages: {}, stateDir, project, gatewayImage });

function apiImages(): Promise<string[]> {
  const label = [`dev.kyozo.workspace=${project}`, 'dev.kyozo.service=api'];
  return testDocker()
    .listContainers({ all: true, filters: { label } })
    .then((l) => l.map((c) => c.ImageID));
}

describe('scale after up --base-image', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('scale after up --base-image', { skip: 'no Docker engine' }, () => undefined);
    return;
  }

  let topology: Topology;

  before(async () => {
    await ensureTestBaseImages();
    await ensureTestGatewayImage(); // a scaled service with a port is served through the gateway
    cpSync(fixture, dir, { recursive: true });
    topology = await analyze(dir);
    const up = await upWith.up(topology, { services: ['api'] });
    assert.equal(up.find((s) => s.name === 'api')?.state, 'running', JSON.stringify(up));
  });

  after(async () => {
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('scale api=3 without --base-image reuses the running image and builds nothing', async () => {
    const [image] = await apiImages();
    const scaled = await later.scale(topology, 'api', 3);
    assert.deepEqual(scaled.replicas, { running: 3, desired: 3 }, JSON.stringify(scaled));
    assert.deepEqual(await apiImages(), [image, image, image]);
  });

  test('the state folder remembers the base images up chose', () => {
    const [folder] = readdirSync(stateDir).filter((f) => f.startsWith(`${project}-`));
    const state = JSON.parse(readFileSync(join(stateDir, folder!, 'state.json'), 'utf8')) as {
      baseImages?: Record<string, Record<string, string>>;
    };
    assert.deepEqual(Object.values(state.baseImages ?? {}), [{ node: TEST_BASE_IMAGES.node }]);
  });

  test('scale api=0 then api=1 without --base-image starts the image up built, not a new one', async () => {
    const [image] = await apiImages();
    await later.scale(topology, 'api', 0);
    assert.deepEqual(await apiImages(), []);
    const one = await later.scale(topology, 'api', 1);
    assert.deepEqual(one.replicas, { running: 1, desired: 1 }, JSON.stringify(one));
    assert.deepEqual(await apiImages(), [image]);
    const built = await testDocker().listImages({ filters: { reference: [`kyozo-${project}/api`] } });
    assert.deepEqual(
      built.map((i) => i.Id),
      [image],
      'no other image of api was built',
    );
  });
});
