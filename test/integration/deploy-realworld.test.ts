// Every project in test/realworld/ (made with its framework's own create tool, committed with its lockfile and
// without node_modules) deployed with `kyozo up` on the real engine, checked over HTTP on its published URL, torn
// down; each prints its time from folder to verified, and the run its pass rate (at least 95% must pass). The
// builds install from the public npm registry, one at a time (two cores), on one shared Node 22 base image.
// KYOZO_REALWORLD=dir,dir runs only those projects.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceStatus } from '../../server/src/protocol';
import { kyozoCli } from '../support/kyozo-cli';
import { cleanupWorkspace, engineAvailable } from '../support/docker-engine';
import { ensureBunBuildImage, ensureNode22BuildImage } from '../support/node-build-image';

interface RealworldApp {
  dir: string;
  service: string;
  made: string;
  check: { path: string; status: number; contains: string };
}

const repo = join(import.meta.dirname, '..', '..');
const realworld = join(repo, 'test', 'realworld');
const manifest = JSON.parse(readFileSync(join(realworld, 'manifest.json'), 'utf8')) as { apps: RealworldApp[] };
const only = process.env.KYOZO_REALWORLD?.split(',')
  .map((d) => d.trim())
  .filter(Boolean);
const apps = manifest.apps.filter((a) => !only?.length || only.includes(a.dir));
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-realworld-'));
const projects: string[] = [];

/** TCP ports a container's processes listen on, read from its /proc (the image need not carry any tool). */
function listeningPorts(containerId: string): number[] {
  const text = execFileSync('docker', ['exec', containerId, 'cat', '/proc/net/tcp', '/proc/net/tcp6'], {
    encoding: 'utf8',
  });
  const ports = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && f[1]?.includes(':'));
  return [...new Set(ports.map((f) => parseInt(f[1]!.split(':')[1]!, 16)))].sort((a, b) => a - b);
}

/** Untagged images (multi-stage build stages) the engine holds, to remove the ones this run's builds left. */
function danglingImages(): Set<string> {
  const out = execFileSync('docker', ['images', '-q', '--no-trunc', '--filter', 'dangling=true'], { encoding: 'utf8' });
  return new Set(out.split('\n').filter(Boolean));
}

const kyozo = kyozoCli(join(work, 'state'));

describe('real projects deploy with kyozo up and answer', { timeout: apps.length * 600_000 + 300_000 }, async () => {
  if (!(await engineAvailable())) {
    test('real projects deploy with kyozo up', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let baseImage: string;
  let bunImage: string | undefined;
  const danglingBefore = danglingImages();
  const results: { dir: string; seconds: number; error?: string }[] = [];
  before(async () => {
    // Current starters need Node 22 (Nuxt 4, Astro 7, React Router 8 say so in their engines), so all build on it.
    baseImage = await ensureNode22BuildImage();
    // Node projects that use Bun (bun.lock) build on the base image given as bun=...
    bunImage = await ensureBunBuildImage();
  });

  after(async () => {
    for (const project of projects) await cleanupWorkspace(project, { images: true });
    for (const id of danglingImages()) {
      if (danglingBefore.has(id)) continue;
      try {
        execFileSync('docker', ['rmi', id], { stdio: 'ignore' });
      } catch {
        // still the parent of an image or used by a container another run made: not this run's to remove
      }
    }
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
    assert.match(out, /failed at (?:Step \d+\/\d+ :|\[[\w-]+ \d+\/\d+\]) RUN .*npm ci/, 'names the step');
    assert.match(out, /package-lock\.json .*in sync/, 'shows the output that says why');
    assert.match(out, /lockfile does not match package\.json; run the install locally .* commit the updated lockfile/);
  });

  for (const app of apps) {
    test(`${app.dir}: up, GET ${app.check.path} answers ${app.check.status} with the page, down`, async (t) => {
      const t0 = Date.now();
      try {
        await deployAndCheck(app);
        results.push({ dir: app.dir, seconds: (Date.now() - t0) / 1000 });
        console.log(`# ${app.dir}: folder to verified in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (err) {
        results.push({ dir: app.dir, seconds: (Date.now() - t0) / 1000, error: (err as Error).message });
        // Reported as a failure of this project; the run fails only below the pass rate.
        t.todo(`${app.dir} failed`);
        throw err;
      }
    });
  }

  test('at least 95% of the projects deploy and answer', () => {
    const passed = results.filter((r) => !r.error);
    for (const r of results) {
      console.log(`# ${r.dir.padEnd(18)} ${r.error ? 'FAILED' : 'ok    '} ${r.seconds.toFixed(1).padStart(6)} s`);
    }
    const rate = passed.length / Math.max(1, results.length);
    console.log(`# pass rate ${passed.length}/${results.length} (${(rate * 100).toFixed(0)}%), target 95%`);
    assert.equal(results.length, apps.length, 'every project was tried');
    const failures = results.filter((r) => r.error).map((r) => `${r.dir}: ${r.error!.slice(0, 400)}`);
    assert.ok(rate >= 0.95, `pass rate ${(rate * 100).toFixed(0)}% is below 95%:\n${failures.join('\n')}`);
  });

  async function deployAndCheck(app: RealworldApp): Promise<void> {
    const project = `kz-rw-${app.dir}-${run}`;
    projects.push(project);
    const dir = join(work, app.dir);
    cpSync(join(realworld, app.dir), dir, { recursive: true });
    const images = ['--base-image', `node=${baseImage}`, ...(bunImage ? ['--base-image', `bun=${bunImage}`] : [])];
    const up = await kyozo(['up', dir, '--project', project, ...images, '--json']);
    assert.equal(up.status, 0, `kyozo up ${app.dir} failed:\n${up.stderr.slice(-4000)}\n${up.stdout}`);
    const statuses = JSON.parse(up.stdout) as ServiceStatus[];
    assert.deepEqual(
      statuses.map((s) => s.serviceId),
      [app.service],
      'one service per project, the app itself',
    );
    const status = statuses[0]!;
    assert.equal(status.state, 'running', JSON.stringify(status));
    const published = status.ports[0];
    assert.ok(published?.url, `no published URL: ${JSON.stringify(status)}`);
    // The port detection reported is the one the image's process listens on (issue 14).
    const listening = listeningPorts(status.containers[0]!.containerId);
    assert.ok(listening.includes(published.container), `detected ${published.container}, listening on ${listening}`);
    const page = `${published.url}${app.check.path}`;
    const res = await fetch(page, { signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    assert.equal(res.status, app.check.status, `${page}: ${body.slice(0, 300)}`);
    assert.ok(body.includes(app.check.contains), `${page} lacks ${app.check.contains}: ${body.slice(0, 300)}`);
    const down = await kyozo(['down', dir, '--project', project], 120_000);
    assert.equal(down.status, 0, down.stderr);
  }
});
