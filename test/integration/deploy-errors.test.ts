// Each deploy error produced on purpose against the real engine: unreachable engine, failing build,
// a container that exits at once, an image that is neither present nor pullable, a host-port conflict.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator, DeploymentError, EngineUnreachableError } from '../../server/src/engine/deploy/index';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { port, service, topology as buildTopology } from '../support/docker-topology-builder';

const repo = join(import.meta.dirname, '..', '..');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-deploy-errors-'));
const stateDir = join(work, 'state');
const brokenProject = `kz-broken-${run}`;
const imageProject = `kz-images-${run}`;
const slowProject = `kz-slow-${run}`;

test('an unreachable engine gives exit code 69 and says how to start one', () => {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), 'ps', join(repo, 'test/fixtures/deploy-stack')],
    {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, DOCKER_HOST: `unix://${work}/no-engine.sock`, KYOZO_STATE_DIR: stateDir },
    },
  );
  assert.equal(res.status, 69, res.stderr);
  assert.match(res.stderr, /Cannot reach the Docker engine at unix:\/\/.*no-engine\.sock/);
  assert.match(res.stderr, /systemctl start docker|Docker Desktop/);
  assert.match(res.stderr, /DOCKER_HOST/);
});

test('the orchestrator reports the same as a typed error with the exit code', async () => {
  const o = createOrchestrator({ dockerHost: `unix://${work}/no-engine.sock`, stateDir });
  const ping = await o.ping();
  assert.equal(ping.reachable, false);
  await assert.rejects(
    o.status(buildTopology(work, 'x', [])),
    (e: unknown) => e instanceof EngineUnreachableError && e.exitCode === 69,
  );
});

describe('deploy errors on a real engine', { timeout: 240_000 }, async () => {
  if (!(await engineAvailable())) {
    test('deploy errors', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  // The classic builder, whose `Step n/m` output these tests read (deploy-buildkit.test.ts covers BuildKit's).
  const orchestrator = createOrchestrator({
    baseImages: { node: 'kyozo-test/node:20' },
    builder: 'classic',
    stateDir,
    healthTimeoutMs: 30_000,
  });
  let broken: Topology;
  let blocker: Server | undefined;

  before(async () => {
    await ensureTestBaseImages();
    const dir = join(work, brokenProject);
    cpSync(join(repo, 'test/fixtures/deploy-broken'), dir, { recursive: true });
    broken = await analyze(dir);
  });

  after(async () => {
    blocker?.close();
    await cleanupWorkspace(brokenProject, { images: true });
    await cleanupWorkspace(imageProject, { images: true });
    await cleanupWorkspace(slowProject, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('a failing build records deployment_failed with the failing step and the last log lines', async () => {
    await assert.rejects(orchestrator.up(broken, { services: ['bad-build'] }), (e: unknown) => {
      assert.ok(e instanceof DeploymentError);
      assert.match(
        e.message,
        /build of bad-build failed at Step 3\/\d+ : RUN echo "about to fail on purpose" && exit 3/,
      );
      return true;
    });
    const failed = (await orchestrator.events(broken)).filter((e) => e.type === 'deployment_failed').at(-1)!;
    assert.equal(failed.serviceId, 'bad-build');
    assert.match(String(failed.details?.step), /^Step 3\/\d+ : RUN echo "about to fail on purpose"/);
    const tail = failed.details?.logTail as string[];
    assert.ok(Array.isArray(tail) && tail.length > 0 && tail.length <= 50);
    assert.ok(tail.some((l) => l.includes('about to fail on purpose')));
    assert.ok(tail.some((l) => l.includes('step one works')));
    assert.equal(typeof failed.durationMs, 'number');
    // The engine keeps the last good step as an untagged cache image (as `docker build` does): remove ours.
    for (const id of tail.map((l) => /^ ---> ([0-9a-f]{12})$/.exec(l)?.[1]).filter(Boolean)) {
      await testDocker()
        .getImage(id!)
        .remove()
        .catch(() => undefined);
    }
  });

  test('a container that exits at once gives state error with its exit code and last logs', async () => {
    await assert.rejects(orchestrator.up(broken, { services: ['crash'] }), (e: unknown) => {
      assert.ok(e instanceof DeploymentError);
      assert.match(e.message, /crash exited with code 7/);
      assert.match(e.message, /boom: missing configuration/);
      return true;
    });
    const crash = (await orchestrator.status(broken, { stats: false })).find((s) => s.serviceId === 'crash')!;
    assert.equal(crash.state, 'error');
    assert.match(crash.message ?? '', /exited with code 7/);
    const failed = (await orchestrator.events(broken)).filter((e) => e.type === 'deployment_failed').at(-1)!;
    assert.equal(failed.details?.exitCode, 7);
  });

  test('an image that is neither present nor pullable names the image and the reason', async () => {
    const t = buildTopology(work, imageProject, [
      service('compose.yaml#ghost', {
        name: 'ghost',
        type: 'containerized',
        image: `kyozo-test/does-not-exist-${run}:1`,
      }),
    ]);
    await assert.rejects(orchestrator.up(t), (e: unknown) => {
      assert.ok(e instanceof DeploymentError);
      assert.match(
        e.message,
        new RegExp(`image kyozo-test/does-not-exist-${run}:1 is not present locally and could not be pulled: .+`),
      );
      return true;
    });
    const failed = (await orchestrator.events(t)).filter((e) => e.type === 'deployment_failed').at(-1)!;
    assert.equal(failed.details?.image, `kyozo-test/does-not-exist-${run}:1`);
    assert.ok(String(failed.details?.reason).length > 0);
  });

  test('Ctrl-C during up stops the build at once, records the interruption and leaves no containers', async () => {
    const dir = join(work, slowProject);
    cpSync(join(repo, 'test/fixtures/deploy-slow'), dir, { recursive: true });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), 'up', '--verbose', dir],
      {
        cwd: repo,
        env: { ...process.env, KYOZO_STATE_DIR: stateDir, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const t0 = Date.now();
    while (!out.includes('a long build step starts') && Date.now() - t0 < 60_000)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(out.includes('a long build step starts'), out);
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 1, out);
    assert.ok(Date.now() - interruptedAt < 15_000, 'the 30 s build step was not waited for');
    assert.match(out, /interrupt/);
    const slow = await analyze(dir);
    const events = await orchestrator.events(slow);
    assert.equal(events.at(-1)!.type, 'deployment_failed');
    assert.match(events.at(-1)!.message ?? '', /interrupted/);
    const left = await testDocker().listContainers({
      all: true,
      filters: { label: [`dev.kyozo.workspace=${slowProject}`] },
    });
    assert.equal(left.length, 0);
  });

  test('a host port taken by another program is replaced by a free one and reported', async () => {
    blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker!.once('listening', r));
    const taken = (blocker.address() as { port: number }).port;
    const t = buildTopology(work, imageProject, [
      service('compose.yaml#www', {
        name: 'www',
        type: 'static',
        image: 'kyozo-test/busybox:1',
        start: {
          command: 'httpd -f -p 8080 -h /www',
          argv: ['httpd', '-f', '-p', '8080', '-h', '/www'],
          source: 'compose',
          evidence: { file: 'compose.yaml', reason: 'test' },
        },
        ports: [port(8080, { host: taken, source: 'compose' })],
      }),
    ]);
    const messages: string[] = [];
    const statuses = await orchestrator.up(t, { onProgress: (p) => p.message && messages.push(p.message) });
    const www = statuses[0]!;
    assert.equal(www.health, 'healthy');
    assert.notEqual(www.ports[0]!.host, taken);
    assert.ok(
      messages.some((m) => m.includes(`host port ${taken}`) && m.includes('in use')),
      messages.join('\n'),
    );
    const conflict = (await orchestrator.events(t)).find((e) => e.details?.portConflict);
    assert.ok(conflict, 'the conflict is recorded');
  });
});
