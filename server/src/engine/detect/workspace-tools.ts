// Monorepo tool markers (pnpm workspaces, Lerna, Turborepo, Nx): the members they declare group the services below.
import { parse as parseYaml } from 'yaml';
import { ev } from '../parse/evidence';
import { parseJson } from './manifest-parsing';
import type { Finding, FolderView } from './types';

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
    detector: 'workspace',
    confidence: 0.3,
    evidence,
    indicators: evidence.map((e) => e.file),
    workspace: { tool, members, evidence: evidence[0] },
  };
}
