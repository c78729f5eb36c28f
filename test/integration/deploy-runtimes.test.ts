// Python, Go and Rust folders without a Dockerfile, deployed with `kyozo up` through their generated images on the
// real engine, checked over HTTP on the published port and taken down: Flask under gunicorn, FastAPI under uvicorn,
// Django (its static files collected at build time and served by whitenoise), a Go service in cmd/hello built static
// and run FROM scratch, and a Rust binary built --locked and run alone on a glibc image. No registry or package index
// is reachable, so the builds use the toolchain images test/support/runtime-base-images.ts assembles from the host's
// Debian packages.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceStatus } from '../../server/src/protocol';
import { kyozoCli } from '../support/kyozo-cli';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureRuntimeTestImages } from '../support/runtime-base-images';

interface RuntimeApp {
  dir: string;
  /** What the generated Dockerfile must say (the server and how dependencies were installed). */
  dockerfile: RegExp[];
  checks: { path: string; contains: string; header?: [string, RegExp] }[];
  /** The image's HEALTHCHECK (its own interpreter probing the health route) reports the container healthy. */
  healthy?: boolean;
}

const APPS: RuntimeApp[] = [
  {
    dir: 'flask-gunicorn',
    dockerfile: [
      // BuildKit (the engine here) gets pip's cache mounted; the classic builder, no cache at all.
      /^RUN (?:pip install --no-cache-dir|--mount=type=cache,id=kyozo-pip,\S+ export PIP_CACHE_DIR=\S+ && pip install) -r requirements\.txt$/m,
      /^HEALTHCHECK .*\/healthz/m,
    ],
    checks: [{ path: '/', contains: 'hello from flask', header: ['server', /gunicorn/] }],
    healthy: true,
  },
  {
    dir: 'fastapi-uvicorn',
    dockerfile: [/^CMD \["sh","-c","uvicorn main:app --host 0\.0\.0\.0 --port 8000"\]$/m],
    checks: [{ path: '/', contains: 'hello from fastapi', header: ['server', /uvicorn/] }],
  },
  {
    dir: 'django-site',
    dockerfile: [/collectstatic --noinput/],
    checks: [
      { path: '/', contains: 'hello from django', header: ['server', /gunicorn/] },
      { path: '/static/site.css', contains: '/* collected */' },
    ],
  },
  {
    dir: 'rust-http',
    // Its [[bin]] is named greeter, not after the package: the image finds it in cargo's report of what it built.
    dockerfile: [/grep -F '"src_path":"\/src\/src\/main\.rs"'/, /locked=--locked/, /^FROM kyozo-test\/glibc:12$/m],
    checks: [{ path: '/', contains: 'hello from rust' }],
  },
  {
    dir: 'go-http',
    dockerfile: [/-o \/out\/app \.\/cmd\/hello$/m, /^FROM scratch$/m],
    checks: [{ path: '/', contains: 'hello from go' }],
  },
  {
    dir: 'go-vendored',
    // Its dependency is only in vendor/ (a module download would fail: GOPROXY=off), so nothing is downloaded.
    dockerfile: [/else go mod download; fi$/m],
    checks: [{ path: '/', contains: 'hello from vendored go' }],
  },
];

const repo = join(import.meta.dirname, '..', '..');
const apps = join(repo, 'test', 'fixtures', 'runtime-apps');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-runtimes-'));
const projects: string[] = [];

const kyozo = kyozoCli(join(work, 'state'));

describe('Python, Go and Rust folders deploy through their generated images', { timeout: 1_200_000 }, async () => {
  if (!(await engineAvailable())) {
    test('generated Python, Go and Rust images', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  let baseImages: string[];
  before(async () => {
    const images = await ensureRuntimeTestImages();
    baseImages = [
      '--base-image',
      `python=${images.python}`,
      '--base-image',
      `go=${images.go}`,
      '--base-image',
      'go-run=scratch',
      '--base-image',
      `rust=${images.rust}`,
      '--base-image',
      `rust-run=${images.glibc}`,
    ];
  });

  after(async () => {
    for (const project of projects) await cleanupWorkspace(project, { images: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('a requirement the package index lacks fails the build at its install step, saying what to do', async () => {
    const project = `kz-rt-missing-${run}`;
    projects.push(project);
    const dir = join(work, 'missing-requirement');
    cpSync(join(apps, 'flask-gunicorn'), dir, { recursive: true });
    appendFileSync(join(dir, 'requirements.txt'), 'flask-kyozo-nonexistent==1.0\n');
    const up = await kyozo(['up', dir, '--project', project, ...baseImages]);
    const out = `${up.stdout}\n${up.stderr}`;
    assert.equal(up.status, 1, out);
    // The step as the engine's builder names it: BuildKit's (here) has pip's cache mounted, the classic one has none.
    assert.match(
      out,
      /failed at (?:Step \d+\/\d+ : RUN pip install --no-cache-dir|\[build \d+\/\d+\] RUN --mount=type=cache,id=kyozo-pip\S+ export PIP_CACHE_DIR=\S+ && pip install) -r requirements\.txt/,
    );
    assert.match(out, /No matching distribution found for flask-kyozo-nonexistent/, 'shows the line that says why');
    assert.match(out, /Pip found no release of a requirement in the package index; check its name and version/);
  });

  for (const app of APPS) {
    test(`${app.dir}: kyozo up, HTTP on the published port, non-root, kyozo down`, async () => {
      const t0 = Date.now();
      const project = `kz-rt-${app.dir}-${run}`;
      projects.push(project);
      const dir = join(work, app.dir);
      cpSync(join(apps, app.dir), dir, { recursive: true });

      const printed = await kyozo(['dockerfile', '.', '--dir', dir, ...baseImages]);
      assert.equal(printed.status, 0, printed.stderr);
      for (const line of app.dockerfile) assert.match(printed.stdout, line);

      const up = await kyozo(['up', dir, '--project', project, ...baseImages, '--json']);
      assert.equal(up.status, 0, `kyozo up ${app.dir} failed:\n${up.stderr}\n${up.stdout}`);
      const [status] = JSON.parse(up.stdout) as ServiceStatus[];
      assert.equal(status?.state, 'running', JSON.stringify(status));
      const url = status!.ports[0]?.url;
      assert.ok(url, `no published URL: ${JSON.stringify(status)}`);
      for (const check of app.checks) {
        const res: Response = await fetch(`${url}${check.path}`, { signal: AbortSignal.timeout(30_000) });
        const body = await res.text();
        assert.equal(res.status, 200, `${url}${check.path}: ${body.slice(0, 300)}`);
        assert.ok(body.includes(check.contains), `${url}${check.path} lacks ${check.contains}: ${body.slice(0, 300)}`);
        if (check.header) assert.match(res.headers.get(check.header[0]) ?? '', check.header[1], `${check.path} header`);
      }
      const label = `com.docker.compose.project=${project}`;
      const containers = await testDocker().listContainers({ filters: { label: [label] } });
      assert.equal(containers.length, 1);
      const image = await testDocker().getImage(containers[0]!.Image).inspect();
      assert.equal(image.Config.User, '10001:10001', 'runs as the numeric non-root user');
      if (app.healthy) {
        const container = testDocker().getContainer(containers[0]!.Id);
        let health: string | undefined;
        // `up` is ready on Kyozo's host-side probe; the engine's first check runs 30 s (the interval) after the start.
        for (let i = 0; i < 75 && health !== 'healthy'; i++) {
          health = (await container.inspect()).State.Health?.Status;
          if (health !== 'healthy') await new Promise((r) => setTimeout(r, 1000));
        }
        assert.equal(health, 'healthy', 'the HEALTHCHECK probe answers');
      }
      console.log(`# ${app.dir}: folder to verified in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const down = await kyozo(['down', dir, '--project', project], 120_000);
      assert.equal(down.status, 0, down.stderr);
    });
  }
});
