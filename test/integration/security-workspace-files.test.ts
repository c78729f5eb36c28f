// A hostile repository deployed on the real engine: a compose build.context linked to a folder outside the repository
// (a fake ~/.ssh) must not become an image, and an env_file linked to a credentials file outside must not reach a
// container's environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator, DeploymentError } from '../../server/src/engine/deploy/index';
import type { Topology } from '../../server/src/protocol';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';

const repoRoot = join(import.meta.dirname, '..', '..');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-hostile-it-'));
const stateDir = join(work, 'state');
const project = `kz-hostile-${run}`;
const dir = join(work, project);
const outside = join(work, 'outside');
const SSH_CANARY = `CANARY-SSH-KEY-${run}`;
const CRED_CANARY = `CANARY-AWS-SECRET-${run}`;
const docker = testDocker();

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'server/src/cli/main.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, KYOZO_STATE_DIR: stateDir, NO_COLOR: '1' },
  });
}

/** Every image of the workspace, and whether any of them holds the fake key. */
async function workspaceImages(): Promise<{ tags: string[]; leaked: boolean }> {
  const images = await docker.listImages({ filters: { reference: [`kyozo-${project}/*`] } });
  const tags = images.flatMap((i) => i.RepoTags ?? []);
  let leaked = false;
  for (const tag of tags) {
    const out = spawnSync('docker', ['run', '--rm', '--entrypoint', 'cat', tag, '/keys/id_rsa'], { encoding: 'utf8' });
    if (out.stdout.includes(SSH_CANARY)) leaked = true;
  }
  return { tags, leaked };
}

describe('a hostile repository on a real engine', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('a hostile repository on a real engine', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let topology: Topology;

  before(async () => {
    await ensureTestBaseImages();
    mkdirSync(join(outside, 'ssh'), { recursive: true });
    writeFileSync(join(outside, 'ssh', 'id_rsa'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${SSH_CANARY}\n`);
    const dockerfile = `FROM ${TEST_BASE_IMAGES.busybox}\nCOPY . /keys\nCMD ["sleep", "3600"]\n`;
    writeFileSync(join(outside, 'ssh', 'Dockerfile'), dockerfile);
    writeFileSync(join(outside, 'creds.env'), `AWS_SECRET_ACCESS_KEY=${CRED_CANARY}\n`);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'compose.yaml'),
      [
        'services:',
        '  keys:',
        '    build: { context: ./ctx, dockerfile: Dockerfile }',
        '  envy:',
        `    image: ${TEST_BASE_IMAGES.busybox}`,
        '    command: ["sleep", "3600"]',
        '    env_file: app.env',
        '    environment:',
        '      GREETING: hello',
        '',
      ].join('\n'),
    );
    symlinkSync(join(outside, 'ssh'), join(dir, 'ctx'));
    symlinkSync(join(outside, 'creds.env'), join(dir, 'app.env'));
    topology = await analyze(dir);
  });

  after(async () => {
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('kyozo up refuses a build.context linked outside the repository, and no image holds the key', async () => {
    const res = cli(['up', dir, 'keys']);
    const { tags, leaked } = await workspaceImages();
    assert.equal(leaked, false, `an image holds the key: ${tags.join(', ')}`);
    assert.deepEqual(
      tags.filter((t) => t.includes('/keys:')),
      [],
      'no image was built for keys',
    );
    assert.notEqual(res.status, 0, `kyozo up deployed keys:\n${res.stdout}`);
    assert.ok(!`${res.stdout}${res.stderr}`.includes(SSH_CANARY));
    assert.match(res.stderr, /keys: .*build context \.\/ctx of service keys resolves outside the workspace/);
    const problem = topology.problems.find((p) => p.code === 'compose-build-outside');
    assert.ok(problem, `no compose-build-outside problem:\n${topology.problems.map((p) => p.message).join('\n')}`);
    assert.match(problem.message, /build context \.\/ctx of service keys resolves outside the workspace/);
  });

  test('a topology that still builds from the linked folder is refused before the engine gets a tar', async () => {
    const keys = topology.services.find((s) => s.name === 'keys')!;
    const evidence = { file: 'compose.yaml', reason: 'an older analysis' };
    const build = { context: 'ctx', dockerfile: 'ctx/Dockerfile', evidence };
    const stale: Topology = { ...topology, services: [{ ...keys, build }], order: [[keys.id]], problems: [] };
    const orchestrator = createOrchestrator({ stateDir });
    await assert.rejects(orchestrator.up(stale, { services: [keys.id] }), (e: unknown) => {
      assert.ok(e instanceof DeploymentError, String(e));
      assert.match(e.message, /build context ctx of .*keys resolves outside the workspace/);
      assert.ok(!e.message.includes(SSH_CANARY));
      return true;
    });
    const { tags, leaked } = await workspaceImages();
    assert.equal(leaked, false, `an image holds the key: ${tags.join(', ')}`);
  });

  test('an env_file linked to a secret outside does not reach the container, and the analysis says why', async () => {
    const res = cli(['up', dir, 'envy']);
    assert.ok(!`${res.stdout}${res.stderr}`.includes(CRED_CANARY));
    const label = [`dev.kyozo.workspace=${project}`];
    const containers = await docker.listContainers({ all: true, filters: { label } });
    const envy = containers.filter((c) => c.Labels['com.docker.compose.service'] === 'envy');
    assert.equal(envy.length, 1, `envy runs without the secret (kyozo up: ${res.status}):\n${res.stderr}`);
    const env = (await docker.getContainer(envy[0]!.Id).inspect()).Config.Env;
    assert.ok(env.includes('GREETING=hello'), env.join('\n'));
    assert.ok(!env.some((e) => e.includes(CRED_CANARY)), 'the outside secret is in the container environment');
    const problem = topology.problems.find((p) => p.file === 'app.env');
    assert.ok(problem, `no problem names app.env:\n${topology.problems.map((p) => p.message).join('\n')}`);
    assert.match(problem.message, /env_file app\.env of service envy resolves outside the workspace/);
  });
});
