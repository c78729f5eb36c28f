// How a generated image builds and runs a Node.js package, decided with the detection so the port and start
// command shown are the ones the image uses: a static build served by a static server (SPAs, static Astro),
// a framework's production server (never its dev server), and a workspace member built from its workspace root.
import { parse as parseYaml } from 'yaml';
import type { NodeBuildPlan, PortSpec, StartSpec } from '../../protocol';
import { joinRel, parentRel } from '../scan/file-index';
import type { FrameworkInfo } from './catalog';
import { ev, findLine } from '../parse/evidence';
import { parseJson } from './manifest-parsing';
import type { Finding, FolderView } from './types';

/** The static server generated images run for built single-page apps and static sites (a pinned version). */
export const STATIC_SERVER = { package: 'serve', version: '14.2.5', dir: '/opt/static-server', port: 8080 } as const;

/** Single-page apps route in the browser: unknown paths get index.html. A static site's get its 404 page. */
export function isSinglePageApp(frameworks: readonly string[]): boolean {
  return !frameworks.includes('astro');
}

/** The static server's command: index.html for unknown routes (SPAs), gzip, cache headers from its serve.json. */
export function staticServerArgv(root: string, port: number, spa: boolean): string[] {
  const dir = STATIC_SERVER.dir;
  return [
    'node',
    `${dir}/node_modules/serve/build/main.js`,
    ...(spa ? ['--single'] : []),
    '--no-clipboard',
    '--no-port-switching',
    '--config',
    `${dir}/serve.json`,
    '--listen',
    `tcp://0.0.0.0:${port}`,
    root,
  ];
}

export interface NodePackageFacts {
  file: string;
  text: string;
  name?: string;
  scripts: Record<string, string>;
  deps: Record<string, string>;
  primary?: FrameworkInfo;
  frameworks: string[];
  /** The start script the detection chose (`start`, `dev`, ...), if any. */
  scriptName?: string;
  configFile?: string;
  configText: string;
  pm: 'npm' | 'pnpm' | 'yarn' | 'bun';
}

function globMatches(glob: string, path: string): boolean {
  const escape = (t: string) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const body = glob
    .replace(/^\.\//, '')
    .replace(/\/+$/, '')
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`).test(path);
}

/** Member globs a folder declares: package.json `workspaces` (npm, yarn, bun) or pnpm-workspace.yaml `packages`. */
function workspaceGlobs(folder: FolderView, dir: string): string[] | undefined {
  const listing = folder.index.folder(dir);
  if (!listing) return undefined;
  if (listing.files.includes('pnpm-workspace.yaml')) {
    try {
      const text = folder.index.read(joinRel(dir, 'pnpm-workspace.yaml')).text ?? '';
      const doc = parseYaml(text) as { packages?: unknown } | null;
      if (Array.isArray(doc?.packages)) return doc.packages.map(String);
    } catch {
      return undefined; // a broken pnpm-workspace.yaml is reported by the workspace detector
    }
  }
  if (!listing.files.includes('package.json')) return undefined;
  const text = folder.index.read(joinRel(dir, 'package.json')).text;
  const parsed =
    text === undefined ? undefined : parseJson<{ workspaces?: unknown }>(text, joinRel(dir, 'package.json'));
  const ws = parsed?.ok ? parsed.value?.workspaces : undefined;
  const globs = Array.isArray(ws) ? ws : (ws as { packages?: unknown } | undefined)?.packages;
  return Array.isArray(globs) ? globs.map(String) : undefined;
}

/** The workspace root above a package that lists it as a member, and the member's path from that root. */
export function workspaceRootOf(folder: FolderView): { root: string; member: string; file: string } | undefined {
  if (folder.dir === '.') return undefined;
  for (let dir = parentRel(folder.dir); ; dir = parentRel(dir)) {
    const member = dir === '.' ? folder.dir : folder.dir.slice(dir.length + 1);
    const globs = workspaceGlobs(folder, dir);
    if (globs?.some((g) => !g.startsWith('!') && globMatches(g, member))) {
      const pnpm = folder.index.folder(dir)?.files.includes('pnpm-workspace.yaml');
      const file = pnpm ? 'pnpm-workspace.yaml' : 'package.json';
      return { root: dir, member, file: joinRel(dir, file) };
    }
    if (dir === '.') return undefined;
  }
}

/** Where a static build writes its files: vite `build.outDir`, Angular's `outputPath`, else the tool's default. */
function staticOutput(folder: FolderView, framework: string, facts: NodePackageFacts): string {
  if (framework === 'create-react-app') return 'build';
  if (framework === 'angular') {
    const text = folder.read('angular.json');
    const parsed =
      text === undefined ? undefined : parseJson<{ projects?: Record<string, unknown> }>(text, 'angular.json');
    type Target = { builder?: string; options?: { outputPath?: unknown } };
    const projects = parsed?.ok ? Object.values(parsed.value?.projects ?? {}) : [];
    const build = (projects[0] as { architect?: { build?: Target } } | undefined)?.architect?.build;
    const out = build?.options?.outputPath;
    const base = typeof out === 'string' ? out.replace(/\/+$/, '') : `dist/${facts.name ?? 'app'}`;
    // The application builder (Angular 17+) writes the browser files one folder down.
    return /:application$/.test(build?.builder ?? ':application') ? `${base}/browser` : base;
  }
  const outDir = /\boutDir\s*:\s*['"]([\w./-]+)['"]/.exec(facts.configText)?.[1];
  return (outDir ?? 'dist').replace(/^\.\//, '').replace(/\/+$/, '');
}

/** A static build: a vite SPA, a static Astro site, Create React App, Angular. */
function staticFramework(facts: NodePackageFacts): string | undefined {
  const { deps, primary, configText } = facts;
  if (primary?.name === 'vite') return 'vite';
  if (primary?.name === 'astro') {
    const ssr = '@astrojs/node' in deps || /\boutput\s*:\s*['"](server|hybrid)['"]/.test(configText);
    return ssr ? undefined : 'astro';
  }
  if (primary) return undefined;
  if ('react-scripts' in deps) return 'create-react-app';
  const angularBuilder = '@angular/build' in deps || '@angular-devkit/build-angular' in deps;
  if ('@angular/core' in deps && angularBuilder) return 'angular';
  return undefined;
}

/** The production server of an SSR framework, used when no start script says how to run it. */
function productionStart(facts: NodePackageFacts, standalone: boolean): { argv: string[]; port?: number } | undefined {
  const { deps, primary } = facts;
  switch (primary?.name) {
    case 'next':
      return { argv: standalone ? ['node', 'server.js'] : ['npx', '--no-install', 'next', 'start'], port: 3000 };
    case 'nuxt':
      return { argv: ['node', '.output/server/index.mjs'], port: 3000 };
    case 'sveltekit':
      return '@sveltejs/adapter-node' in deps ? { argv: ['node', 'build'], port: 3000 } : undefined;
    case 'astro':
      return { argv: ['node', './dist/server/entry.mjs'], port: 4321 };
    case 'remix':
      return { argv: ['npx', '--no-install', 'remix-serve', './build/server/index.js'], port: 3000 };
    case 'react-router':
      return { argv: ['npx', '--no-install', 'react-router-serve', './build/server/index.js'], port: 3000 };
    case 'tanstack-start':
      // Without Nitro (or another deployment adapter) its build is a fetch handler that nothing serves.
      return 'nitro' in deps ? { argv: ['node', '.output/server/index.mjs'], port: 3000 } : undefined;
    case 'nestjs':
      return { argv: ['node', 'dist/main'], port: 3000 };
    default:
      return undefined;
  }
}

/**
 * Yarn 2+ (a `packageManager` of yarn@2 and later, or a yarn.lock with `__metadata`) installs with Plug'n'Play
 * unless .yarnrc.yml names another `nodeLinker`.
 */
function yarnPlugAndPlay(folder: FolderView, text: string, root: string): boolean {
  const files = folder.index.folder(root)?.files ?? [];
  const read = (name: string) => (files.includes(name) ? folder.index.read(joinRel(root, name)).text : undefined);
  const rootText = root === folder.dir ? text : (read('package.json') ?? '');
  const berry =
    /"packageManager"\s*:\s*"yarn@(?:[2-9]|\d{2,})\./.test(`${text}${rootText}`) ||
    /^__metadata:/m.test(read('yarn.lock') ?? '');
  const linker = /^\s*nodeLinker\s*:\s*["']?([\w-]+)/m.exec(read('.yarnrc.yml') ?? '')?.[1];
  return berry && (linker === undefined || linker === 'pnp');
}

/** `engines.node` of the package, else of its workspace root: the Node versions the project says it runs on. */
function nodeEngine(folder: FolderView, text: string, root: string | undefined): string | undefined {
  const read = (t: string | undefined) => {
    const parsed = t === undefined ? undefined : parseJson<{ engines?: { node?: unknown } }>(t, 'package.json');
    const node = parsed?.ok ? parsed.value?.engines?.node : undefined;
    return typeof node === 'string' && node.trim() ? node.trim() : undefined;
  };
  return read(text) ?? (root === undefined ? undefined : read(folder.index.read(joinRel(root, 'package.json')).text));
}

/**
 * Fills `finding.build.node` (and the build context of a workspace member), and replaces a dev-server start with
 * what the generated image runs, with the port that goes with it.
 */
export function planNodeBuild(folder: FolderView, facts: NodePackageFacts, finding: Finding): void {
  const { file, text, scripts } = facts;
  const plan: NodeBuildPlan = {};
  const ws = finding.runnable === false ? undefined : workspaceRootOf(folder);
  if (ws) {
    plan.member = ws.member;
    finding.build!.context = ws.root === '.' ? '' : ws.root;
    const why = `a member (${ws.member}) of this workspace: built with the workspace root as context`;
    finding.evidence.push(ev(ws.file, why));
  }
  if (typeof scripts.build === 'string') plan.buildScript = 'build';
  if (facts.pm === 'yarn' && yarnPlugAndPlay(folder, text, ws?.root ?? '.')) plan.yarnPnp = true;
  const engine = nodeEngine(folder, text, ws?.root);
  if (engine) plan.nodeEngine = engine;

  const fw = staticFramework(facts);
  if (fw && plan.buildScript) {
    plan.staticDir = staticOutput(folder, fw, facts);
    if (fw === 'create-react-app' || fw === 'angular') {
      finding.frameworks = [...new Set([...(finding.frameworks ?? []), fw])];
    }
    // The static server listens where the dev server did (script flag, config, the tool's default), so the port
    // people know is the port the deployed app answers on.
    const defaults: Record<string, number> = { vite: 5173, astro: 4321, 'create-react-app': 3000, angular: 4200 };
    const line = findLine(text, '"build"');
    if (!finding.ports?.length) {
      finding.ports = [
        {
          container: defaults[fw] ?? STATIC_SERVER.port,
          protocol: 'tcp',
          source: 'framework-default',
          evidence: ev(file, `${fw} serves on ${defaults[fw] ?? STATIC_SERVER.port} by default`),
        },
      ];
    }
    const port = finding.ports[0]!.container;
    const spa = isSinglePageApp([...(finding.frameworks ?? []), fw]);
    finding.start = {
      command: `serve ${spa ? '--single ' : ''}${plan.staticDir} (port ${port})`,
      argv: staticServerArgv(plan.staticDir, port, spa),
      source: 'framework-default',
      evidence: ev(file, `"build": "${scripts.build}" writes ${plan.staticDir}/, served as static files`, line),
    };
    finding.runnable = true;
    finding.build!.node = plan;
    return;
  }

  const standalone = facts.primary?.name === 'next' && /\boutput\s*:\s*['"]standalone['"]/.test(facts.configText);
  if (standalone) plan.nextStandalone = true;
  const prod = productionStart(facts, standalone);
  const startScript = scripts.start;
  // `nest start` needs the CLI, a dev dependency; its `start:prod` (node dist/main) is the production start.
  const devOnlyStart = facts.primary?.name === 'nestjs' && /^\s*nest\s+start\b/.test(startScript ?? '');
  const usesScriptStart = facts.scriptName === 'start' && !devOnlyStart && !standalone;
  if (devOnlyStart && typeof scripts['start:prod'] === 'string') {
    const command = `${facts.pm} run start:prod`;
    const evidence = ev(file, `"start:prod": "${scripts['start:prod']}"`, findLine(text, '"start:prod"'));
    finding.start = { command, source: 'script', evidence };
    finding.runnable = true;
  } else if (prod && !usesScriptStart) {
    const command = prod.argv.join(' ');
    const start: StartSpec = {
      command,
      argv: prod.argv,
      source: 'framework-default',
      evidence: ev(file, `${facts.primary!.name} production server${standalone ? ' (output: standalone)' : ''}`),
    };
    if (standalone) start.evidence = ev(facts.configFile ? folder.rel(facts.configFile) : file, 'output: standalone');
    finding.start = start;
    if (prod.argv[1]?.startsWith('.output/')) plan.serverOutput = '.output';
    const port = prod.port;
    if (port !== undefined) {
      const ports: PortSpec[] = [
        {
          container: port,
          protocol: 'tcp',
          source: 'framework-default',
          evidence: ev(file, `${facts.primary!.name} production server listens on ${port} (PORT) by default`),
        },
      ];
      finding.ports = ports;
    }
    finding.runnable = true;
  }
  finding.build!.node = plan;
}
