// Offset/line helpers over plain text, so features need no TextDocument implementation.
import type { Position, Range } from 'vscode-languageserver-protocol';

const recent = new Map<string, LineIndex>();

/** A line index for this text, shared by the features that read the same open document. */
export function lineIndexOf(text: string): LineIndex {
  let ix = recent.get(text);
  if (!ix) {
    ix = new LineIndex(text);
    recent.set(text, ix);
    if (recent.size > 8) recent.delete(recent.keys().next().value!);
  }
  return ix;
}

export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  get lineCount(): number {
    return this.starts.length;
  }
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo] };
  }
  offsetAt(p: Position): number {
    if (p.line >= this.starts.length) return this.text.length;
    return Math.min(this.starts[p.line] + p.character, this.lineEnd(p.line));
  }
  range(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }
  lineText(line: number): string {
    return this.text.slice(this.starts[line] ?? this.text.length, this.lineEnd(line));
  }
  lineEnd(line: number): number {
    const next = this.starts[line + 1];
    if (next === undefined) return this.text.length;
    return this.text.charCodeAt(next - 2) === 13 ? next - 2 : next - 1;
  }
  /** The trimmed content of a 0-based line as a range (the whole line when it is blank). */
  lineRange(line: number): Range {
    const l = Math.max(0, Math.min(line, this.starts.length - 1));
    const text = this.lineText(l);
    const lead = text.length - text.trimStart().length;
    const end = text.trimEnd().length;
    return {
      start: { line: l, character: end > lead ? lead : 0 },
      end: { line: l, character: end > lead ? end : text.length },
    };
  }
}

export function contains(range: Range, p: Position): boolean {
  if (p.line < range.start.line || p.line > range.end.line) return false;
  if (p.line === range.start.line && p.character < range.start.character) return false;
  if (p.line === range.end.line && p.character > range.end.character) return false;
  return true;
}

export function overlaps(a: Range, b: Range): boolean {
  return !(before(a.end, b.start) || before(b.end, a.start));
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}
