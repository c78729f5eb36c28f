// Code readers: parse one source file with a tree-sitter WASM grammar and pull out what deployment needs
// (listen ports, env reads, outbound URLs, HTTP routes, imports). The engine calls readCode on entry-point files.
import type { Node } from 'web-tree-sitter';
import { emptyFacts, type CodeFacts, type CodeLanguage } from './code-facts';
import { FactSink } from './fact-sink';
import { allLanguages, ensureLanguage, loadFailure, parserFor } from './grammar-runtime';
import { readJavaScript } from './javascript-reader';
import { readPython } from './python-reader';
import { readGo } from './go-reader';
import { readRust } from './rust-reader';
import { readJava } from './java-reader';
import { readRuby } from './ruby-reader';
import { readPhp } from './php-reader';
import { readCSharp } from './csharp-reader';
import { readKotlin } from './kotlin-reader';
import { longRunningMarker } from './program-lifetime';

export * from './code-facts';
export { ensureLanguage };

/** Files above this size are skipped: entry points are small, and a generated bundle says nothing useful. */
export const maxSourceBytes = 256 * 1024;
/** A parse that takes longer than this is cancelled (pathological input); the file then yields no facts. */
const parseBudgetMs = 250;
/** Below this size a parse is fast whatever the content, so the (measurable) progress callback is not installed. */
const watchedParseBytes = 64 * 1024;

const readers: Record<CodeLanguage, (root: Node, sink: FactSink, source: string) => void> = {
  javascript: readJavaScript,
  typescript: readJavaScript,
  tsx: readJavaScript,
  python: readPython,
  go: readGo,
  rust: readRust,
  java: readJava,
  ruby: readRuby,
  php: readPhp,
  csharp: readCSharp,
  kotlin: readKotlin,
};

const byExtension: Record<string, CodeLanguage> = {
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.py': 'python',
  '.go': 'go',
  '.rs': 'rust',
  '.java': 'java',
  '.rb': 'ruby',
  '.php': 'php',
  '.cs': 'csharp',
  '.kt': 'kotlin',
};

/** The grammars most repositories need, loaded by initCodeReaders; the rest load on first ensureLanguage. */
const commonLanguages: CodeLanguage[] = ['javascript', 'typescript', 'tsx', 'python', 'go', 'rust'];

/**
 * Loads the WASM runtime and the common grammars (idempotent; concurrent calls share one load).
 * Pass `languages` to load others too, e.g. `initCodeReaders(allCodeLanguages)`.
 */
export async function initCodeReaders(languages: readonly CodeLanguage[] = commonLanguages): Promise<void> {
  await Promise.all(languages.map((l) => ensureLanguage(l)));
}

export const allCodeLanguages: readonly CodeLanguage[] = allLanguages;

export function languageForFile(path: string): CodeLanguage | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/') || path.endsWith('.d.ts')) return undefined;
  return byExtension[path.slice(dot).toLowerCase()];
}

export function codeReadersReady(language: CodeLanguage): boolean {
  return parserFor(language) !== undefined;
}

/** Why a language is not ready (its load error), if it failed to load. */
export function codeReaderProblem(language: CodeLanguage): string | undefined {
  return loadFailure(language);
}

/**
 * Reads one file. Synchronous once the language is loaded (see initCodeReaders / ensureLanguage); returns empty
 * facts when it is not loaded, when the source is larger than maxSourceBytes, or when parsing is cancelled.
 * Never throws: broken code gives the facts tree-sitter could still recover.
 */
export function readCode(language: CodeLanguage, source: string): CodeFacts {
  const parser = parserFor(language);
  if (
    !parser ||
    typeof source !== 'string' ||
    source.length > maxSourceBytes ||
    (source.length * 3 > maxSourceBytes && Buffer.byteLength(source, 'utf8') > maxSourceBytes)
  )
    return emptyFacts();
  const sink = new FactSink();
  const deadline = performance.now() + parseBudgetMs;
  let tree;
  try {
    tree =
      source.length > watchedParseBytes
        ? parser.parse(source, null, { progressCallback: () => performance.now() > deadline })
        : parser.parse(source);
    if (!tree) {
      parser.reset();
      return emptyFacts();
    }
    readers[language](tree.rootNode, sink, source);
  } catch {
    // A reader bug or an odd tree must not stop the analysis: keep what was found before the failure.
  } finally {
    tree?.delete();
  }
  const facts = sink.finish();
  const marker = longRunningMarker(source);
  if (marker) facts.longRunning = marker;
  return facts;
}
