// Python: dependencies from the lockfile the project uses, installed into a virtual environment in a build stage;
// the run stage gets that environment and the sources (bytecode compiled), and no build tool or compiler. The
// command is detection's: the project's own WSGI/ASGI server (gunicorn, uvicorn, hypercorn, daphne) on its port.
import type { Service } from '../../../protocol';
import type { BuildFeatures, CacheDir, ImageTemplate } from './dockerfile-parts';
import { cmd, expose, has, healthcheck, labels, PIP_CACHE, pipNoCache, run, USER, userBuild } from './dockerfile-parts';

const VENV = 'ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH';

const UV_CACHE: CacheDir = { id: 'kyozo-uv', target: '/root/.cache/uv', env: 'UV_CACHE_DIR' };
const POETRY_CACHE: CacheDir = {
  id: 'kyozo-poetry',
  target: '/root/.cache/pypoetry',
  env: 'POETRY_CACHE_DIR',
  sharing: 'locked',
};

/** Lines that install the dependencies (before the sources are copied, so the layer is reused) and after. */
function dependencySteps(service: Service, build: BuildFeatures): { before: string[]; after: string[] } {
  const noCache = pipNoCache(build);
  const pip = (command: string) => run(command, [PIP_CACHE], build);
  // Package-manager tools live in their own environment of the build stage, so they never reach the run stage.
  const tool = (name: string) => pip(`python -m venv /opt/tools && /opt/tools/bin/pip install${noCache} ${name}`);
  switch (service.build?.packageManager) {
    case 'uv':
      return {
        before: [
          tool('uv'),
          // uv writes the locked set into the image's environment with the base image's interpreter, never one of
          // its own downloads; --frozen installs exactly uv.lock.
          'ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1',
          'COPY pyproject.toml uv.lock* ./',
          run(
            'if [ -f uv.lock ]; then /opt/tools/bin/uv sync --frozen --no-dev --no-install-project; ' +
              'else /opt/tools/bin/uv sync --no-dev --no-install-project; fi',
            [UV_CACHE],
            build,
          ),
        ],
        after: [
          run(
            'if [ -f uv.lock ]; then /opt/tools/bin/uv sync --frozen --no-dev; else /opt/tools/bin/uv sync --no-dev; fi',
            [UV_CACHE],
            build,
          ),
        ],
      };
    case 'poetry':
      return {
        before: [
          tool('poetry'),
          'RUN python -m venv /opt/venv',
          'COPY pyproject.toml poetry.lock* ./',
          // With virtualenvs.create off, poetry installs into the active environment (VIRTUAL_ENV).
          run(
            'POETRY_VIRTUALENVS_CREATE=false /opt/tools/bin/poetry install --only main --no-root --no-interaction',
            [POETRY_CACHE, PIP_CACHE],
            build,
          ),
        ],
        after: [],
      };
    case 'pdm':
      return {
        before: [
          tool('pdm'),
          'RUN python -m venv /opt/venv',
          'COPY pyproject.toml pdm.lock* ./',
          pip(
            `/opt/tools/bin/pdm export --prod -o /tmp/requirements.txt && pip install${noCache} -r /tmp/requirements.txt`,
          ),
        ],
        after: [],
      };
    case 'pipenv':
      return {
        before: [
          tool('pipenv'),
          'RUN python -m venv /opt/venv',
          'COPY Pipfile Pipfile.lock* ./',
          pip(
            `/opt/tools/bin/pipenv requirements > /tmp/requirements.txt && pip install${noCache} -r /tmp/requirements.txt`,
          ),
        ],
        after: [],
      };
    default: {
      // requirements.txt is the lock (pip-tools compiles one); a project without one installs itself and its
      // declared dependencies.
      if (has(service, 'requirements.txt')) {
        return {
          before: [
            'RUN python -m venv /opt/venv',
            'COPY requirements*.txt ./',
            pip(`pip install${noCache} -r requirements.txt`),
          ],
          after: [],
        };
      }
      const packaged = has(service, 'pyproject.toml') || has(service, 'setup.py');
      return { before: ['RUN python -m venv /opt/venv'], after: packaged ? [pip(`pip install${noCache} .`)] : [] };
    }
  }
}

/**
 * Django's static files. A fresh project sets no STATIC_ROOT (or leaves out the staticfiles app), so that refusal
 * skips the step; any other failure (a settings module that does not import) fails the build with its output.
 */
const COLLECTSTATIC =
  'RUN if out="$(python manage.py collectstatic --noinput 2>&1)"; then echo "$out" | tail -n 1; ' +
  'elif echo "$out" | grep -q -e "STATIC_ROOT setting" -e "Unknown command: .collectstatic"; ' +
  'then echo "collectstatic skipped: the settings set no STATIC_ROOT"; else echo "$out"; exit 1; fi';

function probe(url: string): string[] {
  return ['python', '-c', `import urllib.request; urllib.request.urlopen(${JSON.stringify(url)}, timeout=3)`];
}

export const pythonImage: ImageTemplate = {
  ignores: ['.mypy_cache', '.pytest_cache', '.ruff_cache', '.tox', '.nox', '*.egg-info', 'htmlcov', '.coverage'],
  lines(service, { base }, build) {
    const deps = dependencySteps(service, build);
    const django = service.frameworks.includes('django') && has(service, 'manage.py');
    const own = userBuild(service);
    const buildStep = own ? [`RUN ${own}`] : django ? [COLLECTSTATIC] : [];
    return [
      `FROM ${base} AS build`,
      'WORKDIR /app',
      'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1',
      VENV,
      ...deps.before,
      'COPY . .',
      ...deps.after,
      ...buildStep,
      // Bytecode written once at build time (the run-time user cannot write it); a file that does not compile is
      // reported here but only fails the service if it is imported.
      'RUN python -m compileall -q /app || true',
      '',
      `FROM ${base}`,
      labels(service, 'python'),
      'WORKDIR /app',
      'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp',
      VENV,
      'COPY --from=build /opt/venv /opt/venv',
      `COPY --from=build --chown=${USER} /app /app`,
      `USER ${USER}`,
      ...expose(service),
      ...healthcheck(service, probe),
      cmd(service, ['python', 'main.py']),
    ];
  },
};
