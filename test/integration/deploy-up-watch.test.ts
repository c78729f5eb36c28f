// `kyozo up --watch` as a user runs it: a folder whose kyozo.yaml has `scaling` is deployed, the command stays, and
// when its replica burns CPU the autoscaler scales it out and, once the load ends, back in, printing each decision
// with its reason; Ctrl-C (SIGINT) ends the command and leaves the services running.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';

const repo = new URL('../..', import.meta.url).pathname;
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-up-watch-'));
const project = `kz-uw-${run}`;
const docker = testDocker();

describe('kyozo up --watch autoscales', { timeout: 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('kyozo up --watch autoscales', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let child: ChildProcess | undefined;

  after(async () => {
    child?.kill('SIGKILL');
    await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('scales out under CPU load and back in, printing the reasons; Ctrl-C leaves the service running', async () => {
    await ensureTestBaseImages();
    const dir = join(work, 'app', 'burner');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_BASE_IMAGES.busybox}\nCMD ["sleep", "3600"]\n`);
    writeFileSync(
      join(dir, 'kyozo.yaml'),
      'name: burner\nresources:\n  cpus: 0.5\nscaling:\n  min: 1\n  max: 2\n  target_cpu: 5\n  cooldown: 3s\n',
    );
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repo, 'server/src/cli/main.ts'),
        'up',
        '--watch',
        join(work, 'app'),
        '--project',
        project,
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          KYOZO_STATE_DIR: join(work, 'state'),
          NO_COLOR: '1',
          KYOZO_AUTOSCALE_WINDOW: '3',
          KYOZO_AUTOSCALE_INTERVAL: '1',
        },
      },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const waitOut = async (re: RegExp, ms: number) => {
      const deadline = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`no ${re} within ${ms / 1000} s; output:\n${out}`);
        if (child!.exitCode !== null) throw new Error(`kyozo exited (${child!.exitCode}); output:\n${out}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await waitOut(/watching .*autoscaling burner/, 180_000);
    const replicas = () =>
      docker.listContainers({ filters: { label: [`dev.kyozo.workspace=${project}`, 'dev.kyozo.service=burner'] } });
    const [first] = await replicas();
    assert.ok(first, `one replica runs; output:\n${out}`);
    const exec = async (script: string) => {
      const e = await docker.getContainer(first.Id).exec({ Cmd: ['sh', '-c', script] });
      await e.start({ Detach: true });
    };
    await exec('touch /tmp/burn; while [ -f /tmp/burn ]; do :; done');
    await waitOut(/scaled burner to 2: cpu \d+% > 5% for 3s/, 90_000);
    assert.equal((await replicas()).length, 2);
    await exec('rm -f /tmp/burn');
    await waitOut(/scaled burner to 1: cpu \d+% < 3% for 3s/, 90_000);
    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    const left = await replicas();
    assert.deepEqual(
      left.map((c) => c.Id),
      [first.Id],
      'the service keeps running after the command ends',
    );
  });
});
