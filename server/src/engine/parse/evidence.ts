// Evidence: what a detector says about a file, with the line it points at. Every fact Kyozo shows carries one.
import type { Evidence } from '../../protocol';

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
