// Rust: Cargo.toml (package, dependencies with features, [workspace] members), a binary target or a library.
import { RUST_FRAMEWORKS } from './catalog';
import { ev, findLine } from '../parse/evidence';
import { parseTomlFile } from './manifest-parsing';
import type { DataEngine, Dependency, Finding, FolderView } from './types';

export function detectRust(folder: FolderView): Finding | undefined {
  if (!folder.has('Cargo.toml')) return undefined;
  const file = folder.rel('Cargo.toml');
  const text = folder.read('Cargo.toml') ?? '';
  const finding: Finding = {
    detector: 'rust',
    type: 'rust',
    rank: 5,
    language: 'rust',
    confidence: 0.5,
    evidence: [ev(file, 'Cargo.toml declares a Rust crate')],
    indicators: [file],
    problems: [],
    build: { runtime: 'rust', packageManager: 'cargo', evidence: ev(file, 'Cargo crate') },
  };
  const parsed = parseTomlFile<Record<string, any>>(text, file); // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!parsed.ok) {
    finding.problems!.push(parsed.problem);
    finding.confidence = 0.3;
    return finding;
  }
  const t = parsed.value;
  if (t.workspace?.members) {
    finding.workspace = {
      tool: 'cargo workspace',
      members: (t.workspace.members as unknown[]).map(String),
      evidence: ev(file, 'declares a Cargo workspace', findLine(text, '[workspace]')),
    };
  }
  if (!t.package) {
    finding.runnable = false;
    finding.type = undefined;
    return finding;
  }
  finding.packageName = t.package.name;
  const depTable: Record<string, unknown> = t.dependencies ?? {};
  const deps: Dependency[] = [];
  for (const [name, spec] of Object.entries(depTable)) {
    const line = findLine(text, new RegExp(`^${name.replace(/[-]/g, '[-_]')}\\s*=`, 'm'));
    const features =
      spec && typeof spec === 'object' ? ((spec as { features?: unknown[] }).features ?? []).map(String) : [];
    let engine: DataEngine | undefined;
    if (name === 'sqlx' || name === 'diesel' || name === 'sea-orm') {
      engine = features.some((f) => /postgres/.test(f))
        ? 'postgres'
        : features.some((f) => /mysql/.test(f))
          ? 'mysql'
          : undefined;
    }
    if (name === 'mongodb') engine = 'mongo';
    if (name === 'redis') engine = 'redis';
    deps.push({
      name: engine && !['mongodb', 'redis'].includes(name) ? `${name} (${engine} feature)` : name,
      file,
      line,
      engine,
    });
  }
  finding.dependencies = deps;
  const fwName = Object.keys(RUST_FRAMEWORKS).find((n) => n in depTable);
  const fw = fwName ? RUST_FRAMEWORKS[fwName] : undefined;
  finding.frameworks = fw ? [fw.name] : [];
  if (fw) finding.evidence.push(ev(file, `depends on ${fwName}`, findLine(text, new RegExp(`^${fwName}\\s*=`, 'm'))));
  const bins = folder.exists('src/main.rs') ? ['src/main.rs'] : [];
  const binDir = folder.sub('src/bin');
  for (const f of binDir?.files ?? []) if (f.endsWith('.rs')) bins.push(`src/bin/${f}`);
  if (Array.isArray(t.bin))
    for (const b of t.bin as { path?: string }[]) if (b.path && folder.exists(b.path)) bins.push(b.path);
  finding.entryFiles = [...new Set(bins)].slice(0, 3).map((b) => folder.rel(b));
  if (bins.length) {
    finding.runnable = true;
    finding.start = {
      command: 'cargo run --release',
      source: 'framework-default',
      evidence: ev(folder.rel(bins[0]), 'binary target'),
    };
    if (fw?.port)
      finding.ports = [
        {
          container: fw.port,
          protocol: 'tcp',
          source: 'framework-default',
          evidence: ev(file, `${fw.name} listens on ${fw.port} by default`),
        },
      ];
    finding.confidence = fw ? 0.9 : 0.75;
  } else {
    finding.runnable = false;
    finding.confidence = 0.4;
  }
  return finding;
}
