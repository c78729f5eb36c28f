// BuildKit on the real engine (Docker 20.10 here, API 1.41): `auto` picks it; a generated Node image keeps npm's
// downloads in a cache mount, so a second build after a lockfile change installs with the registry switched off;
// the classic builder still builds (and without the mount cannot install offline); a failing BuildKit build names its
// step, shows its output and gets the same hints; an interrupted one stops on the engine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tar from 'tar-stream';
import type { Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { createOrchestrator, DeploymentError, generateDockerfile } from '../../server/src/engine/deploy/index';
import type { BuilderChoice, DeployProgress } from '../../server/src/engine/deploy/index';
import {
  collectContext,
  DEFAULT_DOCKERIGNORE,
  GENERATED_CONTEXT_IGNORES,
} from '../../server/src/engine/deploy/build-context';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { kyozoCli } from '../support/kyozo-cli';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { ensureNode22BuildImage } from '../support/node-build-image';

const repo = join(import.meta.dirname, '..', '..');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-buildkit-'));
const stateDir = join(work, 'state');
const projects: string[] = [];
/** npm told to use its cache only (a request it cannot answer from the cache fails with ENOTCACHED). */
const OFFLINE_NODE = `kyozo-test/node-offline:${run}`;

function copy(from: string, name: string): string {
  const dir = join(work, name);
  cpSync(from, dir, { recursive: true });
  return dir;
}

/**
 * A lockfile change that keeps its packages (the project's own version, in package.json and the lockfile, new for
 * each run so no earlier build's layer matches): the install step runs again, its downloads are the same.
 */
function touchLockfile(dir: string): void {
  const version = `0.${parseInt(run, 16)}.${Math.floor(Math.random() * 1e6)}`;
  const pkgFile = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string };
  writeFileSync(pkgFile, JSON.stringify({ ...pkg, version }, null, 2));
  const lockFile = join(dir, 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { version: string; packages: Record<string, object> };
  lock.version = version;
  lock.packages[''] = { ...lock.packages[''], version };
  writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
}

async function deploy(
  builder: BuilderChoice,
  node: string,
  topology: Topology,
  project: string,
  options: { services?: string[]; signal?: AbortSignal; onLine?: (line: string) => void } = {},
) {
  projects.push(project);
  const o = createOrchestrator({ baseImages: { node }, builder, stateDir, project, healthTimeoutMs: 60_000 });
  const lines: string[] = [];
  const onProgress = (p: DeployProgress) => {
    if (p.state !== 'building' || !p.message) return;
    lines.push(p.message);
    options.onLine?.(p.message);
  };
  const up = o.up(topology, { services: options.services, onProgress, signal: options.signal });
  return { o, up, lines };
}

describe('BuildKit builds on a real engine', { timeout: 900_000 }, async () => {
  if (!(await engineAvailable())) {
    test('BuildKit builds', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let node: string;
  const savedBuilder = process.env.KYOZO_BUILDER;

  before(async () => {
    delete process.env.KYOZO_BUILDER;
    await ensureTestBaseImages();
    node = await ensureNode22BuildImage();
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile' }, `FROM ${node}\nENV NPM_CONFIG_OFFLINE=true\n`);
    pack.finalize();
    const stream = await testDocker().buildImage(pack as unknown as NodeJS.ReadableStream, { t: OFFLINE_NODE });
    await new Promise((resolve, reject) =>
      testDocker().modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))),
    );
  });

  after(async () => {
    if (savedBuilder !== undefined) process.env.KYOZO_BUILDER = savedBuilder;
    for (const project of projects) await cleanupWorkspace(project, { images: true });
    await testDocker()
      .getImage(OFFLINE_NODE)
      .remove()
      .catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  test('auto picks BuildKit; after a lockfile change the install runs again from the npm cache mount alone', async () => {
    const dir = copy(join(repo, 'test/realworld/express-api'), 'express');
    const first = await deploy('auto', node, await analyze(dir), `kz-bk-npm-${run}`);
    assert.equal(await first.o.builder(), 'buildkit', 'Docker 20.10 on Linux has BuildKit');
    await first.up;
    const tag = first.lines.map((l) => /^building \S+:([0-9a-f]{16}) with BuildKit$/.exec(l)?.[1]).find(Boolean);
    assert.ok(tag, first.lines.join('\n'));
    // `kyozo dockerfile` (auto, asking the engine) prints exactly what was built: the image is tagged with the hash of
    // the context, generated Dockerfile included, and the printed text gives the same hash.
    const printed = await kyozoCli(stateDir)(['dockerfile', '.', '--dir', dir, '--base-image', `node=${node}`]);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /^RUN --mount=type=cache,id=kyozo-npm,/m);
    const context = collectContext(dir, {
      dockerfile: { name: '.kyozo.Dockerfile', text: printed.stdout },
      extraIgnores: GENERATED_CONTEXT_IGNORES,
      defaultIgnores: DEFAULT_DOCKERIGNORE,
      buildArgs: { target: '' },
    });
    assert.equal(context.hash.slice(0, 16), tag);
    const install =
      /^\[(?:[\w-]+ )?\d+\/\d+\] RUN --mount=type=cache,id=kyozo-npm,target=\/root\/\.npm export NPM_CONFIG_CACHE=/;
    assert.ok(
      first.lines.some((l) => install.test(l)),
      first.lines.join('\n'),
    );
    await first.o.down(await analyze(dir));

    // Same packages, a changed lockfile, and npm refusing the network: only the cache mount can supply them.
    touchLockfile(dir);
    const topology = await analyze(dir);
    const second = await deploy('auto', OFFLINE_NODE, topology, `kz-bk-npm-${run}`);
    const [status] = await second.up;
    assert.equal(status?.health, 'healthy');
    const i = second.lines.findIndex((l) => install.test(l));
    assert.ok(i >= 0 && !second.lines[i]!.endsWith('(cached)'), 'the install step ran again');
    assert.ok(
      second.lines.slice(i + 1).some((l) => /^added \d+ packages/.test(l)),
      `npm installed from its cache:\n${second.lines.join('\n')}`,
    );
    const res = await fetch(status!.ports[0]!.url!);
    assert.equal(res.status, 200);
    await second.o.down(topology);
  });

  test('classic still builds, with no cache mount: the same offline install finds no cache', async () => {
    const dir = copy(join(repo, 'test/realworld/express-api'), 'express-classic');
    const topology = await analyze(dir);
    assert.doesNotMatch(generateDockerfile(topology.services[0]!, { node }, { builder: 'classic' }), /--mount/);
    const ok = await deploy('classic', node, topology, `kz-bk-classic-${run}`);
    const [status] = await ok.up;
    assert.equal(status?.health, 'healthy');
    assert.ok(
      ok.lines.some((l) => /^Step \d+\/\d+ : RUN if \[ -f package-lock\.json \]/.test(l)),
      ok.lines.join('\n'),
    );
    assert.ok(!ok.lines.some((l) => l.includes('--mount')));
    await ok.o.down(topology);

    touchLockfile(dir);
    const offline = await deploy('classic', OFFLINE_NODE, await analyze(dir), `kz-bk-classic-${run}`);
    await assert.rejects(offline.up, (e: unknown) => {
      assert.ok(e instanceof DeploymentError);
      assert.match(((e.failures[0]!.details.logTail as string[]) ?? []).join('\n'), /ENOTCACHED|only-if-cached/);
      return true;
    });
  });

  test('a failing BuildKit build names its step, shows what it printed and says what to do', async () => {
    const brokenDir = copy(join(repo, 'test/fixtures/deploy-broken'), 'broken');
    // Step one runs each time (BuildKit, like the classic builder, shows no output for a step it reuses).
    const dockerfile = join(brokenDir, 'bad-build', 'Dockerfile');
    writeFileSync(dockerfile, readFileSync(dockerfile, 'utf8').replace('step one works', `step one works ${run}`));
    const broken = await analyze(brokenDir);
    const b = await deploy('buildkit', node, broken, `kz-bk-broken-${run}`, { services: ['bad-build'] });
    await assert.rejects(b.up, (e: unknown) => {
      assert.ok(e instanceof DeploymentError);
      assert.match(
        e.message,
        /build of bad-build failed at \[3\/3\] RUN echo "about to fail on purpose" && exit 3: .*exit code: 3/,
      );
      return true;
    });
    const failed = (await b.o.events(broken)).filter((e) => e.type === 'deployment_failed').at(-1)!;
    assert.equal(failed.details?.step, '[3/3] RUN echo "about to fail on purpose" && exit 3');
    const tail = failed.details?.logTail as string[];
    assert.ok(tail.includes('about to fail on purpose'), tail.join('\n'));
    assert.ok(tail.includes(`step one works ${run}`), tail.join('\n'));

    // The hints read the failing step's output as under the classic builder: a lockfile out of step.
    const dir = copy(join(repo, 'test/realworld/express-api'), 'stale-lock');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['left-pad'] = '^1.3.0';
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const stale = await deploy('buildkit', node, await analyze(dir), `kz-bk-stale-${run}`);
    await assert.rejects(stale.up, (e: unknown) => {
      assert.ok(e instanceof DeploymentError);
      assert.match(e.message, /failed at \[(?:[\w-]+ )?\d+\/\d+\] RUN --mount=type=cache,id=kyozo-npm\S* .*npm ci/);
      assert.match(e.message, /The lockfile does not match package\.json; run the install locally/);
      assert.match(e.message, /\(the build said: .*package\.json and package-lock\.json .*in sync/);
      return true;
    });
  });

  test('an interrupted BuildKit build stops on the engine, not only in Kyozo', async () => {
    const dir = copy(join(repo, 'test/fixtures/deploy-slow'), 'slow');
    const seconds = 90 + Math.floor(Math.random() * 9);
    const dockerfile = join(dir, 'slow', 'Dockerfile');
    writeFileSync(dockerfile, readFileSync(dockerfile, 'utf8').replace('sleep 30', `sleep ${seconds}`));
    appendFileSync(dockerfile, `LABEL run=${run}\n`);
    const sleeping = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .some((l) => l.trim() === `sleep ${seconds}`);
    const abort = new AbortController();
    let printed = false;
    const slow = await deploy('buildkit', node, await analyze(dir), `kz-bk-slow-${run}`, {
      signal: abort.signal,
      onLine: (l) => (printed ||= l === 'a long build step starts'),
    });
    const failed = slow.up.then(
      () => undefined,
      (e: Error) => e,
    );
    // The step's output arrived and its process runs on the engine: then Ctrl-C.
    for (let i = 0; i < 600 && !(printed && sleeping()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(printed && sleeping(), slow.lines.join('\n'));
    abort.abort();
    const t0 = Date.now();
    assert.match(String(await failed), /interrupted/);
    assert.ok(Date.now() - t0 < 60_000);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !sleeping();
      if (!gone) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(gone, `the build's sleep ${seconds} still runs on the engine after the interruption`);
  });
});
