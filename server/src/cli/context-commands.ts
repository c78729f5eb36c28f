// `kyozo describe`, `kyozo context` and `kyozo mcp`: PathWalker's folder descriptions and repository map for people
// and agents. Exit codes: 2 for a folder or budget that cannot be used.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  AnalyzeInputError,
  DEFAULT_MAP_BUDGET,
  FolderDescriber,
  FolderNotFoundError,
  repoMap,
  type Fact,
  type FolderDescription,
} from '../engine';

declare const KYOZO_SPLIT_CLI: boolean | undefined;

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[0m` : s);

function fail(message: string): never {
  process.stderr.write(`kyozo: ${message}\n`);
  process.exit(2);
}

async function openWorkspace(dir: string): Promise<FolderDescriber> {
  try {
    return await FolderDescriber.open(resolve(dir));
  } catch (err) {
    if (err instanceof AnalyzeInputError) fail(err.message);
    throw err;
  }
}

const where = (e: { file: string; line?: number }) => `${e.file}${e.line ? `:${e.line}` : ''}`;

/** A description as a page: the summary, then each non-empty field with its first pieces of evidence. */
export function formatDescription(d: FolderDescription): string {
  const pct = (f: Fact<unknown>) => dim(`(${Math.round(f.confidence * 100)}%)`);
  const lines = [
    `${bold(d.folder === '.' ? './' : `${d.folder}/`)}  ${d.purpose.value} ${pct(d.purpose)}`,
    d.summary.value,
    ...d.purpose.evidence.slice(0, 2).map((e) => dim(`  ↳ ${where(e)}  ${e.reason}`)),
  ];
  const stack = [...d.stack.value.languages, ...d.stack.value.frameworks, ...d.stack.value.runtimes];
  const section = (title: string, items: string[]) => {
    if (!items.length) return;
    lines.push('', bold(title));
    for (const i of items.slice(0, 25)) lines.push(`  ${i}`);
    if (items.length > 25) lines.push(dim(`  … and ${items.length - 25} more (--json has them all)`));
  };
  section('stack', stack.length ? [stack.join(', ')] : []);
  section(
    'capabilities',
    d.capabilities.value.map(
      (c) => `${c.kind.padEnd(15)} ${c.name}${c.detail ? dim(` ${c.detail}`) : ''}  ${dim(where(c.evidence))}`,
    ),
  );
  section(
    'entry points',
    d.entryPoints.value.map((e) => `${e.command ?? e.file ?? ''}  ${dim(where(e.evidence))}`),
  );
  section('reads env', d.envRead.value.length ? [d.envRead.value.join(', ')] : []);
  // One line per service or folder, with every kind of link that joins them.
  const links = (ls: FolderDescription['dependsOn']['value']) => {
    const byTarget = new Map<string, { label: string; folder: string; kinds: string[] }>();
    for (const l of ls) {
      const key = `${l.service ?? ''}|${l.folder}`;
      const entry = byTarget.get(key) ?? { label: l.service ?? l.folder, folder: l.service ? l.folder : '', kinds: [] };
      if (!entry.kinds.includes(l.kind)) entry.kinds.push(l.kind);
      byTarget.set(key, entry);
    }
    return [...byTarget.values()].map((e) => {
      const where = e.folder ? `; ${e.folder}` : '';
      return `${e.label} ${dim(`(${e.kinds.join(', ')}${where})`)}`;
    });
  };
  section('depends on', links(d.dependsOn.value));
  section('used by', links(d.usedBy.value));
  section('tests for', links(d.testsFor.value));
  section('tested by', links(d.testedBy.value));
  section(
    'deployment',
    d.deployment.value.map((x) => `${x.kind.padEnd(15)} ${x.file}`),
  );
  section(
    'related',
    d.related.value.map((r) => `${r.folder}  ${dim(r.reasons.join('; '))}`),
  );
  section('suggestions', d.suggestions.value);
  return lines.join('\n');
}

/** Loads the MCP server: its own bundle (dist/cli-mcp.js) in the build, the module itself from source. */
async function loadMcp(): Promise<typeof import('../mcp/mcp-server')> {
  if (typeof KYOZO_SPLIT_CLI !== 'undefined') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a run-time path, on purpose
    return require(join(__dirname, 'cli-mcp.js')) as typeof import('../mcp/mcp-server');
  }
  return (await import(['..', 'mcp', 'mcp-server'].join('/'))) as typeof import('../mcp/mcp-server');
}

export function registerContextCommands(program: Command): void {
  program
    .command('describe')
    .description('describe a folder for people and agents: purpose, capabilities, relations, each with evidence')
    .argument('[folder]', 'folder to describe (relative to the current folder or the workspace)', '.')
    .option('-C, --dir <dir>', 'root folder of the workspace', '.')
    .option('--json', 'print the description as JSON')
    .option('--all', 'describe every folder of the workspace')
    .action(async (folder: string, opts: { dir: string; json?: boolean; all?: boolean }) => {
      const describer = await openWorkspace(opts.dir);
      let out: FolderDescription[];
      try {
        out = opts.all ? await describer.describeAll() : [await describer.describe(folder)];
      } catch (err) {
        if (err instanceof FolderNotFoundError) fail(err.message);
        throw err;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(opts.all ? out : out[0], null, 2)}\n`);
      else process.stdout.write(`${out.map(formatDescription).join('\n\n')}\n`);
    });

  program
    .command('context')
    .description(
      'the repository map for an agent: services first, then what they use, then the rest, within a token budget',
    )
    .argument('[dir]', 'root folder of the workspace', '.')
    .option('--budget <tokens>', 'token budget of the map', String(DEFAULT_MAP_BUDGET))
    .option('--json', 'print the map and its token count as JSON')
    .action(async (dir: string, opts: { budget: string; json?: boolean }) => {
      const budget = Number(opts.budget);
      if (!Number.isInteger(budget) || budget < 1)
        fail(`--budget expects a positive whole number of tokens, got '${opts.budget}'`);
      const describer = await openWorkspace(dir);
      const map = repoMap(describer.topology(), await describer.describeAll(), { budgetTokens: budget });
      if (opts.json) process.stdout.write(`${JSON.stringify(map, null, 2)}\n`);
      else {
        process.stdout.write(`${map.text}\n`);
        process.stderr.write(dim(`${map.tokens} of ${map.budgetTokens} tokens (${map.tokenizer})\n`));
      }
    });

  program
    .command('mcp')
    .description('serve the workspace to AI agents over the Model Context Protocol (stdio)')
    .argument('[dir]', 'root folder of the workspace', '.')
    .option('--no-watch', 'answer from the analysis made at start, without following file changes')
    .option('--allow-actions', 'also offer kyozo_deploy, kyozo_stop and kyozo_logs (they run containers)')
    .option('--docker-host <url>', 'Docker engine for the actions (default: DOCKER_HOST or the local socket)')
    .option('--state-dir <dir>', 'where deployment state is kept (default: <dir>/.kyozo)')
    .option(
      '--base-image <runtime=image>',
      'base image for generated Dockerfiles (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .action(
      async (
        dir: string,
        opts: { allowActions?: boolean; dockerHost?: string; stateDir?: string; baseImage: string[]; watch: boolean },
      ) => {
        const { serveMcp } = await loadMcp();
        await serveMcp({
          root: resolve(dir),
          allowActions: Boolean(opts.allowActions),
          dockerHost: opts.dockerHost,
          stateDir: opts.stateDir,
          baseImages: opts.baseImage,
          watch: opts.watch,
        });
      },
    );
}
