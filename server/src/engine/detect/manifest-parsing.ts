// Manifest parsing that turns a syntax error into a problem naming the file and line, so one broken package.json or
// pyproject.toml is reported and the rest of the tree is still analysed.
import { parse as parseToml } from 'smol-toml';
import type { Problem } from '../../protocol';
import { lineAt } from '../parse/evidence';

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
      problem: {
        severity: 'error',
        code: 'json-parse',
        file,
        line,
        message: `${file}${line ? `:${line}` : ''} is not valid JSON (${msg}); fix it to let Kyozo read this folder.`,
      },
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
      problem: {
        severity: 'error',
        code: 'toml-parse',
        file,
        line,
        message: `${file}${line ? `:${line}` : ''} is not valid TOML (${first}); fix it to let Kyozo read this folder.`,
      },
    };
  }
}
