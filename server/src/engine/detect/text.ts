// Small text helpers shared by detectors: line numbers, JSON/TOML/YAML parsing that turns errors into problems.
import { parse as parseToml } from 'smol-toml';
import type { Evidence, Problem } from '../../protocol';

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** 1-based line of the first match of `pattern`, or undefined. */
export function findLine(text: string, pattern: RegExp | string): number | undefined {
  const idx = typeof pattern === 'string' ? text.indexOf(pattern) : text.search(pattern);
  return idx < 0 ? undefined : lineAt(text, idx);
}

export function ev(file: string, reason: string, line?: number): Evidence {
  return line === undefined ? { file, reason } : { file, line, reason };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export function parseJson<T = unknown>(text: string, file: string): Parsed<T> {
  try {
    return { ok: true, value: JSON.parse(text) as T };
  } catch (err) {
    const msg = (err as Error).message;
    let line: number | undefined;
    const pos = /position (\d+)/.exec(msg);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    if (lc) line = Number(lc[1]);
    else if (pos) line = lineAt(text, Number(pos[1]));
    return {
      ok: false,
      problem: { severity: 'error', code: 'json-parse', file, line, message: `${file}${line ? `:${line}` : ''} is not valid JSON (${msg}); fix it to let Kyozo read this folder.` },
    };
  }
}

export function parseTomlFile<T = Record<string, unknown>>(text: string, file: string): Parsed<T> {
  try {
    return { ok: true, value: parseToml(text) as T };
  } catch (err) {
    const e = err as Error & { line?: number };
    const line = e.line ?? (/line (\d+)/.exec(e.message) ? Number(/line (\d+)/.exec(e.message)![1]) : undefined);
    const first = e.message.split('\n')[0];
    return {
      ok: false,
      problem: { severity: 'error', code: 'toml-parse', file, line, message: `${file}${line ? `:${line}` : ''} is not valid TOML (${first}); fix it to let Kyozo read this folder.` },
    };
  }
}

/** Ports named in a command line: `PORT=4000`, `--port 8080`, `--port=8080`, `-p 3000`, `0.0.0.0:8000`, `--bind :8000`. */
export function portsInCommand(command: string): { port: number; reason: string }[] {
  const out: { port: number; reason: string }[] = [];
  const add = (v: string, reason: string) => {
    const n = Number(v);
    if (Number.isInteger(n) && n > 0 && n < 65536 && !out.some((p) => p.port === n)) out.push({ port: n, reason });
  };
  for (const m of command.matchAll(/\bPORT=(\d{2,5})\b/g)) add(m[1], `PORT=${m[1]}`);
  for (const m of command.matchAll(/(?:^|\s)--(?:port|listen|http-port|server\.port)[= ](\d{2,5})\b/g)) add(m[1], m[0].trim());
  for (const m of command.matchAll(/(?:^|\s)-p[= ]?(\d{2,5})\b/g)) add(m[1], m[0].trim());
  for (const m of command.matchAll(/(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\])?:(\d{2,5})\b/g)) {
    if (/:\/\//.test(command.slice(Math.max(0, (m.index ?? 0) - 12), m.index))) continue; // part of a URL
    if (m[0].startsWith(':') && !/(?:--bind|-b|runserver|--listen)\s+$/.test(command.slice(0, m.index))) continue;
    add(m[1], m[0]);
  }
  return out;
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|SECRET_?KEY|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|SIGNING_?KEY|CREDENTIALS?)$/i;

/** A literal value written for a secret-looking variable (not an interpolation, not empty, not a placeholder). */
export function looksLikeSecretLiteral(name: string, value: string | undefined): boolean {
  if (!value || !SECRET_NAME.test(name)) return false;
  if (/\$\{?[A-Za-z_]/.test(value)) return false;
  if (/^(changeme|change-me|example|xxx+|\*+|<.*>|your[-_].*)$/i.test(value)) return false;
  return value.length >= 4;
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || /(^|_)(PASS|PWD|KEY)$/i.test(name);
}

export function dnsName(raw: string): string {
  const s = raw.toLowerCase().replace(/^@[^/]+\//, '').replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').replace(/-{2,}/g, '-');
  return (s || 'service').slice(0, 63).replace(/-+$/, '');
}

/** The known name closest to a misspelling, when close enough to be a typo (2 edits, more for long names). */
export function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
