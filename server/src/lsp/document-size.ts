// The size past which the language server does not read a document: the engine's file cap, so an open file is
// analysed exactly as far as the workspace analysis would read it from disk.
import { DEFAULT_MAX_FILE_BYTES } from '../engine';

export const MAX_DOCUMENT_BYTES = DEFAULT_MAX_FILE_BYTES;

/** The UTF-8 size of `text` when it is over the cap, else undefined; small texts are never measured. */
export function bytesOverCap(text: string, cap = MAX_DOCUMENT_BYTES): number | undefined {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, and never fewer than 1.
  if (text.length * 3 <= cap) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > cap ? bytes : undefined;
}

/** "30.0 MB > 0.5 MB cap": how far over the cap a document is, for messages. */
export function overCapText(bytes: number, cap = MAX_DOCUMENT_BYTES): string {
  const mb = (n: number) => `${(n / 1_000_000).toFixed(1)} MB`;
  return `${mb(bytes)} > ${mb(cap)} cap`;
}
