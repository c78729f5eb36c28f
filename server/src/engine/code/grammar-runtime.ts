// Loads the tree-sitter WASM runtime once and each language grammar on first use; keeps one parser per language.
// Grammars come from @vscode/tree-sitter-wasm: its ABI 14/15 builds load in web-tree-sitter 0.27, while the
// tree-sitter-wasms 0.1.x builds use the old `dylink` section that 0.27 rejects (checked in both at install time).
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { Language, Parser } from 'web-tree-sitter';
import type { CodeLanguage } from './code-facts';

// The engine runs from tsx (CommonJS), from the esbuild CommonJS bundles in dist/, and possibly from ESM; resolve
// the packages from wherever this module sits so node_modules is found next to the sources or next to dist/.
const localRequire = createRequire(typeof __filename === 'string' ? __filename : `${process.cwd()}/`);

const grammarFile: Record<CodeLanguage, string> = {
  javascript: 'tree-sitter-javascript.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  rust: 'tree-sitter-rust.wasm',
  java: 'tree-sitter-java.wasm',
  ruby: 'tree-sitter-ruby.wasm',
  php: 'tree-sitter-php.wasm',
  csharp: 'tree-sitter-c-sharp.wasm',
  // @vscode/tree-sitter-wasm has no Kotlin; the tree-sitter-grammars package ships an ABI 14 build that loads here.
  kotlin: '@tree-sitter-grammars/tree-sitter-kotlin/tree-sitter-kotlin.wasm',
};

export const allLanguages = Object.keys(grammarFile) as CodeLanguage[];

let runtime: Promise<void> | undefined;
const loading = new Map<CodeLanguage, Promise<void>>();
const parsers = new Map<CodeLanguage, Parser>();
const failures = new Map<CodeLanguage, string>();

function grammarPath(language: CodeLanguage): string {
  const file = grammarFile[language];
  return localRequire.resolve(file.includes('/') ? file : `@vscode/tree-sitter-wasm/wasm/${file}`);
}

function initRuntime(): Promise<void> {
  // Grammars run on V8's baseline WebAssembly compiler only. By default V8 also recompiles the hot lexer and parser
  // functions of each grammar with its optimising compiler on background threads; for the small entry files Kyozo
  // reads that work never pays back, and on a 2-core machine it competes with the walk (a cold `kyozo analyze` of a
  // 200-service tree: 830 -> 480 ms of CPU). Set before the first module compiles; it affects WebAssembly only.
  if (!runtime) setFlagsFromString('--liftoff-only');
  runtime ??= Parser.init({
    locateFile: (name: string) => localRequire.resolve(`web-tree-sitter/${name}`),
  }).catch((err: unknown) => {
    runtime = undefined; // let a later call retry instead of caching the failure forever
    throw new Error(
      `Could not start the tree-sitter WASM runtime (web-tree-sitter): ${String(err)}. ` +
        'Reinstall dependencies with `npm install` so node_modules/web-tree-sitter/web-tree-sitter.wasm exists.',
      { cause: err },
    );
  });
  return runtime;
}

/** Loads one grammar (once). Rejects with an actionable message when the grammar cannot be loaded. */
export function ensureLanguage(language: CodeLanguage): Promise<void> {
  let pending = loading.get(language);
  if (!pending) {
    pending = (async () => {
      await initRuntime();
      let file = grammarFile[language];
      try {
        file = grammarPath(language);
        const grammar = await Language.load(file);
        const parser = new Parser();
        parser.setLanguage(grammar);
        parsers.set(language, parser);
        failures.delete(language);
      } catch (err) {
        loading.delete(language);
        const reason =
          `Could not load the ${language} grammar from ${file}: ${String(err)}. ` +
          'Check that @vscode/tree-sitter-wasm is installed (npm install).';
        failures.set(language, reason);
        throw new Error(reason, { cause: err });
      }
    })();
    loading.set(language, pending);
  }
  return pending;
}

export function parserFor(language: CodeLanguage): Parser | undefined {
  return parsers.get(language);
}

export function loadFailure(language: CodeLanguage): string | undefined {
  return failures.get(language);
}
