// Elixir: mix.exs (deps, umbrella apps, releases), Phoenix endpoints and Plug/Cowboy or Bandit listeners with their
// ports from config/*.exs or the application module, Ecto repos as a database dependency.
import type { PortSource, PortSpec } from '../../protocol';
import { markProgramKind } from './program-kind';
import { ev, findLine } from '../parse/evidence';
import type { Dependency, Finding, FolderView } from './types';

const CONFIGS = ['config/runtime.exs', 'config/prod.exs', 'config/config.exs', 'config/dev.exs'];
/** `http: [ip: {0, 0, 0, 0}, port: String.to_integer(System.get_env("PORT") || "4000")]` or `port: 4000`. */
const ENDPOINT_PORT = new RegExp(
  String.raw`http:\s*\[[^\]]*?port:\s*` +
    String.raw`(?:String\.to_integer\(\s*System\.get_env\("(\w+)"\)\s*\|\|\s*"(\d+)"\s*\)|(\d+))`,
  's',
);
/** `{Plug.Cowboy, scheme: :http, plug: X, options: [port: 4001]}` or `{Bandit, plug: X, port: 4002}`. */
const PLUG_PORT = /Plug\.Cowboy(?:\.child_spec)?\b[^\n]*?port:\s*(\d+)|\{\s*Bandit\s*,[^}]*?port:\s*(\d+)/s;

type Source = { file: string; text: string };

export function detectElixir(folder: FolderView): Finding | undefined {
  if (!folder.has('mix.exs')) return undefined;
  const file = folder.rel('mix.exs');
  const text = folder.read('mix.exs') ?? '';
  const app = /\bapp:\s*:(\w+)/.exec(text)?.[1];
  const deps: Dependency[] = [...text.matchAll(/\{\s*:(\w+)\s*,/g)]
    .filter((m) => m[1] !== app)
    .map((m) => ({ name: m[1], file, line: findLine(text, m[0]) }));
  const has = (name: string) => deps.some((d) => d.name === name);
  const frameworks: string[] = [];
  const finding: Finding = {
    detector: 'elixir',
    type: 'elixir',
    rank: 5,
    language: 'elixir',
    confidence: 0.5,
    packageName: app,
    frameworks,
    evidence: [ev(file, 'mix.exs declares an Elixir project')],
    indicators: [file],
    dependencies: deps,
  };
  const umbrella = /\bapps_path:\s*"([^"]+)"/.exec(text);
  if (umbrella) {
    const evidence = ev(file, 'umbrella project', findLine(text, 'apps_path'));
    finding.workspace = { tool: 'mix umbrella', members: [`${umbrella[1]}/*`], evidence };
    finding.runnable = false;
    finding.type = undefined;
    return finding;
  }
  const sources: Source[] = elixirSources(folder).map((f) => ({ file: f, text: folder.read(f) ?? '' }));
  const configs: Source[] = CONFIGS.filter((c) => folder.exists(c)).map((c) => ({
    file: c,
    text: folder.read(c) ?? '',
  }));
  const ports: PortSpec[] = [];
  const addPort = (port: number, source: PortSource, at: string, reason: string, line?: number, env?: string) => {
    if (ports.some((p) => p.container === port)) return;
    const evidence = ev(folder.rel(at), reason, line);
    ports.push({ container: port, protocol: 'tcp', source, ...(env ? { envVar: env } : {}), evidence });
  };
  if (has('phoenix')) {
    frameworks.push('phoenix');
    finding.evidence.push(ev(file, 'depends on phoenix', findLine(text, ':phoenix,')));
    for (const c of configs) {
      const m = ENDPOINT_PORT.exec(c.text);
      if (m) {
        const port = Number(m[2] ?? m[3]);
        const reason = `endpoint http port ${port}${m[1] ? ` (${m[1]})` : ''}`;
        addPort(port, 'config', c.file, reason, findLine(c.text, /port:/), m[1]);
        break;
      }
    }
    addPort(4000, 'framework-default', 'mix.exs', 'Phoenix listens on 4000 by default');
  }
  for (const s of sources) {
    const m = PLUG_PORT.exec(s.text);
    if (!m) continue;
    if (!frameworks.includes('plug')) frameworks.push('plug');
    const port = Number(m[1] ?? m[2]);
    addPort(port, 'code', s.file, `${m[1] ? 'Plug.Cowboy' : 'Bandit'} listens on ${port}`, findLine(s.text, m[0]));
  }
  if (!frameworks.includes('plug') && (has('plug_cowboy') || has('bandit')) && !has('phoenix')) {
    frameworks.push('plug');
    addPort(4000, 'framework-default', 'mix.exs', 'Plug listens on 4000 by default');
  }
  if (has('ecto_sql')) frameworks.push('ecto');
  if (has('oban')) frameworks.push('oban');
  finding.ports = ports;
  const health = healthRoute(sources);
  if (health && ports.length) {
    const evidence = ev(folder.rel(health.file), `GET ${health.path} route`, health.line);
    finding.healthCheck = { kind: 'http', path: health.path, port: ports[0].container, evidence };
  }
  const mod = /\bmod:\s*\{\s*([\w.]+)/.exec(text);
  finding.entryFiles = [];
  if (/\breleases:\s*\[/.test(text) && app) {
    const evidence = ev(file, 'mix release', findLine(text, 'releases:'));
    finding.start = { command: `_build/prod/rel/${app}/bin/${app} start`, source: 'manifest', evidence };
  } else if (has('phoenix')) {
    finding.start = { command: 'mix phx.server', source: 'framework-default', evidence: ev(file, 'Phoenix server') };
  } else if (mod || ports.length) {
    const evidence = ev(file, mod ? `starts ${mod[1]}` : 'Plug server', findLine(text, 'mod:'));
    finding.start = { command: 'mix run --no-halt', source: 'framework-default', evidence };
  }
  if (!finding.start) {
    // No application module, no server, no release: code other projects depend on.
    finding.runnable = false;
    finding.confidence = 0.4;
    return finding;
  }
  finding.runnable = true;
  finding.confidence = ports.length ? 0.9 : 0.75;
  if (ports.length) return finding;
  if (mod) {
    // An OTP application keeps its supervision tree running until it is stopped.
    finding.worker = true;
    const reason = `listens on nothing and starts the supervision tree of ${mod[1]}: a worker`;
    finding.evidence.push(ev(file, reason, findLine(text, 'mod:')));
  } else {
    const rooted = sources.map((s) => ({ file: folder.rel(s.file), text: s.text }));
    markProgramKind(finding, rooted, { file, what: 'its run ends' });
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

function healthRoute(sources: Source[]): { file: string; path: string; line?: number } | undefined {
  for (const s of sources) {
    const m = HEALTH.exec(s.text);
    if (!m) continue;
    // A route inside `scope "/api"` is served under that prefix.
    const scope = [...s.text.slice(0, m.index).matchAll(/^\s*scope\s+"(\/[^"]*)"/gm)].at(-1)?.[1];
    const path = scope && scope !== '/' ? `${scope}${m[1]}` : m[1];
    return { file: s.file, path, line: findLine(s.text, m[0].trim()) };
  }
  return undefined;
}
