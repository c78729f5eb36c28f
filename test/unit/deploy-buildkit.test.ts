// BuildKit builds: the progress trace the Engine API streams (real records captured from Docker 20.10 in
// test/fixtures/buildkit-trace/), the failing step and hint read from it, the builder setting, and the generated
// Dockerfiles' cache mounts, which only a Dockerfile written for BuildKit has.
// (test/integration/deploy-buildkit.test.ts builds with BuildKit on the real engine.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Service } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { generateDockerfile, parseBuilderChoice } from '../../server/src/engine/deploy/index';
import { BuildkitProgress, decodeTrace, isTraceEvent } from '../../server/src/engine/deploy/buildkit-trace';
import { BuildError, engineHasBuildkit } from '../../server/src/engine/deploy/image-builder';
import { port, service } from '../support/docker-topology-builder';

const traces = join(import.meta.dirname, '..', 'fixtures', 'buildkit-trace');
const realworld = join(import.meta.dirname, '..', 'realworld');

/** Feeds a captured build stream to the progress reader, as image-builder.ts does; returns it and the lines. */
function replay(file: string): { progress: BuildkitProgress; shown: string[]; error?: string } {
  const shown: string[] = [];
  const progress = new BuildkitProgress((line) => shown.push(line));
  let error: string | undefined;
  for (const text of readFileSync(join(traces, file), 'utf8').split('\n').filter(Boolean)) {
    const event = JSON.parse(text) as { id?: string; aux?: unknown; error?: string };
    if (isTraceEvent(event)) progress.update(decodeTrace(event.aux));
    if (event.error) error = event.error;
  }
  return { progress, shown, error };
}

describe('BuildKit trace records', () => {
  test('a build with a cache mount reads as its steps and their output, a line split over records joined', () => {
    const { progress, shown, error } = replay('cache-mount.jsonl');
    assert.equal(error, undefined);
    assert.equal(progress.failedStep(), undefined);
    assert.ok(shown.includes('[build 1/4] FROM docker.io/kyozo-test/busybox:1 (cached)'), shown.join('\n'));
    const run = shown.findIndex((l) => l.startsWith('[build 4/4] RUN --mount=type=cache,id=kyozo-trace-fixture'));
    assert.ok(run >= 0, shown.join('\n'));
    assert.deepEqual(shown.slice(run + 1, run + 5), [
      'run 1796355545970',
      'cache entries: 0',
      // printf 'half a line, '; sleep 1; echo 'the rest': two records, one line.
      'half a line, the rest',
      'to stderr',
    ]);
    assert.ok(shown.includes('[stage-1 2/2] COPY --from=build /app/app.txt /app.txt'));
    // Loading the context and the base image's metadata are not named while they succeed.
    assert.ok(!shown.some((l) => l.startsWith('[internal]') || l === 'copy /context /'), shown.join('\n'));
  });

  test('steps of parallel stages are named again whenever their output interleaves', () => {
    const { shown } = replay('parallel-stages.jsonl');
    const owner = new Map<string, string>();
    let current = '';
    for (const line of shown) {
      if (/^\[(web|api) 2\/2\] RUN /.test(line)) current = line.slice(1, 4);
      else if (/^(web|api) line \d/.test(line)) owner.set(line, current);
    }
    // Every output line comes right after the name of the step that printed it, whichever stage spoke last.
    assert.equal(owner.size, 6, shown.join('\n'));
    for (const [line, stage] of owner) assert.equal(line.slice(0, 3), stage, `${line} shown under ${stage}`);
    assert.ok(shown.filter((l) => l.startsWith('[web 2/2] RUN ')).length >= 2, 'the stages took turns');
  });

  test('a failing step is named with everything it printed, and the build hints read that output', () => {
    const { progress, shown, error } = replay('failing-step.jsonl');
    const failed = progress.failedStep();
    assert.ok(failed);
    assert.equal(
      failed.name,
      '[3/3] RUN echo "about to fail on purpose" && echo "npm ERR! code EBADENGINE" >&2 && exit 3',
    );
    assert.match(failed.error, /exit code: 3$/);
    assert.deepEqual(failed.output.sort(), ['about to fail on purpose', 'npm ERR! code EBADENGINE']);
    assert.ok(shown.includes('step one works 1796355545970'), 'earlier steps stay in the shown lines');
    const err = new BuildError('api', failed.name, shown.slice(-50), error!, undefined, failed.output);
    assert.match(err.message, /^build of api failed at \[3\/3\] RUN echo "about to fail on purpose"/);
    assert.match(err.message, /needs a newer Node than the base image has/, 'the EBADENGINE hint applies');
    assert.match(err.message, /\(the build said: npm ERR! code EBADENGINE\)/);
  });

  test('a base image that is neither present nor pullable fails at loading its metadata, with what to do', () => {
    const { progress, error } = replay('missing-base.jsonl');
    const failed = progress.failedStep();
    assert.equal(failed?.name, '[internal] load metadata for docker.io/kyozo-test/no-such-image:1');
    const err = new BuildError('api', failed!.name, [], error!, undefined, failed!.output);
    assert.match(err.message, /no such host/);
    assert.match(err.message, /the base image is neither present nor pullable: load it, or choose one/);
  });

  test('a `# syntax=` frontend the engine cannot pull is named, with what to do', () => {
    const { progress, error } = replay('syntax-frontend.jsonl');
    const failed = progress.failedStep();
    assert.equal(failed?.name, 'resolve image config for docker.io/docker/dockerfile:1');
    const err = new BuildError('api', failed!.name, [], error!, 'api/Dockerfile', failed!.output);
    assert.match(
      err.message,
      /The Dockerfile's `# syntax=` line names a BuildKit frontend image the engine cannot pull/,
    );
    assert.match(err.message, /--builder classic/);
  });

  test('a record that is not a StatusResponse is an error that says so, not a crash or garbage', () => {
    assert.throws(
      () => decodeTrace(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).toString('base64')),
      /BuildKit progress record Kyozo cannot decode/,
    );
    assert.deepEqual(decodeTrace(''), { vertexes: [], statuses: [], logs: [], warnings: [] });
    assert.equal(isTraceEvent({ id: 'moby.image.id', aux: { ID: 'sha256:x' } }), false);
  });
});

describe('builder choice', () => {
  test('auto, buildkit or classic, from a flag, KYOZO_BUILDER or settings; anything else says what it got', () => {
    assert.equal(parseBuilderChoice('BuildKit', '--builder'), 'buildkit');
    assert.equal(parseBuilderChoice(' classic ', '--builder'), 'classic');
    assert.equal(parseBuilderChoice('', 'KYOZO_BUILDER'), undefined);
    assert.equal(parseBuilderChoice(undefined, 'KYOZO_BUILDER'), undefined);
    assert.throws(
      () => parseBuilderChoice('kaniko', 'KYOZO_BUILDER'),
      /^Error: KYOZO_BUILDER expects one of auto, buildkit, classic; got 'kaniko'$/,
    );
  });

  test('kyozo dockerfile prints the Dockerfile of the builder chosen; a wrong one exits 2 saying what it got', () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'server/src/cli/main.ts'), 'dockerfile', ...args],
        { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KYOZO_BUILDER: '', ...env } },
      );
    const dir = join(realworld, 'express-api');
    const bk = cli(['express-api', '--dir', dir, '--builder', 'buildkit']);
    assert.equal(bk.status, 0, bk.stderr);
    assert.match(bk.stdout, /^RUN --mount=type=cache,id=kyozo-npm,/m);
    const classic = cli(['express-api', '--dir', dir], { KYOZO_BUILDER: 'classic' });
    assert.equal(classic.status, 0, classic.stderr);
    assert.doesNotMatch(classic.stdout, /--mount/);
    const wrong = cli(['express-api', '--dir', dir, '--builder', 'docker']);
    assert.equal(wrong.status, 2);
    assert.equal(wrong.stderr, "kyozo: --builder expects one of auto, buildkit, classic; got 'docker'\n");
  });

  test('auto means BuildKit on Linux engines from API 1.40 (Docker 19.03), the classic builder elsewhere', () => {
    assert.equal(engineHasBuildkit({ Os: 'linux', ApiVersion: '1.41' }), true);
    assert.equal(engineHasBuildkit({ Os: 'linux', ApiVersion: '1.40' }), true);
    assert.equal(engineHasBuildkit({ Os: 'linux', ApiVersion: '1.39' }), false);
    assert.equal(engineHasBuildkit({ Os: 'windows', ApiVersion: '1.41' }), false);
    assert.equal(engineHasBuildkit({}), false);
  });
});

/** The RUN lines of a Dockerfile that carry a cache mount, and every id mounted. */
function mounts(text: string): { lines: string[]; ids: string[] } {
  const lines = text.split('\n').filter((l) => l.startsWith('RUN --mount='));
  return { lines, ids: [...text.matchAll(/--mount=type=cache,id=([\w-]+)/g)].map((m) => m[1]!) };
}

async function only(dir: string): Promise<Service> {
  const t = await analyze(dir);
  assert.equal(t.services.length, 1, t.services.map((s) => s.id).join(', '));
  return t.services[0]!;
}

describe('cache mounts in generated Dockerfiles', () => {
  test('written for BuildKit only: the classic builder, the default, never gets RUN --mount', async () => {
    const svc = await only(join(realworld, 'express-api'));
    const classic = generateDockerfile(svc, {}, { builder: 'classic' });
    assert.equal(generateDockerfile(svc), classic);
    assert.doesNotMatch(classic, /--mount/);
    const bk = generateDockerfile(svc, {}, { builder: 'buildkit' });
    assert.match(bk, /^# Written for BuildKit/m);
    // Apart from the mounts, the same steps: the mount flags and the step's cache variable are all that differ.
    const strip = (t: string) =>
      t
        .split('\n')
        .filter((l) => !l.startsWith('# Written for BuildKit'))
        .map((l) => l.replace(/^RUN (?:--mount=\S+ )+(?:export [^&]+ && )?/, 'RUN '))
        .join('\n');
    assert.equal(strip(bk), classic);
  });

  test('npm: its cache is mounted for the install, set for that step only (the image keeps its own)', async () => {
    const svc = await only(join(realworld, 'vite-react'));
    const text = generateDockerfile(svc, {}, { builder: 'buildkit' });
    const { lines, ids } = mounts(text);
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          'RUN --mount=type=cache,id=kyozo-npm,target=/root/.npm export NPM_CONFIG_CACHE=/root/.npm && if [ -f package-lock.json ]; then npm ci',
        ),
      ),
      text,
    );
    assert.ok(
      ids.every((id) => id === 'kyozo-npm'),
      ids.join(),
    );
    assert.ok(
      lines.some((l) => / npm install --prefix \S+ --no-audit --no-fund serve@/.test(l)),
      'the static server too',
    );
    assert.match(text, /^RUN npm run build$/m, "the project's own build mounts nothing");
  });

  test('pnpm and yarn: the store and caches of each, for the install and for the prune after the build', async () => {
    const pnpm = generateDockerfile(await only(join(realworld, 'pnpm-workspace')), {}, { builder: 'buildkit' });
    const p = mounts(pnpm);
    assert.ok(p.ids.includes('kyozo-pnpm-store'), pnpm);
    assert.match(
      pnpm,
      /export NPM_CONFIG_CACHE=\/root\/\.npm npm_config_store_dir=\/root\/\.local\/share\/pnpm\/store/,
    );
    // The prune step reinstalls from the store; a mounted store may have been pruned since, so it may fetch.
    assert.match(pnpm, /pnpm install --frozen-lockfile --prod --prefer-offline --ignore-scripts/);
    assert.match(
      generateDockerfile(await only(join(realworld, 'pnpm-workspace'))),
      /--prod --offline --ignore-scripts/,
    );
    for (const project of ['yarn-classic', 'yarn-berry']) {
      const yarn = generateDockerfile(await only(join(realworld, project)), {}, { builder: 'buildkit' });
      const y = mounts(yarn);
      assert.ok(y.ids.includes('kyozo-yarn') && y.ids.includes('kyozo-yarn-berry'), yarn);
      assert.match(yarn, /id=kyozo-yarn,target=\/usr\/local\/share\/\.cache\/yarn,sharing=locked/);
      assert.match(yarn, /YARN_GLOBAL_FOLDER=\/root\/\.yarn\/berry/);
    }
  });

  test('Python, Go, Rust, Java: pip, uv, poetry; modules and build cache; registry and target/; Maven, Gradle', () => {
    const py = (packageManager?: 'uv' | 'poetry') =>
      generateDockerfile(
        service('svc', {
          type: 'python',
          language: 'python',
          ports: [port(8000)],
          indicators: ['svc/requirements.txt'],
          ...(packageManager
            ? {
                build: {
                  context: 'svc',
                  runtime: 'python' as const,
                  packageManager,
                  evidence: { file: 'x', reason: 'test' },
                },
              }
            : {}),
        }),
        {},
        { builder: 'buildkit' },
      );
    const pip = py();
    assert.match(
      pip,
      /^RUN --mount=type=cache,id=kyozo-pip,target=\/root\/\.cache\/pip export PIP_CACHE_DIR=\S+ && pip install -r requirements\.txt$/m,
    );
    assert.doesNotMatch(pip, /--no-cache-dir/, 'the cache is kept, in the mount');
    assert.match(
      generateDockerfile(service('svc', { type: 'python', language: 'python', indicators: ['svc/requirements.txt'] })),
      /pip install --no-cache-dir -r requirements\.txt/,
    );
    assert.match(
      py('uv'),
      /id=kyozo-uv,target=\/root\/\.cache\/uv export UV_CACHE_DIR=\/root\/\.cache\/uv && if \[ -f uv\.lock \]/,
    );
    assert.match(py('poetry'), /id=kyozo-poetry,target=\/root\/\.cache\/pypoetry,sharing=locked/);

    const go = generateDockerfile(service('svc', { type: 'golang', language: 'go' }), {}, { builder: 'buildkit' });
    assert.match(
      go,
      /^RUN --mount=type=cache,id=kyozo-go-mod,target=\/root\/\.cache\/go-mod export GOMODCACHE=\S+ && if \[ -f \/tmp\/go-vendor/m,
    );
    assert.match(
      go,
      /id=kyozo-go-mod,\S+ --mount=type=cache,id=kyozo-go-build,target=\/root\/\.cache\/go-build export GOMODCACHE=\/root\/\.cache\/go-mod GOCACHE=\/root\/\.cache\/go-build && CGO_ENABLED=0 go build/,
    );

    const rust = generateDockerfile(service('api', { type: 'rust', language: 'rust' }), {}, { builder: 'buildkit' });
    assert.match(rust, /id=kyozo-cargo-registry,target=\/usr\/local\/cargo\/registry /);
    // target/ is the service's own (builds of other services do not share it) and holds the binary copied next.
    assert.equal((rust.match(/id=kyozo-cargo-target-api,target=\/src\/target,sharing=locked/g) ?? []).length, 2, rust);

    const java = (packageManager: 'maven' | 'gradle') =>
      generateDockerfile(
        service('svc', {
          type: 'java',
          language: 'java',
          build: { context: 'svc', runtime: 'java', packageManager, evidence: { file: 'x', reason: 'test' } },
        }),
        {},
        { builder: 'buildkit' },
      );
    assert.match(
      java('maven'),
      /^RUN --mount=type=cache,id=kyozo-maven,target=\/root\/\.m2\/repository,sharing=locked if \[ -f mvnw \]/m,
    );
    assert.match(
      java('gradle'),
      /id=kyozo-gradle-caches,target=\/root\/\.gradle\/caches,sharing=locked --mount=type=cache,id=kyozo-gradle-wrapper/,
    );
  });
});
