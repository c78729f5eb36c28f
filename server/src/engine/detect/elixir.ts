// Elixir: mix.exs (deps, umbrella apps, releases), Phoenix endpoints and Plug/Cowboy or Bandit listeners with their
// ports from config/*.exs or the application module, Ecto repos as a database dependency.
import type { PortSpec } from '../../protocol';
import { longRunningMarker } from '../code/program-lifetime';
import { ev, findLine } from './text';
import type { Dependency, Finding, FolderView } from './types';

const CONFIGS = ['config/runtime.exs', 'config/prod.exs', 'config/config.exs', 'config/dev.exs'];

export function detectElixir(folder: FolderView): Finding | undefined {
  if (!folder.has('mix.exs')) return undefined;
  const file = folder.rel('mix.exs');
  const text = folder.read('mix.exs') ?? '';
  const app = /\bapp:\s*:(\w+)/.exec(text)?.[1];
  const deps: Dependency[] = [...text.matchAll(/\{\s*:(\w+)\s*,/g)]
    .filter((m) => m[1] !== app)
    .map((m) => ({ name: m[1], file, line: findLine(text, m[0]) }));
  const has = (name: string) => deps.some((d) => d.name === name);
  const finding: Finding = {
    detector: 'elixir', type: 'elixir', rank: 5, language: 'elixir', confidence: 0.5, packageName: app,
    evidence: [ev(file, 'mix.exs declares an Elixir project')], indicators: [file], dependencies: deps, frameworks: [],
  };
  const umbrella = /\bapps_path:\s*"([^"]+)"/.exec(text);
  if (umbrella) {
    finding.workspace = { tool: 'mix umbrella', members: [`${umbrella[1]}/*`], evidence: ev(file, 'umbrella project', findLine(text, 'apps_path')) };
    finding.runnable = false;
    finding.type = undefined;
    return finding;
  }
  const release = /\breleases:\s*\[/.test(text);
  const libFiles = elixirSources(folder);
  const sources = libFiles.map((f) => ({ file: f, text: folder.read(f) ?? '' }));
  const configs = CONFIGS.filter((c) => folder.exists(c)).map((c) => ({ file: c, text: folder.read(c) ?? '' }));
  const ports: PortSpec[] = [];
  const addPort = (port: number, source: PortSpec['source'], at: string, reason: string, line?: number, envVar?: string) => {
    if (ports.some((p) => p.container === port)) return;
    ports.push({ container: port, protocol: 'tcp', source, ...(envVar ? { envVar } : {}), evidence: ev(folder.rel(at), reason, line) });
  };
  if (has('phoenix')) {
    finding.frameworks!.push('phoenix');
    finding.evidence.push(ev(file, 'depends on phoenix', findLine(text, ':phoenix,')));
    // `http: [ip: {0, 0, 0, 0}, port: String.to_integer(System.get_env("PORT") || "4000")]` or `port: 4000`.
    for (const c of configs) {
      const m = /http:\s*\[[^\]]*?port:\s*(?:String\.to_integer\(\s*System\.get_env\("(\w+)"\)\s*\|\|\s*"(\d+)"\s*\)|(\d+))/s.exec(c.text);
      if (m) {
        const port = Number(m[2] ?? m[3]);
        addPort(port, 'config', c.file, `endpoint http port ${port}${m[1] ? ` (${m[1]})` : ''}`, findLine(c.text, /port:/), m[1]);
        break;
      }
    }
    addPort(4000, 'framework-default', 'mix.exs', 'Phoenix listens on 4000 by default');
  }
  // Plug.Cowboy.child_spec(scheme: :http, plug: X, options: [port: 4001]) or {Bandit, plug: X, port: 4002}.
  for (const s of sources) {
    const m = /Plug\.Cowboy(?:\.child_spec)?\b[^\n]*?port:\s*(\d+)|\{\s*Bandit\s*,[^}]*?port:\s*(\d+)/s.exec(s.text);
    if (m) {
      const server = m[1] ? 'Plug.Cowboy' : 'Bandit';
      if (!finding.frameworks!.includes('plug')) finding.frameworks!.push('plug');
      addPort(Number(m[1] ?? m[2]), 'code', s.file, `${server} listens on ${m[1] ?? m[2]}`, findLine(s.text, m[0]));
    }
  }
  if (!finding.frameworks!.includes('plug') && (has('plug_cowboy') || has('bandit')) && !has('phoenix')) {
    finding.frameworks!.push('plug');
    addPort(4000, 'framework-default', 'mix.exs', 'Plug listens on 4000 by default');
  }
  if (has('ecto_sql')) finding.frameworks!.push('ecto');
  if (has('oban')) finding.frameworks!.push('oban');
  finding.ports = ports;
  const health = healthRoute(sources);
  if (health && ports.length) {
    finding.healthCheck = { kind: 'http', path: health.path, port: ports[0].container, evidence: ev(folder.rel(health.file), `GET ${health.path} route`, health.line) };
  }
  const mod = /\bmod:\s*\{\s*([\w.]+)/.exec(text);
  finding.entryFiles = [];
  if (release && app) {
    finding.start = { command: `_build/prod/rel/${app}/bin/${app} start`, source: 'manifest', evidence: ev(file, 'mix release', findLine(text, 'releases:')) };
  } else if (has('phoenix')) {
    finding.start = { command: 'mix phx.server', source: 'framework-default', evidence: ev(file, 'Phoenix server') };
  } else if (mod || ports.length) {
    finding.start = { command: 'mix run --no-halt', source: 'framework-default', evidence: ev(file, mod ? `starts ${mod[1]}` : 'Plug server', findLine(text, 'mod:')) };
  } else if (sources.some((s) => /^\s*Mix\.install|^\s*def\s+main\s*\(/m.test(s.text))) {
    finding.start = { command: 'mix run', source: 'framework-default', evidence: ev(file, 'a script run once') };
  }
  if (!finding.start) {
    // No application module, no server, no release: code other projects depend on.
    finding.runnable = false;
    finding.confidence = 0.4;
    return finding;
  }
  finding.runnable = true;
  finding.confidence = ports.length ? 0.9 : 0.75;
  if (!ports.length) {
    // An OTP application keeps its supervision tree running: a worker; anything else runs to completion.
    const marker = mod ? { line: findLine(text, 'mod:'), reason: `starts the supervision tree of ${mod[1]}`, file } : undefined;
    const inCode = sources.map((s) => ({ s, m: longRunningMarker(s.text) })).find((x) => x.m);
    const why = marker ?? (inCode ? { line: inCode.m!.line, reason: inCode.m!.reason, file: folder.rel(inCode.s.file) } : undefined);
    if (why) {
      finding.worker = true;
      finding.evidence.push(ev(why.file, `listens on nothing and ${why.reason}: a worker`, why.line));
    } else {
      finding.job = true;
      finding.evidence.push(ev(file, 'listens on nothing and starts no process tree: a job that runs to completion'));
    }
  }
  return finding;
}

/** lib/**.ex files, shallow enough to stay cheap: the application module, the router, the endpoint. */
function elixirSources(folder: FolderView): string[] {
  const out: string[] = [];
  const stack = ['lib'];
  while (stack.length && out.length < 24) {
    const dir = stack.pop()!;
    const sub = folder.sub(dir);
    if (!sub) continue;
    for (const f of sub.files) if (f.endsWith('.ex')) out.push(`${dir}/${f}`);
    if (dir.split('/').length < 4) for (const d of sub.subdirs) stack.push(`${dir}/${d}`);
  }
  return out.sort();
}

const HEALTH = /^\s*(?:get|forward)\s+"(\/(?:health|healthz|_health|ready|readyz|live|livez|status|ping)[^"]*)"/m;

function healthRoute(sources: { file: string; text: string }[]): { file: string; path: string; line?: number } | undefined {
  for (const s of sources) {
    const m = HEALTH.exec(s.text);
    if (m) {
      // A route inside `scope "/api"` is served under that prefix.
      const before = s.text.slice(0, m.index);
      const scope = [...before.matchAll(/^\s*scope\s+"(\/[^"]*)"/gm)].at(-1)?.[1];
      const path = scope && scope !== '/' ? `${scope}${m[1]}` : m[1];
      return { file: s.file, path, line: findLine(s.text, m[0].trim()) };
    }
  }
  return undefined;
}
