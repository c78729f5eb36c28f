// The generated images of Python, Go, Rust, Java, .NET, PHP, Ruby and Elixir, read as text: stages, the lockfile
// each installs from, the user, the command, the port, the health check, the run image from settings, and the
// kyozo.yaml build/start overrides. (test/integration/deploy-runtimes.test.ts builds and runs some for real.)
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Service } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine';
import { BASE_IMAGE_KEYS, generateDockerfile } from '../../server/src/engine/deploy/index';
import { collectContext, DEFAULT_DOCKERIGNORE } from '../../server/src/engine/deploy/build-context';
import { BuildError, buildFailureHint } from '../../server/src/engine/deploy/image-builder';
import { port, service } from '../support/docker-topology-builder';

const evidence = (file: string) => ({ file, reason: 'test' });
const start = (command: string, source: 'framework-default' | 'kyozo.yaml' = 'framework-default', file = 'svc/x') => ({
  command,
  source,
  evidence: evidence(file),
});

const pm = (packageManager: 'uv' | 'poetry' | 'pdm' | 'pipenv') => ({
  context: 'svc',
  runtime: 'python' as const,
  packageManager,
  evidence: evidence('x'),
});
const yaml = evidence('svc/kyozo.yaml');

const MANAGE_PY = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n";

function python(fields: Partial<Service>): Service {
  return service('svc', { type: 'python', language: 'python', ports: [port(8000)], ...fields });
}

/** The lines of the stage that starts at the n-th FROM (0-based). */
function stage(text: string, n: number): string {
  return text.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '))[n] ?? '';
}

describe('generated Python images', () => {
  test('requirements.txt: a venv from a build stage, copied to the run stage with the sources, no pip at run', () => {
    const text = generateDockerfile(
      python({
        frameworks: ['flask'],
        indicators: ['svc/requirements.txt'],
        start: start('gunicorn app:app --bind 0.0.0.0:8000'),
        healthCheck: { kind: 'http', path: '/healthz', evidence: evidence('svc/app.py') },
      }),
    );
    const build = stage(text, 0);
    const run = stage(text, 1);
    assert.match(build, /^FROM python:3\.12-slim AS build$/m);
    assert.match(build, /^RUN python -m venv \/opt\/venv$/m);
    assert.match(build, /^RUN pip install --no-cache-dir -r requirements\.txt$/m);
    assert.ok(build.indexOf('requirements.txt') < build.indexOf('COPY . .'), 'dependencies before sources');
    assert.match(build, /^RUN python -m compileall -q \/app/m);
    assert.match(run, /^FROM python:3\.12-slim$/m);
    assert.match(run, /^COPY --from=build \/opt\/venv \/opt\/venv$/m);
    assert.match(run, /^ENV VIRTUAL_ENV=\/opt\/venv PATH=\/opt\/venv\/bin:\$PATH$/m);
    assert.match(run, /PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1/);
    assert.doesNotMatch(run, /pip install|^RUN /m, 'nothing is installed in the run stage');
    assert.match(run, /^USER 10001:10001$/m);
    assert.match(run, /^EXPOSE 8000$/m);
    assert.match(run, /^LABEL org\.opencontainers\.image\.title="svc" dev\.kyozo\.generated="python"$/m);
    const probe = 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=3)';
    assert.ok(run.includes(`CMD ${JSON.stringify(['python', '-c', probe])}`), run);
    assert.match(run, /^HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD /m);
    assert.match(run, /^CMD \["sh","-c","gunicorn app:app --bind 0\.0\.0\.0:8000"\]$/m);
  });

  test('uv, poetry, pdm and pipenv install from their lockfiles with the tool kept out of the run stage', () => {
    const uv = generateDockerfile(python({ build: pm('uv') }));
    assert.match(uv, /uv sync --frozen --no-dev --no-install-project/);
    assert.match(uv, /UV_PROJECT_ENVIRONMENT=\/opt\/venv/);
    assert.match(uv, /^COPY pyproject\.toml uv\.lock\* \.\/$/m);
    const poetry = generateDockerfile(python({ build: pm('poetry') }));
    assert.match(poetry, /poetry install --only main --no-root/);
    assert.match(poetry, /^COPY pyproject\.toml poetry\.lock\* \.\/$/m);
    const pdm = generateDockerfile(python({ build: pm('pdm') }));
    assert.match(pdm, /pdm export --prod -o \/tmp\/requirements\.txt && pip install --no-cache-dir -r \/tmp\/req/);
    const pipenv = generateDockerfile(python({ build: pm('pipenv') }));
    assert.match(pipenv, /pipenv requirements > \/tmp\/requirements\.txt/);
    for (const text of [uv, poetry, pdm, pipenv]) {
      assert.match(stage(text, 0), /\/opt\/tools\/bin\/pip install/);
      assert.doesNotMatch(stage(text, 1), /\/opt\/tools/, 'the package manager stays in the build stage');
    }
  });

  test('a pyproject project without requirements.txt installs itself; Django collects its static files', () => {
    const packaged = generateDockerfile(python({ indicators: ['svc/pyproject.toml'] }));
    assert.match(packaged, /^RUN pip install --no-cache-dir \.$/m);
    const django = generateDockerfile(
      python({
        frameworks: ['django'],
        indicators: ['svc/requirements.txt', 'svc/manage.py'],
        start: start('gunicorn site.wsgi --bind 0.0.0.0:8000'),
      }),
    );
    assert.match(stage(django, 0), /python manage\.py collectstatic --noinput/);
    // Skipped only when the settings set no STATIC_ROOT; any other failure stops the build with its output.
    assert.match(stage(django, 0), /grep -q -e "STATIC_ROOT setting".*else echo "\$out"; exit 1; fi$/m);
  });
});

describe('the Python server a generated image runs is the one the project depends on', () => {
  const cases: [string, Record<string, string>, string][] = [
    [
      'django + daphne',
      { 'requirements.txt': 'django\ndaphne\n', 'manage.py': MANAGE_PY },
      'daphne -b 0.0.0.0 -p 8000 shop.asgi:application',
    ],
    [
      'django + uvicorn',
      { 'requirements.txt': 'Django>=4\nuvicorn[standard]\n', 'manage.py': MANAGE_PY },
      'uvicorn shop.asgi:application --host 0.0.0.0 --port 8000',
    ],
    [
      'django + hypercorn',
      { 'requirements.txt': 'django\nhypercorn\n', 'manage.py': MANAGE_PY },
      'hypercorn shop.asgi:application --bind 0.0.0.0:8000',
    ],
    [
      'fastapi + hypercorn',
      { 'requirements.txt': 'fastapi\nhypercorn\n', 'main.py': 'app = FastAPI()\n' },
      'hypercorn main:app --bind 0.0.0.0:8000',
    ],
  ];
  for (const [name, files, command] of cases) {
    test(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kyozo-py-server-'));
      try {
        for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
        const [svc] = (await analyze(dir)).services;
        assert.equal(svc?.start?.command, command);
        assert.deepEqual(
          svc?.ports.map((p) => p.container),
          [8000],
        );
        assert.ok(generateDockerfile(svc!).includes(`CMD ${JSON.stringify(['sh', '-c', command])}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('generated images of compiled runtimes', () => {
  test('go: static build of the cmd/<name> package detection named, run image from settings', () => {
    const api = service('tools/cmd/api', {
      type: 'golang',
      ports: [port(8080)],
      start: start('go run ./cmd/api'),
      build: { context: 'tools', runtime: 'go', packageManager: 'go', evidence: evidence('tools/go.mod') },
    });
    const text = generateDockerfile(api, { 'go-run': 'scratch' });
    assert.match(text, /^RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o \/out\/app \.\/cmd\/api$/m);
    assert.match(stage(text, 1), /^FROM scratch$/m);
    assert.match(stage(text, 1), /^USER 10001:10001$/m);
    assert.match(stage(text, 1), /^LABEL .*dev\.kyozo\.generated="go"$/m);
    assert.match(stage(text, 1), /^CMD \["\/app"\]$/m);
    const root = generateDockerfile(service('svc', { type: 'golang', start: start('go run .') }));
    assert.match(root, /-o \/out\/app \.$/m);
    assert.match(root, /^FROM gcr\.io\/distroless\/static-debian12$/m);
  });

  test('go: a module that vendors its dependencies downloads nothing; one that does not, in a layer of its own', () => {
    const text = generateDockerfile(service('svc', { type: 'golang', start: start('go run .') }));
    const build = stage(text, 0);
    assert.match(build, /^COPY go\.mod vendo\[r\]\/modules\.tx\[t\] \/tmp\/go-vendor\/$/m);
    assert.match(build, /^RUN if \[ -f \/tmp\/go-vendor\/modules\.txt \]; then .*; else go mod download; fi$/m);
    assert.ok(build.indexOf('go mod download') < build.indexOf('COPY . .'), 'downloads before the sources');
  });

  test('rust: a locked release build that copies the binary of the target detection named', () => {
    const text = generateDockerfile(
      service('svc', {
        type: 'rust',
        ports: [port(3000)],
        start: start('cargo run --release', 'framework-default', 'svc/src/bin/api.rs'),
      }),
      { 'rust-run': 'debian:12-slim' },
    );
    assert.match(text, /cargo build --release \$locked/);
    assert.match(text, /if \[ -f Cargo\.lock \]; then locked=--locked; fi/);
    assert.match(text, /grep -F '"src_path":"\/src\/src\/bin\/api\.rs"'/);
    assert.match(stage(text, 1), /^FROM debian:12-slim$/m);
    assert.match(stage(text, 1), /^CMD \["\/usr\/local\/bin\/app"\]$/m);
  });

  test('java: the wrapper when committed, a runnable jar, a JRE run stage sized to the container', () => {
    const maven = generateDockerfile(service('svc', { type: 'java', ports: [port(8080)] }), { 'java-run': 'jre:21' });
    assert.match(maven, /if \[ -f mvnw \]; then mvn="sh \.\/mvnw"; else mvn=mvn; fi/);
    assert.match(maven, /-DskipTests package/);
    assert.match(maven, /grep -v -e '\/original-'/);
    assert.match(stage(maven, 1), /^FROM jre:21$/m);
    assert.match(maven, /^CMD \["java","-XX:MaxRAMPercentage=75","-jar","\/app\/app\.jar"\]$/m);
    const gradle = generateDockerfile(
      service('svc', {
        type: 'java',
        build: { context: 'svc', runtime: 'java', packageManager: 'gradle', evidence: evidence('x') },
      }),
    );
    assert.match(gradle, /if \[ -f gradlew \]; then gradle="sh \.\/gradlew"/);
    assert.match(gradle, /bootJar/);
  });

  test('dotnet: publishes the detected project; the aspnet run stage listens on the detected port', () => {
    const api = service('svc', { type: 'dotnet', ports: [port(5080)], indicators: ['svc/Api.csproj'] });
    const text = generateDockerfile(api);
    assert.match(text, /^RUN dotnet publish "Api\.csproj" -c Release -o \/out$/m);
    assert.match(stage(text, 1), /^FROM mcr\.microsoft\.com\/dotnet\/aspnet:8\.0$/m);
    assert.match(stage(text, 1), /^ENV ASPNETCORE_URLS=http:\/\/0\.0\.0\.0:5080$/m);
    assert.match(stage(text, 1), /^USER 10001:10001$/m);
  });

  test('php: composer installs without dev dependencies in a build stage; ruby: deployment bundle, assets', () => {
    const php = generateDockerfile(
      service('svc', {
        type: 'php',
        ports: [port(8000)],
        indicators: ['svc/composer.json'],
        start: start('php -S 0.0.0.0:8000 -t public'),
      }),
    );
    assert.match(php, /composer install --no-dev/);
    assert.match(php, /^COPY composer\.json composer\.lock\* \.\/$/m);
    assert.match(stage(php, 1), /^COPY --from=build --chown=10001:10001 \/app \/app$/m);
    assert.doesNotMatch(stage(php, 1), /composer/);
    // Composer and unzip are fetched only when the base image lacks them (a base image may carry both, offline).
    assert.match(php, /^RUN command -v composer >\/dev\/null \|\| \{ php -r .*getcomposer\.org/m);
    assert.match(php, /^RUN command -v unzip >\/dev\/null \|\| \{ apt-get update/m);
    const rails = generateDockerfile(
      service('svc', {
        type: 'ruby',
        frameworks: ['rails'],
        ports: [port(3000)],
        start: start('bin/rails server -b 0.0.0.0 -p 3000'),
        healthCheck: { kind: 'http', path: '/up', evidence: evidence('svc/config/routes.rb') },
      }),
    );
    assert.match(rails, /BUNDLE_DEPLOYMENT=1 BUNDLE_WITHOUT=development:test/);
    assert.match(stage(rails, 0), /rails assets:precompile/);
    assert.match(stage(rails, 0), /build-essential/);
    assert.doesNotMatch(stage(rails, 1), /build-essential/, 'no compiler at run time');
    assert.match(stage(rails, 1), /RAILS_ENV=production/);
    assert.match(stage(rails, 1), /^HEALTHCHECK .*Net::HTTP/m);
    assert.match(stage(rails, 1), /^CMD \["sh","-c","bin\/rails server -b 0\.0\.0\.0 -p 3000"\]$/m);
  });

  test('elixir: dependencies from mix.lock in their own layer, then a prod release on the run image', () => {
    const shop = service('svc', { type: 'elixir', ports: [port(4000)] });
    const text = generateDockerfile(shop, { 'elixir-run': 'debian:12-slim' });
    assert.match(text, /^COPY mix\.exs mix\.lock\* \.\/$/m);
    assert.match(text, /^RUN mix deps\.get --only prod$/m);
    assert.match(text, /mix release --path \/out/);
    assert.match(stage(text, 1), /^FROM debian:12-slim$/m);
  });

  test('every template: a numeric user, labels, and no user tools', () => {
    for (const type of ['python', 'golang', 'rust', 'java', 'dotnet', 'php', 'ruby', 'elixir'] as const) {
      const text = generateDockerfile(service('svc', { type, ports: [port(8080)] }));
      assert.match(text, /^USER 10001:10001$/m, type);
      assert.match(text, /^LABEL org\.opencontainers\.image\.title="svc" dev\.kyozo\.generated=/m, type);
      assert.ok(!/useradd|adduser|--mount=type=cache/.test(text), type);
    }
    for (const key of ['go-run', 'rust-run', 'java-run', 'dotnet-run', 'elixir-run', 'python']) {
      assert.ok(BASE_IMAGE_KEYS.includes(key), key);
    }
  });
});

describe('kyozo.yaml build: and start: in generated images', () => {
  test('build.command replaces the build step; a kyozo.yaml start becomes the command of compiled images', () => {
    const go = generateDockerfile(
      service('svc', {
        type: 'golang',
        start: start('/app --listen :9000', 'kyozo.yaml'),
        build: { context: 'svc', runtime: 'go', command: 'go build -tags prod -o /out/app ./server', evidence: yaml },
      }),
    );
    assert.match(go, /^RUN go build -tags prod -o \/out\/app \.\/server$/m);
    assert.doesNotMatch(go, /CGO_ENABLED=0 go build/);
    assert.match(go, /^CMD \["\/app","--listen",":9000"\]$/m, 'exec form: the run image has no shell');
    const py = generateDockerfile(
      python({
        frameworks: ['django'],
        indicators: ['svc/requirements.txt', 'svc/manage.py'],
        start: start('gunicorn s.wsgi', 'kyozo.yaml'),
        build: { context: 'svc', runtime: 'python', command: 'python manage.py compilemessages', evidence: yaml },
      }),
    );
    assert.match(stage(py, 0), /^RUN python manage\.py compilemessages$/m);
    assert.doesNotMatch(py, /collectstatic/);
    assert.match(py, /^CMD \["sh","-c","gunicorn s\.wsgi"\]$/m);
    for (const type of ['rust', 'java', 'dotnet', 'elixir'] as const) {
      const text = generateDockerfile(
        service('svc', {
          type,
          start: start('./run --prod', 'kyozo.yaml'),
          build: { context: 'svc', command: 'make release', evidence: yaml },
        }),
      );
      assert.match(text, /^RUN make release$/m, type);
      assert.match(text, /^CMD \["\.\/run","--prod"\]$/m, type);
    }
  });
});

describe('kyozo.yaml build: read by the analysis', () => {
  const goApp = (dir: string, kyozoYaml: string) => {
    mkdirSync(join(dir, 'api'), { recursive: true });
    writeFileSync(join(dir, 'api/go.mod'), 'module example.com/api\n\ngo 1.19\n');
    writeFileSync(join(dir, 'api/main.go'), 'package main\n\nfunc main() {}\n');
    writeFileSync(join(dir, 'api/kyozo.yaml'), kyozoYaml);
  };

  test('a build and a start command reach the generated Dockerfile; a Dockerfile path is built instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyozo-build-yaml-'));
    try {
      goApp(dir, 'build: go build -tags netgo -o /out/app .\nstart: /app -addr :9000\nport: 9000\n');
      const api = (await analyze(dir)).services.find((s) => s.id === 'api')!;
      assert.equal(api.build?.command, 'go build -tags netgo -o /out/app .');
      const text = generateDockerfile(api);
      assert.match(text, /^RUN go build -tags netgo -o \/out\/app \.$/m);
      assert.match(text, /^CMD \["\/app","-addr",":9000"\]$/m);
      writeFileSync(join(dir, 'api/kyozo.yaml'), 'build:\n  dockerfile: deploy/Dockerfile.prod\n');
      const own = (await analyze(dir)).services.find((s) => s.id === 'api')!;
      assert.equal(own.build?.dockerfile, 'api/deploy/Dockerfile.prod');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a build: of the wrong shape is a problem naming the key and the accepted forms', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyozo-build-yaml-'));
    try {
      goApp(dir, 'build: 3\n');
      const problems = (await analyze(dir)).problems.map((p) => p.message).join('\n');
      assert.match(problems, /api\/kyozo\.yaml:1: build must be string or object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('build context of a folder with its own Dockerfile', () => {
  test('without a .dockerignore, secrets, .git and node_modules stay out; with one, it alone decides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyozo-ctx-'));
    try {
      for (const d of ['.git', 'node_modules/x', 'target']) mkdirSync(join(dir, d), { recursive: true });
      for (const f of ['Dockerfile', '.env', '.env.example', '.git/HEAD', 'node_modules/x/i.js', 'target/app.jar']) {
        writeFileSync(join(dir, f), 'x');
      }
      const paths = () =>
        collectContext(dir, { defaultIgnores: DEFAULT_DOCKERIGNORE })
          .files.map((f) => f.path)
          .sort();
      assert.deepEqual(paths(), ['.env.example', 'Dockerfile', 'target/app.jar']);
      writeFileSync(join(dir, '.dockerignore'), 'target\n');
      const all = ['.dockerignore', '.env', '.env.example', '.git/HEAD', 'Dockerfile', 'node_modules/x/i.js'];
      assert.deepEqual(paths(), all);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('failed builds of these runtimes say what to do', () => {
  const cases: [string, string[], RegExp][] = [
    ['pip', ['Collecting flask-nope', 'ERROR: No matching distribution found for flask-nope'], /check its name/],
    ['wheel', ["  error: command '/usr/bin/gcc' failed: No such file or directory"], /no compiler or headers/],
    [
      'poetry',
      ['pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock`'],
      /poetry lock/,
    ],
    ['go.sum', ['main.go:4:2: missing go.sum entry for module providing package github.com/x/y'], /go mod tidy/],
    ['goproxy', ['go: github.com/x/y@v1.0.0: module lookup disabled by GOPROXY=off'], /go mod vendor/],
    [
      'cargo',
      ['error: the lock file /src/Cargo.lock needs to be updated but --locked was passed to prevent this'],
      /commit Cargo\.lock/,
    ],
    [
      'maven',
      ['[ERROR] Failed to execute goal on project api: Could not resolve dependencies for project x'],
      /could not download a dependency/,
    ],
    [
      'nuget',
      ['error NU1301: Unable to load the service index for source https://api.nuget.org/v3/index.json'],
      /NuGet/,
    ],
    ['composer', ['  - Root composer.json requires PHP extension ext-intl * but it is missing'], /PHP extension/],
    [
      'bundler',
      ['Your bundle only supports platforms ["arm64-darwin-22"] but your local platform is x86_64-linux'],
      /--add-platform x86_64-linux/,
    ],
  ];
  for (const [name, output, hint] of cases) {
    test(`${name}: the line that says why, and what to do`, () => {
      const found = buildFailureHint(['Step 7/21 : RUN something', ...output]);
      assert.ok(found, `${name}: no hint`);
      assert.match(found.hint, hint);
      assert.equal(found.line, output.at(-1)!.trim());
    });
  }

  test('the error names the step, the cause and the remedy', () => {
    const step = 'Step 7/21 : RUN pip install --no-cache-dir -r requirements.txt';
    const out = [step, 'ERROR: No matching distribution found for flask-nope'];
    const err = new BuildError('api', step, out, 'The command returned a non-zero code: 1', undefined, out);
    assert.match(err.message, /^build of api failed at Step 7\/21 : RUN pip install/);
    assert.match(err.message, /Pip found no release of a requirement.*\(the build said: ERROR: No matching/);
  });
});
