// Gleam: gleam.toml (name, dependencies, target); wisp on mist, whose port is set in the main module.
import type { PortSpec } from '../../protocol';
import { markProgramKind } from './program-kind';
import { ev, findLine } from '../parse/evidence';
import { parseTomlFile } from './manifest-parsing';
import type { Finding, FolderView } from './types';

interface GleamToml {
  name?: string;
  dependencies?: Record<string, unknown>;
}

const HEALTH_SEGMENT = /\[\s*"(health|healthz|ready|readyz|live|status|ping)"\s*\]\s*->/;

export function detectGleam(folder: FolderView): Finding | undefined {
  if (!folder.has('gleam.toml')) return undefined;
  const file = folder.rel('gleam.toml');
  const text = folder.read('gleam.toml') ?? '';
  const frameworks: string[] = [];
  const finding: Finding = {
    detector: 'gleam',
    type: 'gleam',
    rank: 5,
    language: 'gleam',
    confidence: 0.5,
    frameworks,
    problems: [],
    evidence: [ev(file, 'gleam.toml declares a Gleam project')],
    indicators: [file],
  };
  const parsed = parseTomlFile<GleamToml>(text, file);
  if (!parsed.ok) {
    finding.problems!.push(parsed.problem);
    finding.confidence = 0.3;
    return finding;
  }
  const name = parsed.value.name;
  finding.packageName = name;
  const depLine = (d: string) => findLine(text, new RegExp(`^${d}\\s*=`, 'm'));
  const deps = Object.keys(parsed.value.dependencies ?? {});
  finding.dependencies = deps.map((d) => ({ name: d, file, line: depLine(d) }));
  for (const fw of ['wisp', 'mist']) {
    if (!deps.includes(fw)) continue;
    frameworks.push(fw);
    finding.evidence.push(ev(file, `depends on ${fw}`, depLine(fw)));
  }
  // `gleam run` starts `pub fn main()` of the module named after the project.
  const main = name && folder.exists(`src/${name}.gleam`) ? `src/${name}.gleam` : undefined;
  const source = main ? (folder.read(main) ?? '') : '';
  if (!main || !/^pub fn main\s*\(/m.test(source)) {
    finding.runnable = false;
    finding.confidence = 0.4;
    return finding;
  }
  const mainFile = folder.rel(main);
  const mainLine = findLine(source, /^pub fn main\s*\(/m);
  finding.runnable = true;
  finding.entryFiles = [mainFile];
  const startEvidence = ev(mainFile, 'pub fn main', mainLine);
  finding.start = { command: 'gleam run', source: 'framework-default', evidence: startEvidence };
  const ports: PortSpec[] = [];
  const port = /mist\.port\(\s*(\d+)\s*\)/.exec(source);
  if (port) {
    const evidence = ev(mainFile, `mist.port(${port[1]})`, findLine(source, port[0]));
    ports.push({ container: Number(port[1]), protocol: 'tcp', source: 'code', evidence });
  } else if (deps.includes('mist')) {
    const evidence = ev(file, 'mist listens on 4000 by default');
    ports.push({ container: 4000, protocol: 'tcp', source: 'framework-default', evidence });
  }
  finding.ports = ports;
  // wisp routes: `["health"] -> ...` in the router's case on wisp.path_segments.
  const router = ['src/app/router.gleam', `src/${name}/router.gleam`, 'src/router.gleam'].find((f) => folder.exists(f));
  for (const f of [main, ...(router ? [router] : [])]) {
    const t = f === main ? source : (folder.read(f) ?? '');
    const m = HEALTH_SEGMENT.exec(t);
    if (m && ports.length) {
      const evidence = ev(folder.rel(f), `/${m[1]} route`, findLine(t, m[0]));
      finding.healthCheck = { kind: 'http', path: `/${m[1]}`, port: ports[0].container, evidence };
      break;
    }
  }
  finding.confidence = ports.length ? 0.9 : 0.75;
  if (!ports.length) {
    const sleeps = /process\.sleep_forever\(\)/.exec(source);
    if (sleeps) {
      finding.worker = true;
      const reason = 'listens on nothing and sleeps forever after starting its processes: a worker';
      finding.evidence.push(ev(mainFile, reason, findLine(source, sleeps[0])));
    } else {
      const end = { file: mainFile, line: mainLine, what: 'main returns' };
      markProgramKind(finding, [{ file: mainFile, text: source }], end);
    }
  }
  return finding;
}
