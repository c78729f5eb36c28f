// `kyozo analyze` and `kyozo explain`: the topology as a table, as JSON, and the evidence behind every field.
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Topology } from '../protocol';
import { AnalyzeInputError, analyze, explain, formatExplanation } from '../engine';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[0m` : s);
const red = (s: string) => (useColor ? `\x1b[31m${s}\x1b[0m` : s);
const yellow = (s: string) => (useColor ? `\x1b[33m${s}\x1b[0m` : s);

export async function loadTopology(dir: string, ignore: string[] = []): Promise<Topology> {
  try {
    return await analyze(path.resolve(dir), { extraIgnores: ignore });
  } catch (err) {
    if (err instanceof AnalyzeInputError) {
      process.stderr.write(`kyozo: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows
    .map((r, ri) => {
      const line = r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd();
      return ri === 0 ? bold(line) : line;
    })
    .join('\n');
}

export function formatTopology(t: Topology): string {
  const name = (id: string) => t.services.find((s) => s.id === id)?.name ?? id;
  const rows = [['SERVICE', 'FOLDER', 'TYPE', 'FRAMEWORK', 'PORT', 'DEPENDS ON', 'CONFIDENCE']];
  for (const s of t.services) {
    const deps = [...new Set(t.edges.filter((e) => e.from === s.id).map((e) => name(e.to)))];
    const p = s.ports[0];
    rows.push([
      s.name,
      s.composeOnly ? `${s.folder} (image ${s.image ?? ''})` : s.folder,
      s.type,
      s.frameworks.join(',') || '-',
      p ? `${p.container} ${dim(`(${p.source})`)}` : '-',
      deps.join(', ') || '-',
      `${Math.round(s.confidence * 100)}%`,
    ]);
  }
  const out = [
    t.services.length
      ? table(rows)
      : 'No services found. Kyozo looks for Dockerfiles, compose files, package manifests, Procfiles and kyozo.yaml.',
  ];
  if (t.libraries.length)
    out.push('', `${bold('Libraries:')} ${t.libraries.map((l) => `${l.name} (${l.folder})`).join(', ')}`);
  if (t.order.length)
    out.push('', bold('Deployment order:'), ...t.order.map((w, i) => `  wave ${i + 1}: ${w.map(name).join(', ')}`));
  if (t.patterns.length) out.push('', bold('Patterns:'), ...t.patterns.map((p) => `  ${p.kind}: ${p.description}`));
  const at = (p: { file?: string; line?: number; message: string }) =>
    p.file && !p.message.startsWith(p.file) ? `${p.file}${p.line ? `:${p.line}` : ''} ` : '';
  if (t.problems.length)
    out.push(
      '',
      bold('Problems:'),
      ...t.problems.map((p) => `  ${p.severity === 'error' ? red('error') : yellow(p.severity)} ${at(p)}${p.message}`),
    );
  if (t.recommendations.length)
    out.push('', bold('Recommendations:'), ...t.recommendations.map((r) => `  ${dim(r.code)} ${r.message}`));
  out.push(
    '',
    dim(
      `${t.services.length} services, ${t.edges.length} dependencies · ${t.stats.files} files in ${t.stats.folders} folders · ${t.stats.durationMs.toFixed(0)} ms`,
    ),
  );
  return out.join('\n');
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerAnalyzeCommands(program: Command): void {
  program
    .command('analyze')
    .description(
      'detect the services in a folder tree: types, ports, start commands, dependencies and deployment order',
    )
    .argument('[dir]', 'folder to analyse', '.')
    .option('--json', 'print the Topology as JSON')
    .option('--ignore <glob>', 'extra gitignore-style pattern to skip (repeatable)', collect, [])
    .action(async (dir: string, opts: { json?: boolean; ignore: string[] }) => {
      const t = await loadTopology(dir, opts.ignore);
      process.stdout.write(opts.json ? `${JSON.stringify(t, null, 2)}\n` : `${formatTopology(t)}\n`);
    });

  program
    .command('explain')
    .description('explain a service or folder: every detected fact with the file and line it came from')
    .argument('<target>', 'service name, service id or folder path')
    .option('-C, --dir <dir>', 'root folder of the workspace', '.')
    .option('--json', 'print the explanation as JSON')
    .action(async (target: string, opts: { dir: string; json?: boolean }) => {
      const t = await loadTopology(opts.dir);
      const x = explain(t, target);
      process.stdout.write(opts.json ? `${JSON.stringify(x, null, 2)}\n` : `${formatExplanation(x)}\n`);
      if (x.kind === 'none' && !t.services.length) process.exitCode = 1;
    });
}
