// The repository map for an agent: every service by name first (never dropped), then details of the services that
// matter most (most used, then most dependent), then the other folders by purpose, cut to a token budget.
// gpt-tokenizer counts tokens: pure JavaScript with its encodings bundled (no download at run time), and the
// o200k_base encoding current OpenAI models use, close enough to other models' tokenizers to budget by.
import type { Topology } from '../../protocol';
import type { FolderDescription, FolderPurpose } from './folder-description';

export interface RepoMapOptions {
  /** Token budget for the whole map (default 4000). */
  budgetTokens?: number;
}

export interface RepoMap {
  text: string;
  /** Tokens of `text`, counted with the o200k_base encoding. */
  tokens: number;
  budgetTokens: number;
  tokenizer: 'o200k_base';
  services: number;
  /** Folders (beside the service names) the map has a line for, and how many did not fit. */
  folders: { shown: number; omitted: number };
}

export const DEFAULT_MAP_BUDGET = 4000;

/** Folders other than services, in the order an agent needs them. */
const PURPOSE_RANK: FolderPurpose[] = [
  'library',
  'api-definitions',
  'infrastructure',
  'tests',
  'ci',
  'config',
  'docs',
  'scripts',
  'data',
  'generated',
  'examples',
  'assets',
  'workspace-root',
  'module',
];

// Loading gpt-tokenizer builds its encoding tables (about half a second of CPU), so it is required on the first count:
// everything that never counts tokens (kyozo analyze, the language server) starts without paying for it.
let countTokens: ((text: string) => number) | undefined;
const tokens = (s: string) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, on purpose
  (countTokens ??= (require('gpt-tokenizer') as typeof import('gpt-tokenizer')).countTokens)(s);

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function repoMap(
  topology: Topology,
  descriptions: readonly FolderDescription[],
  options: RepoMapOptions = {},
): RepoMap {
  const budget = options.budgetTokens ?? DEFAULT_MAP_BUDGET;
  if (!Number.isFinite(budget) || budget < 1)
    throw new RangeError(`budgetTokens must be a positive number of tokens, got ${budget}`);
  const byFolder = new Map(descriptions.map((d) => [d.folder, d]));
  const services = topology.services.filter((s) => !s.composeOnly);
  const images = topology.services.filter((s) => s.composeOnly);
  const head: string[] = [
    `# ${topology.name}: ${count(topology.services.length, 'service')}, ` +
      `${count(topology.libraries.length, 'library', 'libraries')}, ${count(descriptions.length, 'folder')}`,
  ];

  // Every service name, grouped by parent folder; a name that differs from its folder's last segment says both.
  head.push('## Services (folder: names)');
  const groups = new Map<string, string[]>();
  for (const s of services) {
    const parent = s.folder === '.' ? '.' : s.folder.includes('/') ? s.folder.slice(0, s.folder.lastIndexOf('/')) : '.';
    const base = s.folder === '.' ? '.' : s.folder.slice(s.folder.lastIndexOf('/') + 1);
    (groups.get(parent) ?? groups.set(parent, []).get(parent)!).push(base === s.name ? s.name : `${s.name}=${base}`);
  }
  for (const [parent, names] of groups) head.push(`${parent === '.' ? './' : `${parent}/`}: ${names.join(', ')}`);
  if (images.length) head.push(`images: ${images.map((s) => `${s.name} (${s.image ?? '?'})`).join(', ')}`);

  const nameOf = new Map(topology.services.map((s) => [s.id, s.name]));
  const usedBy = new Map<string, number>();
  for (const e of topology.edges) usedBy.set(e.to, (usedBy.get(e.to) ?? 0) + 1);
  const ranked = [...topology.services].sort(
    (a, b) => (usedBy.get(b.id) ?? 0) - (usedBy.get(a.id) ?? 0) || a.id.localeCompare(b.id),
  );
  const details: string[] = ['## Service details'];
  for (const s of ranked) {
    const d = s.composeOnly ? undefined : byFolder.get(s.folder);
    const parts = [`- ${s.name}`];
    if (!s.composeOnly) parts.push(`(${s.folder})`);
    const what = d?.summary.value ?? `${s.type}${s.image ? ` image ${s.image}` : ''}`;
    parts.push(what.replace(/\.$/, ''));
    const deps = [...new Set(topology.edges.filter((e) => e.from === s.id).map((e) => nameOf.get(e.to) ?? e.to))];
    if (deps.length && !what.includes('calls')) parts.push(`→ ${deps.join(', ')}`);
    const caps = d?.capabilities.value ?? [];
    const routes = caps.filter((c) => c.kind === 'http-route').map((c) => c.name);
    if (routes.length)
      parts.push(`| routes ${routes.slice(0, 6).join(', ')}${routes.length > 6 ? ` +${routes.length - 6}` : ''}`);
    const rpcs = caps.filter((c) => c.kind === 'grpc-method').map((c) => c.name.split('/')[1]);
    if (rpcs.length) parts.push(`| rpc ${rpcs.slice(0, 6).join(', ')}${rpcs.length > 6 ? ` +${rpcs.length - 6}` : ''}`);
    const queues = caps
      .filter((c) => c.kind === 'queue-consume' || c.kind === 'queue-produce')
      .map((c) => `${c.kind === 'queue-consume' ? '⇐' : '⇒'}${c.name}`);
    if (queues.length) parts.push(`| queues ${queues.slice(0, 4).join(', ')}`);
    details.push(parts.join(' '));
  }

  // Other folders: the first folder of each purpose run (its children say the same), best purposes first.
  const others = descriptions
    .filter((d) => d.purpose.value !== 'service' && d.folder !== '.')
    .filter((d) => {
      const parent = d.folder.includes('/')
        ? byFolder.get(d.folder.slice(0, d.folder.lastIndexOf('/')))
        : byFolder.get('.');
      return !parent || parent.purpose.value !== d.purpose.value || d.purpose.value === 'library';
    })
    .sort(
      (a, b) =>
        PURPOSE_RANK.indexOf(a.purpose.value) - PURPOSE_RANK.indexOf(b.purpose.value) ||
        a.folder.length - b.folder.length ||
        a.folder.localeCompare(b.folder),
    );
  const folderLines = [
    '## Other folders (purpose: summary)',
    ...others.map((d) => `- ${d.folder}/ ${d.purpose.value}: ${d.summary.value.replace(/\.$/, '')}`),
  ];

  // Greedy fill: the head always, then lines in rank order while they fit. Lines are counted one by one (a newline
  // each), then the whole text once, trimming from the end should the joined count come out higher.
  const out = [...head];
  let used = tokens(head.join('\n'));
  let shownFolders = 0;
  const tryAdd = (line: string): boolean => {
    const cost = tokens(line) + 1;
    if (used + cost > budget) return false;
    out.push(line);
    used += cost;
    return true;
  };
  let shownServices = 0;
  for (const [i, line] of details.entries()) {
    if (!tryAdd(line)) break;
    if (i > 0) shownServices++;
  }
  let lastFolderHeader = -1;
  for (const [i, line] of folderLines.entries()) {
    if (i === 0) {
      if (!tryAdd(line)) break;
      lastFolderHeader = out.length - 1;
      continue;
    }
    if (!tryAdd(line)) break;
    shownFolders++;
  }
  if (lastFolderHeader === out.length - 1) out.pop();
  let text = out.join('\n');
  let total = tokens(text);
  while (total > budget && out.length > head.length) {
    const dropped = out.pop()!;
    if (dropped.startsWith('- ') && others.length && shownFolders > 0 && !details.includes(dropped)) shownFolders--;
    text = out.join('\n');
    total = tokens(text);
  }
  void shownServices;
  return {
    text,
    tokens: total,
    budgetTokens: budget,
    tokenizer: 'o200k_base',
    services: topology.services.length,
    folders: { shown: shownFolders, omitted: others.length - shownFolders },
  };
}
