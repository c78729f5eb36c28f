// Gleam: gleam.toml (name, dependencies, target); wisp on mist, whose port is set in the main module.
import type { PortSpec } from '../../protocol';
import { longRunningMarker } from '../code/program-lifetime';
import { ev, findLine, parseTomlFile } from './text';
import type { Finding, FolderView } from './types';

export function detectGleam(folder: FolderView): Finding | undefined {
  if (!folder.has('gleam.toml')) return undefined;
  const file = folder.rel('gleam.toml');
  const text = folder.read('gleam.toml') ?? '';
  const finding: Finding = {
    detector: 'gleam', type: 'gleam', rank: 5, language: 'gleam', confidence: 0.5, frameworks: [], problems: [],
    evidence: [ev(file, 'gleam.toml declares a Gleam project')], indicators: [file],
  };
  const parsed = parseTomlFile<{ name?: string; target?: string; dependencies?: Record<string, unknown> }>(text, file);
  if (!parsed.ok) {
    finding.problems!.push(parsed.problem);
    finding.confidence = 0.3;
    return finding;
  }
  const name = parsed.value.name;
  finding.packageName = name;
  const deps = Object.keys(parsed.value.dependencies ?? {});
  finding.dependencies = deps.map((d) => ({ name: d, file, line: findLine(text, new RegExp(`^${d}\\s*=`, 'm')) }));
  for (const fw of ['wisp', 'mist']) {
    if (deps.includes(fw)) {
      finding.frameworks!.push(fw);
      finding.evidence.push(ev(file, `depends on ${fw}`, findLine(text, new RegExp(`^${fw}\\s*=`, 'm'))));
    }
  }
  const main = name && folder.exists(`src/${name}.gleam`) ? `src/${name}.gleam` : undefined;
  const source = main ? folder.read(main) ?? '' : '';
  // `pub fn main()` in the module named after the project is what `gleam run` starts.
  if (!main || !/^pub fn main\s*\(/m.test(source)) {
    finding.runnable = false;
    finding.confidence = 0.4;
    return finding;
  }
  const mainLine = findLine(source, /^pub fn main\s*\(/m);
  finding.runnable = true;
  finding.entryFiles = [folder.rel(main)];
  finding.start = { command: 'gleam run', source: 'framework-default', evidence: ev(folder.rel(main), 'pub fn main', mainLine) };
  const ports: PortSpec[] = [];
  const port = /mist\.port\(\s*(\d+)\s*\)/.exec(source);
  if (port) {
    ports.push({
      container: Number(port[1]), protocol: 'tcp', source: 'code',
      evidence: ev(folder.rel(main), `mist.port(${port[1]})`, findLine(source, port[0])),
    });
  } else if (deps.includes('mist')) {
    ports.push({ container: 4000, protocol: 'tcp', source: 'framework-default', evidence: ev(file, 'mist listens on 4000 by default') });
  }
  finding.ports = ports;
  // wisp routes: `["health"] -> ...` inside the router's case on wisp.path_segments.
  const router = ['src/app/router.gleam', `src/${name}/router.gleam`, 'src/router.gleam'].find((f) => folder.exists(f));
  for (const f of [main, ...(router ? [router] : [])]) {
    const t = f === main ? source : folder.read(f) ?? '';
    const m = /\[\s*"(health|healthz|ready|readyz|live|status|ping)"\s*\]\s*->/.exec(t);
    if (m && ports.length) {
      finding.healthCheck = { kind: 'http', path: `/${m[1]}`, port: ports[0].container, evidence: ev(folder.rel(f), `/${m[1]} route`, findLine(t, m[0])) };
      break;
    }
  }
  finding.confidence = ports.length ? 0.9 : 0.75;
  if (!ports.length) {
    const marker = longRunningMarker(source);
    if (marker || /process\.sleep_forever\(\)/.test(source)) {
      finding.worker = true;
      const line = marker?.line ?? findLine(source, 'process.sleep_forever');
      finding.evidence.push(ev(folder.rel(main), `listens on nothing and ${marker?.reason ?? 'sleeps forever'}: a worker`, line));
    } else {
      finding.job = true;
      finding.evidence.push(ev(folder.rel(main), 'listens on nothing and main returns: a job that runs to completion', mainLine));
    }
  }
  return finding;
}
