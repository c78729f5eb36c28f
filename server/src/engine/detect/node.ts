// package.json: frameworks, package manager (from the lockfile), scripts (start command, ports), workspaces,
// and whether the package starts anything at all (a workspace member that does not is a library).
import type { Evidence, PortSpec, StartSpec } from '../../protocol';
import { NODE_FRAMEWORKS, NODE_FRAMEWORK_PRIORITY, NODE_SPA_LIBS, WORKER_LIBS } from './catalog';
import { bunFacts } from './bun-runtime';
import { planNodeBuild } from './node-build-plan';
import { ev, findLine } from '../parse/evidence';
import { parseJson } from './manifest-parsing';
import { portsInCommand } from './command-ports';
import { parentRel } from '../scan/file-index';
import type { Dependency, Finding, FolderView } from './types';

interface PackageJson {
  name?: string;
  main?: string;
  /** The entry module `bun init` writes. */
  module?: string;
  bin?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[] | { packages?: string[] };
  packageManager?: string;
  private?: boolean;
}

const RUNNER =
  /^\s*(turbo|nx|lerna|npm-run-all|run-p|run-s|concurrently)\b|\b(npm|pnpm|yarn)\s+(run\s+\S+\s+)?(-ws|--workspaces|-r|--recursive|workspaces)\b|\bnx\s+run-many\b/;
/** A root script that only starts one member (`npm start -w apps/web`): the member is the service, not the root. */
const MEMBER_RUNNER =
  /^\s*(npm|pnpm|yarn|bun)\b[^&|;]*\s(--workspace|-w|--filter|-F)[=\s]\S+[^&|;]*$|^\s*yarn\s+workspace\s+\S+\s+\S+\s*$/;
const ENTRY_CANDIDATES = [
  'server.js',
  'server.ts',
  'index.js',
  'index.ts',
  'app.js',
  'app.ts',
  'main.js',
  'main.ts',
  'server.mjs',
  'index.mjs',
  'src/server.ts',
  'src/server.js',
  'src/index.ts',
  'src/index.js',
  'src/main.ts',
  'src/main.js',
  'src/app.ts',
  'src/app.js',
];
/** Pages of SSR frameworks: where a frontend reads the URLs of the services it calls. */
const PAGE_CANDIDATES = [
  'app/page.tsx',
  'app/page.jsx',
  'src/app/page.tsx',
  'pages/index.tsx',
  'pages/index.jsx',
  'pages/index.js',
  'src/pages/index.tsx',
  'app/routes/_index.tsx',
];
/** Where a port default is often kept instead of the entry file. */
const CONFIG_CANDIDATES = [
  'config.js',
  'config.ts',
  'src/config.ts',
  'src/config.js',
  'src/config/index.ts',
  'src/config/index.js',
  'src/env.ts',
  'src/env.js',
];

const LOCKFILES: [string, 'npm' | 'pnpm' | 'yarn' | 'bun'][] = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['package-lock.json', 'npm'],
];

/** The package manager: `packageManager` field, else the nearest lockfile, here or at a workspace root above. */
export function nodePackageManager(folder: FolderView, pkg?: PackageJson): 'npm' | 'pnpm' | 'yarn' | 'bun' {
  const declared = pkg?.packageManager?.split('@')[0];
  if (declared === 'pnpm' || declared === 'yarn' || declared === 'bun' || declared === 'npm') return declared;
  for (let dir: string | undefined = folder.dir; dir !== undefined; dir = dir === '.' ? undefined : parentRel(dir)) {
    const listing = folder.index.folder(dir);
    const hit = listing && LOCKFILES.find(([name]) => listing.files.includes(name));
    if (hit) return hit[1];
    if (listing?.files.includes('pnpm-workspace.yaml')) return 'pnpm';
  }
  return 'npm';
}

export function detectNode(folder: FolderView): Finding | undefined {
  if (!folder.has('package.json')) return undefined;
  const file = folder.rel('package.json');
  const text = folder.read('package.json');
  const finding: Finding = {
    detector: 'node',
    type: 'nodejs',
    rank: 5,
    language: 'javascript',
    confidence: 0.5,
    evidence: [ev(file, 'package.json declares a Node.js package')],
    indicators: [file],
    problems: [],
  };
  if (text === undefined) return finding;
  const parsed = parseJson<PackageJson>(text, file);
  if (!parsed.ok) {
    finding.problems!.push(parsed.problem);
    finding.confidence = 0.3;
    return finding;
  }
  const pkg = parsed.value && typeof parsed.value === 'object' ? parsed.value : {};
  const deps = { ...(pkg.devDependencies ?? {}), ...(pkg.dependencies ?? {}) };
  const depNames = Object.keys(deps);
  const scripts = pkg.scripts && typeof pkg.scripts === 'object' ? pkg.scripts : {};
  const pm = nodePackageManager(folder, pkg);
  finding.packageName = typeof pkg.name === 'string' ? pkg.name : undefined;
  finding.build = { runtime: 'node', packageManager: pm, evidence: ev(file, `${pm} package`) };
  if (folder.has('tsconfig.json') || 'typescript' in deps) finding.language = 'typescript';
  finding.dependencies = depNames.map<Dependency>((name) => ({ name, file, line: findLine(text, `"${name}"`) }));

  const workspaces = Array.isArray(pkg.workspaces) ? pkg.workspaces : pkg.workspaces?.packages;
  if (Array.isArray(workspaces) && workspaces.length) {
    finding.workspace = {
      tool: pm === 'yarn' ? 'yarn workspaces' : pm === 'pnpm' ? 'pnpm workspaces' : 'npm workspaces',
      members: workspaces.map(String),
      evidence: ev(file, 'declares workspaces', findLine(text, '"workspaces"')),
    };
  }

  const found = NODE_FRAMEWORK_PRIORITY.map((n) =>
    Object.entries(NODE_FRAMEWORKS).find(([dep, f]) => f.name === n && dep in deps),
  ).filter((x) => x !== undefined);
  const frameworks = [...new Set(found.map(([, f]) => f.name))];
  let primary = found[0]?.[1];
  if (primary) finding.evidence.push(ev(file, `depends on ${found[0]![0]}`, findLine(text, `"${found[0]![0]}"`)));
  if (primary?.name === 'sveltekit' && '@sveltejs/adapter-node' in deps) primary = { ...primary, port: 3000 };
  const spaLib = NODE_SPA_LIBS.find((l) => l in deps);
  if (!primary && 'vite' in deps) {
    primary = { name: 'vite', port: 5173, role: 'ui' };
    frameworks.push('vite');
    if (spaLib) frameworks.push(spaLib);
    finding.evidence.push(ev(file, `vite${spaLib ? ` + ${spaLib}` : ''} single-page app`, findLine(text, '"vite"')));
  }
  finding.frameworks = frameworks;
  finding.frontend = primary?.role === 'ui' || primary?.role === 'full';
  const workerLib = depNames.find((d) => d in WORKER_LIBS && d !== 'node-cron');

  // Start command: the start script, else dev/serve, else a framework convention.
  // pnpm declares its members in pnpm-workspace.yaml, not in package.json `workspaces`.
  const workspaceRoot = finding.workspace !== undefined || folder.has('pnpm-workspace.yaml');
  const runs = (s: string) => RUNNER.test(s) || (workspaceRoot && MEMBER_RUNNER.test(s));
  const scriptName = ['start', 'serve', 'dev', 'preview'].find(
    (s) => typeof scripts[s] === 'string' && !runs(scripts[s]),
  );
  const runnerOnly = ['start', 'dev'].some((s) => typeof scripts[s] === 'string' && runs(scripts[s])) && !scriptName;
  let start: StartSpec | undefined;
  if (scriptName) {
    const line = findLine(text, `"${scriptName}"`);
    start = {
      command: `${pm}${pm === 'npm' && scriptName !== 'start' ? ' run' : ''} ${scriptName}`.replace('yarn run', 'yarn'),
      source: 'script',
      evidence: ev(file, `"${scriptName}": "${scripts[scriptName]}"`, line),
    };
  }
  const entries = ENTRY_CANDIDATES.filter((c) => folder.exists(c));
  if (typeof pkg.main === 'string') {
    const main = pkg.main.replace(/^\.\//, '');
    if (folder.exists(main)) entries.unshift(main);
  }
  const module = typeof pkg.module === 'string' ? pkg.module.replace(/^\.\//, '') : undefined;
  if (module && folder.exists(module)) entries.unshift(module);
  const scriptFile = scriptName
    ? /\bnode\s+(?:--\S+\s+)*([\w./-]+\.(?:m?js|ts))/.exec(scripts[scriptName])?.[1]
    : undefined;
  if (scriptFile && folder.exists(scriptFile)) entries.unshift(scriptFile);
  const configs = CONFIG_CANDIDATES.filter((c) => folder.exists(c)).slice(0, 1);
  const pages = entries.length < 2 ? PAGE_CANDIDATES.filter((c) => folder.exists(c)).slice(0, 1) : [];
  finding.entryFiles = [...new Set([...entries.slice(0, 4), ...configs, ...pages])].map((e) => folder.rel(e));
  if (finding.entryFiles.some((f) => /\.[mc]?tsx?$/.test(f))) finding.language = 'typescript';
  if (!start && primary && primary.role === 'api' && finding.entryFiles.length) {
    start = {
      command: `node ${finding.entryFiles[0].slice(folder.dir === '.' ? 0 : folder.dir.length + 1)}`,
      source: 'framework-default',
      evidence: ev(finding.entryFiles[0], `${primary.name} entry file`),
    };
  }
  const bun = pm === 'bun' ? bunFacts(folder, entries, start !== undefined) : undefined;
  start ??= bun?.start;
  if (!start && !primary && !runnerOnly && !finding.workspace) {
    const program = programEntry(folder, pkg, text, file);
    if (program) {
      start = {
        command: `${pm === 'bun' ? 'bun' : 'node'} ${program.path}`,
        source: 'manifest',
        evidence: program.evidence,
      };
      finding.entryFiles = [...new Set([folder.rel(program.path), ...finding.entryFiles])];
      finding.evidence.push(program.evidence);
    }
  }
  finding.start = start;

  // Ports named in scripts (PORT=4000, --port 8080, -p 3000), then the framework's default.
  const ports: PortSpec[] = [];
  for (const s of ['start', 'serve', 'dev', 'preview']) {
    if (typeof scripts[s] !== 'string') continue;
    for (const p of portsInCommand(scripts[s])) {
      if (!ports.some((x) => x.container === p.port))
        ports.push({
          container: p.port,
          protocol: 'tcp',
          source: 'script',
          evidence: ev(file, `"${s}" script sets ${p.reason}`, findLine(text, `"${s}"`)),
        });
    }
  }
  // vite/astro/nuxt config: `server: { port: 4200 }`.
  const configFile = [
    'vite.config.ts',
    'vite.config.js',
    'vite.config.mjs',
    'astro.config.mjs',
    'nuxt.config.ts',
    'next.config.js',
    'next.config.mjs',
    'next.config.ts',
  ].find((c) => folder.has(c));
  // Dev-server proxies and rewrites (`target: 'http://backend:8000'`) name the services the frontend calls.
  if (configFile) finding.entryFiles.push(folder.rel(configFile));
  const configText = configFile ? (folder.read(configFile) ?? '') : '';
  const configPort = /server\s*:\s*\{[^}]*?\bport\s*:\s*(\d{2,5})/s.exec(configText);
  if (configPort && !ports.some((p) => p.container === Number(configPort[1]))) {
    ports.push({
      container: Number(configPort[1]),
      protocol: 'tcp',
      source: 'config',
      evidence: ev(folder.rel(configFile!), `server.port ${configPort[1]}`, findLine(configText, /\bport\s*:/)),
    });
  }
  if (primary?.port && (start || finding.entryFiles.length)) {
    ports.push({
      container: primary.port,
      protocol: 'tcp',
      source: 'framework-default',
      evidence: ev(file, `${primary.name} listens on ${primary.port} by default`),
    });
  }
  for (const p of bun?.ports ?? []) if (!ports.some((x) => x.container === p.container)) ports.push(p);
  finding.ports = ports;

  const hasBin = pkg.bin !== undefined;
  if (runnerOnly) {
    finding.runnable = false;
    finding.evidence.push(
      ev(file, 'scripts only run the workspace members', findLine(text, '"start"') ?? findLine(text, '"dev"')),
    );
  } else if (start) {
    finding.runnable = true;
  } else if (hasBin || !primary) {
    finding.runnable = false;
  }
  if (finding.runnable && workerLib && (!primary || primary.role !== 'api' || frameworks.length === 0)) {
    finding.worker = !primary;
    if (finding.worker)
      finding.evidence.push(
        ev(file, `uses ${workerLib} and no HTTP framework: a background worker`, findLine(text, `"${workerLib}"`)),
      );
  }
  if (!runnerOnly && !finding.worker) {
    const facts = {
      file,
      text,
      name: finding.packageName,
      scripts,
      deps,
      primary,
      frameworks,
      scriptName,
      configFile,
      configText,
      pm,
    };
    planNodeBuild(folder, facts, finding);
  }
  finding.confidence = finding.runnable ? (primary ? 0.9 : 0.75) : 0.4;
  return finding;
}

/** A module that exports something is imported by others; one that exports nothing only runs. */
const EXPORTS = /\bmodule\.exports\b|\bexports\.\w+\s*=|^\s*export\s/m;

/**
 * The program a package declares without a start script: its `bin` (a command-line tool), else a `main` or
 * `module` entry that exports nothing (a script run for its effect, not a library's entry point).
 */
function programEntry(
  folder: FolderView,
  pkg: PackageJson,
  text: string,
  file: string,
): { path: string; evidence: Evidence } | undefined {
  const bin =
    typeof pkg.bin === 'string'
      ? pkg.bin
      : pkg.bin && typeof pkg.bin === 'object'
        ? Object.values(pkg.bin).find((v): v is string => typeof v === 'string')
        : undefined;
  const binPath = bin?.replace(/^\.\//, '');
  if (binPath && folder.exists(binPath)) {
    return { path: binPath, evidence: ev(file, `"bin" runs ${binPath}: a program`, findLine(text, '"bin"')) };
  }
  for (const field of ['main', 'module'] as const) {
    const entry = typeof pkg[field] === 'string' ? pkg[field].replace(/^\.\//, '') : undefined;
    if (!entry || !folder.exists(entry) || EXPORTS.test(folder.read(entry) ?? 'export')) continue;
    const evidence = ev(file, `"${field}" is ${entry}, which exports nothing: a program`, findLine(text, `"${field}"`));
    return { path: entry, evidence };
  }
  return undefined;
}
