// Small detectors: Terraform, Procfile, plain static sites, and monorepo tool markers (nx, turbo, pnpm, lerna).
import type { PortSpec } from '../../protocol';
import { parse as parseYaml } from 'yaml';
import { ev, parseJson, portsInCommand } from './text';
import type { Finding, FolderView } from './types';

export function detectTerraform(folder: FolderView): Finding | undefined {
  const tf = folder.files.filter((f) => f.endsWith('.tf') && folder.has(f));
  if (tf.length === 0) return undefined;
  const providers = new Set<string>();
  let resources = 0;
  for (const f of tf) {
    const text = folder.read(f) ?? '';
    for (const m of text.matchAll(/^\s*provider\s+"([\w-]+)"/gm)) providers.add(m[1]);
    for (const m of text.matchAll(/^\s*resource\s+"([\w]+?)_/gm)) providers.add(m[1]);
    resources += (text.match(/^\s*resource\s+"/gm) ?? []).length;
  }
  return {
    detector: 'terraform', type: 'infrastructure', rank: 2, language: 'hcl', frameworks: ['terraform'], confidence: 0.8, runnable: false,
    evidence: [ev(folder.rel(tf[0]), `Terraform configuration: ${resources} resources${providers.size ? ` (${[...providers].join(', ')})` : ''}`)],
    indicators: tf.map((f) => folder.rel(f)),
  };
}

export function detectProcfile(folder: FolderView): Finding | undefined {
  if (!folder.has('Procfile')) return undefined;
  const file = folder.rel('Procfile');
  const lines = (folder.read('Procfile') ?? '').split(/\r?\n/);
  const procs = lines.map((l, i) => ({ m: /^([\w-]+):\s*(.+)$/.exec(l.trim()), line: i + 1 })).filter((x) => x.m);
  const web = procs.find((p) => p.m![1] === 'web');
  const worker = procs.find((p) => p.m![1] !== 'web' && p.m![1] !== 'release');
  const chosen = web ?? worker;
  if (!chosen) return undefined;
  const command = chosen.m![2];
  const ports: PortSpec[] = portsInCommand(command).map((p) => ({ container: p.port, protocol: 'tcp', source: 'procfile', evidence: ev(file, `${chosen.m![1]}: ${p.reason}`, chosen.line) }));
  return {
    detector: 'procfile', rank: 0, confidence: 0.8, evidence: [ev(file, `Procfile ${chosen.m![1]} process`, chosen.line)], indicators: [file],
    start: { command, source: 'procfile', evidence: ev(file, `${chosen.m![1]}: ${command}`, chosen.line) }, ports, runnable: true, worker: !web,
  };
}

export function detectStatic(folder: FolderView): Finding | undefined {
  if (!folder.has('index.html')) return undefined;
  const file = folder.rel('index.html');
  return {
    detector: 'static', type: 'static', rank: 2, language: 'html', frameworks: [], confidence: 0.5, runnable: true, frontend: true,
    evidence: [ev(file, 'index.html at the folder root: a static site')], indicators: [file],
    ports: [{ container: 80, protocol: 'tcp', source: 'framework-default', evidence: ev(file, 'static files are served on 80') }],
    build: { runtime: 'static', evidence: ev(file, 'static site') },
  };
}

export function detectWorkspaceTools(folder: FolderView): Finding | undefined {
  const evidence = [];
  let tool: string | undefined;
  let members: string[] = [];
  if (folder.has('pnpm-workspace.yaml')) {
    const file = folder.rel('pnpm-workspace.yaml');
    try {
      const doc = parseYaml(folder.read('pnpm-workspace.yaml') ?? '') as { packages?: unknown[] } | null;
      members = (doc?.packages ?? []).map(String);
    } catch {
      // a broken pnpm-workspace.yaml still marks the workspace; pnpm itself reports the syntax error
    }
    tool = 'pnpm workspaces';
    evidence.push(ev(file, 'pnpm workspace'));
  }
  if (folder.has('lerna.json')) {
    const parsed = parseJson<{ packages?: string[] }>(folder.read('lerna.json') ?? '', folder.rel('lerna.json'));
    if (parsed.ok && Array.isArray(parsed.value.packages)) members = parsed.value.packages;
    tool ??= 'lerna';
    evidence.push(ev(folder.rel('lerna.json'), 'Lerna monorepo'));
  }
  if (folder.has('turbo.json')) {
    tool = tool ? `${tool} + turborepo` : 'turborepo';
    evidence.push(ev(folder.rel('turbo.json'), 'Turborepo pipeline'));
  }
  if (folder.has('nx.json')) {
    tool = tool ? `${tool} + nx` : 'nx';
    evidence.push(ev(folder.rel('nx.json'), 'Nx workspace'));
  }
  if (!tool) return undefined;
  return {
    detector: 'workspace', confidence: 0.3, evidence, indicators: evidence.map((e) => e.file),
    workspace: { tool, members, evidence: evidence[0] },
  };
}
