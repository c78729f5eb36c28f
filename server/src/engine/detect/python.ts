// Python: requirements.txt, pyproject.toml (PEP 621, poetry, pdm, uv), Pipfile, setup.py, manage.py.
import type { PortSpec, StartSpec } from '../../protocol';
import { PYTHON_FRAMEWORKS, PYTHON_FRAMEWORK_PRIORITY, WORKER_LIBS, driverFor } from './catalog';
import { ev, findLine } from '../parse/evidence';
import { parseTomlFile } from './manifest-parsing';
import type { Finding, FolderView } from './types';

const INDICATORS = ['requirements.txt', 'pyproject.toml', 'Pipfile', 'setup.py', 'manage.py'];
const ENTRY_CANDIDATES = [
  'manage.py',
  'main.py',
  'app.py',
  'server.py',
  'wsgi.py',
  'asgi.py',
  'run.py',
  'streamlit_app.py',
  'worker.py',
  'tasks.py',
  'celery_app.py',
  'app/main.py',
  'app/__init__.py',
  'app/app.py',
  'src/main.py',
  'src/app.py',
  'api/main.py',
];

function reqName(spec: string): string | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?/.exec(spec);
  return m ? m[1].toLowerCase().replace(/_/g, '-') + (m[2] ? m[2].toLowerCase() : '') : undefined;
}

export function detectPython(folder: FolderView): Finding | undefined {
  const present = INDICATORS.filter((n) => folder.has(n));
  if (present.length === 0) return undefined;
  const finding: Finding = {
    detector: 'python',
    type: 'python',
    rank: 5,
    language: 'python',
    confidence: 0.5,
    evidence: [],
    indicators: present.map((n) => folder.rel(n)),
    problems: [],
    dependencies: [],
  };
  const deps = finding.dependencies!;
  const add = (raw: string, file: string, line?: number) => {
    const name = reqName(raw);
    if (!name || deps.some((d) => d.name === name)) return;
    // `celery[redis]`: the extra names the broker the package will talk to.
    const extra = /\[([^\]]+)\]/
      .exec(name)?.[1]
      .split(',')
      .map((x) => x.trim())
      .map(
        (x) =>
          driverFor(x) ?? (x === 'redis' ? 'redis' : x === 'postgres' || x === 'postgresql' ? 'postgres' : undefined),
      )
      .find(Boolean);
    deps.push({ name, file, line, engine: extra ?? driverFor(name.replace(/\[.*$/, '')) });
  };
  let packageManager: 'pip' | 'poetry' | 'uv' | 'pdm' | 'pipenv' = 'pip';
  let hasScripts = false;
  let script: { name: string; target: string; file: string; line?: number } | undefined;
  if (folder.has('requirements.txt')) {
    const file = folder.rel('requirements.txt');
    finding.evidence.push(ev(file, 'requirements.txt lists Python dependencies'));
    (folder.read('requirements.txt') ?? '').split(/\r?\n/).forEach((l, i) => {
      const t = l.replace(/#.*/, '').trim();
      if (t && !t.startsWith('-')) add(t, file, i + 1);
    });
  }
  if (folder.has('pyproject.toml')) {
    const file = folder.rel('pyproject.toml');
    const text = folder.read('pyproject.toml') ?? '';
    const parsed = parseTomlFile<Record<string, any>>(text, file); // eslint-disable-line @typescript-eslint/no-explicit-any
    finding.evidence.push(ev(file, 'pyproject.toml declares a Python project'));
    if (!parsed.ok) finding.problems!.push(parsed.problem);
    else {
      const t = parsed.value;
      for (const d of (t.project?.dependencies ?? []) as unknown[])
        if (typeof d === 'string') add(d, file, findLine(text, d));
      const poetry = t.tool?.poetry;
      if (poetry) {
        packageManager = 'poetry';
        for (const [name, spec] of Object.entries(poetry.dependencies ?? {})) {
          if (name === 'python') continue;
          // `celery = { extras = ["redis"], version = "^5" }` → celery[redis]
          const extras =
            spec && typeof spec === 'object' && Array.isArray((spec as { extras?: unknown[] }).extras)
              ? (spec as { extras: unknown[] }).extras.map(String)
              : [];
          add(
            extras.length ? `${name}[${extras.join(',')}]` : name,
            file,
            findLine(text, new RegExp(`^${name}\\s*=`, 'm')),
          );
        }
        if (poetry.scripts) hasScripts = true;
      }
      if (t.tool?.pdm) packageManager = 'pdm';
      if (t.tool?.uv) packageManager = 'uv';
      if (t.project?.scripts) hasScripts = true;
      // [project.scripts] `name = "pkg.module:func"`: a console program the package installs and runs.
      const scripts = (t.project?.scripts ?? poetry?.scripts ?? {}) as Record<string, unknown>;
      const first = Object.entries(scripts).find(([, v]) => typeof v === 'string' && /^[\w.]+:\w+$/.test(v));
      const line = first && findLine(text, new RegExp(`^"?${first[0]}"?\\s*=`, 'm'));
      if (first) script = { name: first[0], target: String(first[1]), file, line };
      if (typeof t.project?.name === 'string') finding.packageName = t.project.name;
      else if (typeof poetry?.name === 'string') finding.packageName = poetry.name;
    }
  }
  if (folder.has('Pipfile')) {
    const file = folder.rel('Pipfile');
    const text = folder.read('Pipfile') ?? '';
    packageManager = 'pipenv';
    const parsed = parseTomlFile<Record<string, Record<string, unknown>>>(text, file);
    if (!parsed.ok) finding.problems!.push(parsed.problem);
    else
      for (const name of Object.keys(parsed.value.packages ?? {}))
        add(name, file, findLine(text, new RegExp(`^${name}\\s*=`, 'm')));
    finding.evidence.push(ev(file, 'Pipfile lists Python dependencies'));
  }
  if (folder.has('setup.py')) {
    const file = folder.rel('setup.py');
    const text = folder.read('setup.py') ?? '';
    const req = /install_requires\s*=\s*\[([^\]]*)\]/s.exec(text);
    if (req) for (const m of req[1].matchAll(/['"]([^'"]+)['"]/g)) add(m[1], file, findLine(text, m[1]));
    finding.evidence.push(ev(file, 'setup.py packages Python code'));
  }
  if (folder.has('poetry.lock')) packageManager = 'poetry';
  if (folder.has('uv.lock')) packageManager = 'uv';
  if (folder.has('pdm.lock')) packageManager = 'pdm';
  finding.build = {
    runtime: 'python',
    packageManager,
    evidence: ev(finding.indicators[0], `${packageManager} project`),
  };

  const names = new Set(deps.map((d) => d.name.replace(/\[.*$/, '')));
  if (folder.has('manage.py')) names.add('django');
  const fwName = PYTHON_FRAMEWORK_PRIORITY.find((f) => names.has(f));
  const fw = fwName ? PYTHON_FRAMEWORKS[fwName] : undefined;
  const frameworks = PYTHON_FRAMEWORK_PRIORITY.filter((f) => names.has(f));
  const workerLib = [...names].find((n) => n in WORKER_LIBS);
  if (workerLib) frameworks.push(workerLib);
  finding.frameworks = frameworks;
  if (fw) {
    const dep = deps.find((d) => d.name.replace(/\[.*$/, '') === fw.name);
    finding.evidence.push(
      dep ? ev(dep.file, `depends on ${fw.name}`, dep.line) : ev(folder.rel('manage.py'), 'Django project (manage.py)'),
    );
  }
  finding.frontend = fw?.role === 'ui';

  // Package layouts: `emails/tasks.py`, `src/orders/main.py` under the project's own package name.
  const pkg = finding.packageName?.toLowerCase().replace(/-/g, '_');
  const packaged = pkg
    ? ['main.py', 'app.py', '__main__.py', 'api.py', 'server.py', 'tasks.py', 'worker.py', 'celery_app.py'].flatMap(
        (f) => [`${pkg}/${f}`, `src/${pkg}/${f}`],
      )
    : [];
  const entries = [...ENTRY_CANDIDATES, ...packaged].filter((c) => folder.exists(c));
  finding.entryFiles = entries.slice(0, 4).map((e) => folder.rel(e));
  const project = fw?.name === 'django' ? djangoProject(folder) : undefined;
  if (project && folder.exists(`${project}/urls.py`)) finding.entryFiles.push(folder.rel(`${project}/urls.py`));
  const entry = entries.find((e) => e !== 'manage.py' && !/worker|tasks|celery/.test(e)) ?? entries[0];
  const module = entry
    ?.replace(/^src\//, '')
    .replace(/\.py$/, '')
    .replace(/\/(__init__|__main__)$/, '')
    .replace(/\//g, '.');
  let start: StartSpec | undefined;
  let wsgiPort: number | undefined;
  const evidence = ev(finding.indicators[0], fw ? `${fw.name} convention` : 'Python entry file');
  if (fw?.name === 'django') {
    // The server the project depends on runs it (gunicorn over WSGI, else an ASGI server); runserver is the fallback.
    const project = djangoProject(folder);
    const command = project ? djangoServer(names, project) : undefined;
    start = { command: command ?? 'python manage.py runserver 0.0.0.0:8000', source: 'framework-default', evidence };
  } else if (fw && ['fastapi', 'starlette'].includes(fw.name) && module) {
    // An entry that calls uvicorn.run() itself is started as a script, so the port its code names is the one served.
    const own = entry !== undefined && /\buvicorn\.run\(/.test(folder.read(entry) ?? '');
    const selfServed = own && ev(folder.rel(entry!), 'calls uvicorn.run()');
    if (selfServed) start = { command: `python ${entry}`, source: 'framework-default', evidence: selfServed };
    else if (!names.has('uvicorn') && names.has('hypercorn')) {
      start = { command: `hypercorn ${module}:app --bind 0.0.0.0:8000`, source: 'framework-default', evidence };
    } else
      start = { command: `uvicorn ${module}:app --host 0.0.0.0 --port 8000`, source: 'framework-default', evidence };
  } else if (fw?.name === 'flask' && entry) {
    const text = folder.read(entry) ?? '';
    // Without its own app.run(), a Flask app is served by the WSGI server the project depends on, on its port.
    if (/\.run\(/.test(text)) start = { command: `python ${entry}`, source: 'framework-default', evidence };
    else if (names.has('gunicorn')) {
      start = { command: `gunicorn ${module}:app --bind 0.0.0.0:8000`, source: 'framework-default', evidence };
      wsgiPort = 8000;
    } else {
      const command = `flask --app ${module} run --host 0.0.0.0 --port 5000`;
      start = { command, source: 'framework-default', evidence };
    }
  } else if (fw?.name === 'streamlit' && entry) {
    start = {
      command: `streamlit run ${entry} --server.port 8501 --server.address 0.0.0.0`,
      source: 'framework-default',
      evidence,
    };
  } else if (!fw && workerLib === 'celery') {
    const celeryEntry = entries.find((e) => /tasks|celery|worker/.test(e)) ?? entry;
    if (celeryEntry)
      start = {
        command: `celery -A ${celeryEntry
          .replace(/^src\//, '')
          .replace(/\.py$/, '')
          .replace(/\//g, '.')} worker --loglevel=info`,
        source: 'framework-default',
        evidence: ev(folder.rel(celeryEntry), 'Celery worker module'),
      };
  } else if (!fw && workerLib === 'rq') {
    start = { command: 'rq worker', source: 'framework-default', evidence };
  } else if (!fw && script) {
    const mod = script.target.split(':')[0].replace(/\./g, '/');
    const candidates = [`${mod}.py`, `src/${mod}.py`, `${mod}/__init__.py`, `src/${mod}/__init__.py`];
    const source = candidates.find((f) => folder.exists(f));
    if (source && !finding.entryFiles.includes(folder.rel(source))) finding.entryFiles.unshift(folder.rel(source));
    const evidence = ev(script.file, `[project.scripts] ${script.name} = "${script.target}"`, script.line);
    start = { command: script.name, source: 'manifest', evidence };
  } else if (entry && entry !== 'app/__init__.py') {
    start = {
      command: `python ${entry}`,
      source: 'framework-default',
      evidence: ev(folder.rel(entry), 'Python entry file'),
    };
  }
  finding.start = start;
  const ports: PortSpec[] = [];
  // gunicorn.conf.py: `bind = "0.0.0.0:8050"`.
  const gconf = folder.has('gunicorn.conf.py') ? (folder.read('gunicorn.conf.py') ?? '') : '';
  const bind = /^bind\s*=\s*\[?\s*['"][^'"]*:(\d{2,5})['"]/m.exec(gconf);
  if (bind)
    ports.push({
      container: Number(bind[1]),
      protocol: 'tcp',
      source: 'config',
      evidence: ev(folder.rel('gunicorn.conf.py'), `bind ${bind[1]}`, findLine(gconf, /^bind\s*=/m)),
    });
  if (wsgiPort && start) {
    const reason = `${start.command.split(' ')[0]} listens on ${wsgiPort} as Kyozo starts it`;
    const portEvidence = ev(finding.indicators[0], reason);
    ports.push({ container: wsgiPort, protocol: 'tcp', source: 'framework-default', evidence: portEvidence });
  } else if (fw?.port && start) {
    const reason = `${fw.name} listens on ${fw.port} by default`;
    const portEvidence = ev(finding.indicators[0], reason);
    ports.push({ container: fw.port, protocol: 'tcp', source: 'framework-default', evidence: portEvidence });
  }
  finding.ports = ports;
  finding.runnable = start !== undefined ? true : hasScripts || entries.length === 0 ? false : undefined;
  finding.worker = !fw && !!workerLib && !!start;
  if (finding.worker)
    finding.evidence.push(ev(finding.indicators[0], `uses ${workerLib} and no web framework: a background worker`));
  finding.confidence = start ? (fw ? 0.9 : 0.7) : 0.4;
  if (finding.evidence.length === 0) finding.evidence.push(ev(finding.indicators[0], 'Python project'));
  return finding;
}

function djangoServer(names: Set<string>, project: string): string | undefined {
  if (names.has('gunicorn')) return `gunicorn ${project}.wsgi --bind 0.0.0.0:8000`;
  if (names.has('uvicorn')) return `uvicorn ${project}.asgi:application --host 0.0.0.0 --port 8000`;
  if (names.has('daphne')) return `daphne -b 0.0.0.0 -p 8000 ${project}.asgi:application`;
  if (names.has('hypercorn')) return `hypercorn ${project}.asgi:application --bind 0.0.0.0:8000`;
  return undefined;
}

function djangoProject(folder: FolderView): string | undefined {
  const text = folder.read('manage.py') ?? '';
  return /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w]+)\.settings/.exec(text)?.[1];
}
