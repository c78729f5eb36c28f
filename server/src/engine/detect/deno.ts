// Deno: deno.json / deno.jsonc (tasks, imports with jsr: and npm: specifiers), Fresh, Oak and Hono, `Deno.serve`.
import type { PortSpec, StartSpec } from '../../protocol';
// jsonc-parser (VS Code's own) reads deno.jsonc comments and trailing commas; imported through its ESM build, as
// esbuild cannot follow the requires of the UMD one.
import { parse as parseJsonc, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { ev, findLine } from '../parse/evidence';
import { portsInCommand } from './command-ports';
import type { Finding, FolderView } from './types';

interface DenoJson {
  name?: string;
  tasks?: Record<string, string>;
  imports?: Record<string, string>;
  exports?: unknown;
}

const FRAMEWORKS: [RegExp, string][] = [
  [/\$fresh\/|@fresh\/core|jsr:@fresh/, 'fresh'],
  [/@oak\/oak|deno\.land\/x\/oak/, 'oak'],
  [/\bhono\b/, 'hono'],
];
/** `Deno.serve({ port: 8080 }, handler)`, `app.listen({ port: Number(Deno.env.get("PORT") ?? 8000) })`. */
const LISTEN = new RegExp(
  String.raw`(Deno\.serve|\.listen)\s*\(\s*\{[^}]*?\bport\s*:\s*` +
    String.raw`(?:Number\(\s*Deno\.env\.get\(\s*["'](\w+)["']\s*\)\s*\?\?\s*)?["']?(\d{2,5})`,
  's',
);
const ENTRIES = ['main.ts', 'server.ts', 'mod.ts', 'main.js', 'src/main.ts', 'dev.ts'];

export function detectDeno(folder: FolderView): Finding | undefined {
  const manifest = ['deno.json', 'deno.jsonc'].find((f) => folder.has(f));
  if (!manifest) return undefined;
  const file = folder.rel(manifest);
  const text = folder.read(manifest) ?? '';
  const finding: Finding = {
    detector: 'deno',
    type: 'deno',
    rank: 6,
    language: 'typescript',
    confidence: 0.5,
    frameworks: [],
    problems: [],
    evidence: [ev(file, `${manifest} declares a Deno project`)],
    indicators: [file],
  };
  const errors: ParseError[] = [];
  const cfg = (parseJsonc(text, errors, { allowTrailingComma: true }) ?? {}) as DenoJson;
  if (errors.length || typeof cfg !== 'object') {
    const line = errors.length ? findLine(text.slice(0, errors[0].offset + 1), /[^\n]*$/) : undefined;
    finding.problems!.push({
      severity: 'error',
      code: 'json-parse',
      file,
      line,
      message: `${file} is not valid JSON with comments; fix it to let Kyozo read this Deno project.`,
    });
    finding.confidence = 0.3;
    return finding;
  }
  finding.packageName = cfg.name;
  const imports = Object.entries(cfg.imports ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join('\n');
  for (const [re, name] of FRAMEWORKS) {
    if (re.test(imports)) {
      finding.frameworks!.push(name);
      finding.evidence.push(ev(file, `imports ${name}`, findLine(text, re)));
    }
  }
  const tasks = cfg.tasks ?? {};
  const task = ['start', 'serve', 'dev'].find((t) => typeof tasks[t] === 'string');
  let start: StartSpec | undefined;
  const ports: PortSpec[] = [];
  if (task) {
    const line = findLine(text, `"${task}"`);
    start = { command: `deno task ${task}`, source: 'script', evidence: ev(file, `"${task}": "${tasks[task]}"`, line) };
    for (const p of portsInCommand(tasks[task])) {
      const evidence = ev(file, `"${task}" task sets ${p.reason}`, line);
      ports.push({ container: p.port, protocol: 'tcp', source: 'script', evidence });
    }
  }
  const fromTask = task ? /\bdeno\s+(?:run|serve)\s+(?:-\S+\s+)*([\w./-]+\.[jt]sx?)/.exec(tasks[task])?.[1] : undefined;
  const entries = [...new Set([fromTask, ...ENTRIES].map((e) => e?.replace(/^\.\//, '')))].filter(
    (e): e is string => !!e && folder.exists(e),
  );
  finding.entryFiles = entries.slice(0, 3).map((e) => folder.rel(e));
  if (!start && entries.length && !cfg.exports) {
    const evidence = ev(folder.rel(entries[0]), 'entry module');
    start = { command: `deno run -A ${entries[0]}`, source: 'framework-default', evidence };
  }
  // The TypeScript reader does not know Deno's listen calls.
  for (const e of entries) {
    const src = folder.read(e) ?? '';
    const m = LISTEN.exec(src);
    if (m && !ports.some((p) => p.container === Number(m[3]))) {
      const line = findLine(src, m[0].split('\n')[0]);
      const evidence = ev(folder.rel(e), `${m[1].replace(/^\./, '')} on port ${m[3]}`, line);
      const env = m[2] ? { envVar: m[2] } : {};
      ports.push({ container: Number(m[3]), protocol: 'tcp', source: 'code', ...env, evidence });
    }
    if (/\bDeno\.serve\s*\(/.test(src) && !finding.evidence.some((x) => x.reason.startsWith('Deno.serve'))) {
      finding.evidence.push(ev(folder.rel(e), 'Deno.serve starts an HTTP server', findLine(src, 'Deno.serve')));
    }
  }
  const serves = finding.frameworks!.length > 0 || finding.evidence.some((x) => x.reason.startsWith('Deno.serve'));
  if (serves) {
    const evidence = ev(file, 'Deno servers listen on 8000 by default');
    ports.push({ container: 8000, protocol: 'tcp', source: 'framework-default', evidence });
  }
  finding.ports = ports;
  finding.start = start;
  finding.runnable = start ? true : false;
  finding.frontend = finding.frameworks!.includes('fresh');
  finding.confidence = start ? (serves ? 0.9 : 0.75) : 0.4;
  return finding;
}
