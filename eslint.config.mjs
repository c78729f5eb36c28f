import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = (why) => ({ paths: [{ name: 'vscode', message: why }], patterns: [] });
const ENGINE = {
  paths: [{ name: 'vscode', message: 'The engine runs in the CLI and tests too: no editor API here.' }],
  patterns: [
    {
      regex: '^vscode-(languageserver|languageclient|jsonrpc)',
      message: 'The engine speaks plain data; server/src/lsp maps it to LSP.',
    },
    { regex: '(^|/)(lsp|cli|mcp)(/|$)', message: 'The engine is imported by its adapters, never the other way.' },
  ],
};
// '../engine/deploy' is the orchestrator's own entry: it loads the Docker client, which `kyozo analyze` must not.
const ADAPTER = {
  ...noVscode('The server runs outside VS Code: no editor API here.'),
  patterns: [
    {
      regex: '(^|/)engine/(?!deploy$).',
      message: "Import the engine through server/src/engine/index.ts ('../engine'); export what is missing there.",
    },
  ],
};
const EXTENSION = {
  paths: [],
  patterns: [
    {
      regex: '(^|/)server/src/(engine|lsp|cli|mcp)(/|$)',
      message: 'The extension is a thin client: it talks to the language server through server/src/protocol.ts.',
    },
  ],
};
const WEBVIEW = {
  ...noVscode('The webview talks to the extension only by postMessage.'),
  patterns: [
    { regex: '^node:', message: 'The webview runs in a browser: no Node.js modules.' },
    { regex: '(^|/)server/src/(engine|lsp|cli|mcp)(/|$)', message: 'The webview reads only server/src/protocol.ts.' },
  ],
};
/** Detection and compose import each read manifests; what both need lives in ../parse, not in each other. */
const notFrom = (sibling) => ({
  regex: `^\\.\\./${sibling}(/|$)`,
  message: `Do not import ../${sibling} here: move what both need to server/src/engine/parse.`,
});
/** One no-restricted-imports entry per folder: a later entry replaces an earlier one's rule, so extras are merged. */
const restrictImports = (files, base, extra = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths: base.paths, patterns: [...base.patterns, ...extra] }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', 'test/realworld/**', '.vscode-test/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  // Who may import whom (docs/architecture.md): data flows one way, engine → lsp/cli → extension.
  restrictImports(['server/src/engine/**/*.ts'], ENGINE),
  restrictImports(['server/src/engine/detect/**/*.ts'], ENGINE, [notFrom('compose')]),
  restrictImports(['server/src/engine/compose/**/*.ts'], ENGINE, [notFrom('detect')]),
  restrictImports(['server/src/lsp/**/*.ts', 'server/src/cli/**/*.ts', 'server/src/mcp/**/*.ts'], ADAPTER),
  restrictImports(['extension/src/**/*.ts'], EXTENSION),
  restrictImports(['webviews/**/*.ts'], WEBVIEW),
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
