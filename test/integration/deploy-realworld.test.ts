// Every project in test/realworld/ (made with its framework's own create tool, committed with its lockfile and
// without node_modules) deployed with `kyozo up` on the real engine, checked over HTTP on its published URL, torn
// down; each prints its time from folder to verified. The builds install from the public npm registry.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceStatus } from '../../server/src/protocol';
import { cleanupWorkspace, engineAvailable } from '../support/docker-engine';
import { ensureNodeBuildImage } from '../support/node-build-image';

interface RealworldApp {
  dir: string;
  service: string;
  made: string;
  check: { path: string; status: number; contains: string };
}

const repo = join(import.meta.dirname, '..', '..');
const realworld = join(repo, 'test', 'realworld');
const { apps } = JSON.parse(readFileSync(join(realworld, 'manifest.json'), 'utf8')) as { apps: RealworldApp[] };
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-realworld-'));
const projects: string[] = [];

type CliResult = { status: number | null; stdout: string; stderr: string };

/** The CLI as a user runs it; asynchronous, so the test runner keeps its timeouts while a build runs. */
function kyozo(args: string[], timeoutMs = 600_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), ...args], {
      cwd: repo, env: { ...process.env, KYOZO_STATE_DIR: join(work, 'state'), NO_COLOR: '1' }, timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('real projects deploy with kyozo up and answer', { timeout: 1_200_000 }, async () => {
  if (!(await engineAvailable())) {
    test('real projects deploy with kyozo up', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let baseImage: string;
  before(async () => {
    baseImage = await ensureNodeBuildImage();
  });

  after(async () => {
    for (const project of projects) await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('a lockfile out of step with package.json fails the build at its install step, saying what to do', async () => {
    const project = `kz-rw-stale-lock-${run}`;
    projects.push(project);
    const dir = join(work, 'stale-lock');
    cpSync(join(realworld, 'express-api'), dir, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['left-pad'] = '^1.3.0';
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const up = await kyozo(['up', dir, '--project', project, '--base-image', `node=${baseImage}`]);
    const out = `${up.stdout}\n${up.stderr}`;
    assert.equal(up.status, 1, out);
    assert.match(out, /failed at Step \d+\/\d+ : RUN .*npm ci/, 'names the step');
    assert.match(out, /package-lock\.json .*in sync/, 'shows the output that says why');
    assert.match(out, /lockfile does not match package\.json; run the install locally .* commit the updated lockfile/);
  });

  for (const app of apps) {
    test(`${app.dir}: up, GET ${app.check.path} answers ${app.check.status} with the page, down`, async () => {
      const t0 = Date.now();
      const project = `kz-rw-${app.dir}-${run}`;
      projects.push(project);
      const dir = join(work, app.dir);
      cpSync(join(realworld, app.dir), dir, { recursive: true });
      const up = await kyozo(['up', dir, '--project', project, '--base-image', `node=${baseImage}`, '--json']);
      assert.equal(up.status, 0, `kyozo up ${app.dir} failed:\n${up.stderr}\n${up.stdout}`);
      const statuses = JSON.parse(up.stdout) as ServiceStatus[];
      assert.deepEqual(statuses.map((s) => s.serviceId), [app.service], 'one service per project, the app itself');
      const status = statuses[0]!;
      assert.equal(status.state, 'running', JSON.stringify(status));
      const url = status.ports[0]?.url;
      assert.ok(url, `no published URL: ${JSON.stringify(status)}`);
      const res = await fetch(`${url}${app.check.path}`, { signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      assert.equal(res.status, app.check.status, `${url}${app.check.path}: ${body.slice(0, 300)}`);
      const page = `${url}${app.check.path}`;
      assert.ok(body.includes(app.check.contains), `${page} lacks ${app.check.contains}: ${body.slice(0, 300)}`);
      console.log(`# ${app.dir}: folder to verified in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const down = await kyozo(['down', dir, '--project', project], 120_000);
      assert.equal(down.status, 0, down.stderr);
    });
  }
});
