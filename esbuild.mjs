// One entry per artefact. Everything is bundled so the VSIX and the CLI ship only what runs.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {esbuild.BuildOptions} */
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // Native or WASM-carrying packages are loaded from node_modules at run time, never inlined.
  external: [
    'vscode',
    'better-sqlite3',
    'web-tree-sitter',
    'tree-sitter-wasms',
    '@vscode/tree-sitter-wasm',
    'cpu-features',
    'ssh2',
    // Its encoding tables are 4 MB of source: inlined, every start of `kyozo` read and parsed them. It gets a bundle of
    // its own in dist/node_modules (below), where Node resolves it from dist/*.js, loaded only when tokens are counted.
    'gpt-tokenizer',
  ],
};

const artefacts = [
  // The CLI is three bundles: `kyozo analyze` loads only the first; deploy and sync commands load theirs on use.
  { ...node, entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js', define: { KYOZO_SPLIT_CLI: 'true' } },
  { ...node, entryPoints: ['server/src/cli/deploy-commands.ts'], outfile: 'dist/cli-deploy.js' },
  { ...node, entryPoints: ['server/src/cli/sync-commands.ts'], outfile: 'dist/cli-sync.js' },
  // `kyozo mcp` loads the MCP SDK (and, for its actions, the orchestrator) only when it runs.
  { ...node, entryPoints: ['server/src/mcp/mcp-server.ts'], outfile: 'dist/cli-mcp.js' },
  { ...node, entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js' },
  {
    ...node,
    external: [],
    sourcemap: false,
    entryPoints: ['gpt-tokenizer'],
    outfile: 'dist/node_modules/gpt-tokenizer/index.js',
  },
  // The language server checks documents in this worker thread, off the thread that answers requests.
  { ...node, entryPoints: ['server/src/lsp/analysis-worker.ts'], outfile: 'dist/analysis-worker.js' },
  { ...node, entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['sync-server/src/main.ts'], outfile: 'dist/sync-server.js' },
  // The sync server's log writer and signature verifier threads, started from beside dist/sync-server.js and
  // dist/cli-sync.js (sync-server/src/thread-entry.ts).
  { ...node, entryPoints: ['sync-server/src/store/sqlite-writer-thread.ts'], outfile: 'dist/sync-sqlite-writer.js' },
  { ...node, entryPoints: ['sync-server/src/frame-verifier-thread.ts'], outfile: 'dist/sync-frame-verifier.js' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    entryPoints: ['webviews/topology/main.ts'],
    outfile: 'dist/webviews/topology.js',
  },
].filter((a) => existsSync(a.entryPoints[0]) || !a.entryPoints[0].includes('/'));

/** The manifest beside gpt-tokenizer's bundle, so `require('gpt-tokenizer')` from dist/ resolves to it. */
function writeTokenizerManifest() {
  mkdirSync('dist/node_modules/gpt-tokenizer', { recursive: true });
  writeFileSync('dist/node_modules/gpt-tokenizer/package.json', '{ "name": "gpt-tokenizer", "main": "index.js" }\n');
}

/**
 * dockerode opens a BuildKit session with a gRPC service it loads from `${__dirname}/proto/auth.proto`; bundled,
 * __dirname is dist/, so the .proto files go there (without them every BuildKit build from dist/ failed with ENOENT).
 */
function copyDockerodeProtos() {
  cpSync('node_modules/dockerode/lib/proto', 'dist/proto', { recursive: true });
}

if (watch) {
  writeTokenizerManifest();
  copyDockerodeProtos();
  for (const a of artefacts) await (await esbuild.context(a)).watch();
  console.log(`watching ${artefacts.length} artefacts`);
} else {
  if (production) copyRuntimePackages();
  writeTokenizerManifest();
  copyDockerodeProtos();
  await Promise.all(artefacts.map((a) => esbuild.build(a)));
  console.log(`built ${artefacts.map((a) => a.outfile).join(', ')}`);
}

// The externals above are required at run time; for the VSIX (`npm run package`, built with --production) the few
// the language server loads are copied to dist/node_modules, where Node resolves them first. Only what runs:
// no source maps, typings, debug builds, or grammars the code readers do not use.
function copyRuntimePackages() {
  const grammars = ['javascript', 'typescript', 'tsx', 'python', 'go', 'rust', 'java', 'ruby', 'php', 'c-sharp'];
  const keep = (path) => !/\.(map|md|d\.ts|d\.cts)$/.test(path) && !/\/(debug|test|examples|\.github)(\/|$)/.test(path);
  rmSync('dist/node_modules', { recursive: true, force: true });
  for (const pkg of ['web-tree-sitter', 'ssh2', 'asn1', 'safer-buffer', 'bcrypt-pbkdf', 'tweetnacl']) {
    cpSync(`node_modules/${pkg}`, `dist/node_modules/${pkg}`, { recursive: true, filter: keep });
  }
  cpSync(
    'node_modules/@vscode/tree-sitter-wasm/package.json',
    'dist/node_modules/@vscode/tree-sitter-wasm/package.json',
  );
  for (const g of grammars) {
    cpSync(
      `node_modules/@vscode/tree-sitter-wasm/wasm/tree-sitter-${g}.wasm`,
      `dist/node_modules/@vscode/tree-sitter-wasm/wasm/tree-sitter-${g}.wasm`,
    );
  }
  // Kotlin's grammar comes from its own package: @vscode/tree-sitter-wasm has none.
  const kotlin = 'node_modules/@tree-sitter-grammars/tree-sitter-kotlin';
  for (const f of ['package.json', 'tree-sitter-kotlin.wasm']) cpSync(`${kotlin}/${f}`, `dist/${kotlin}/${f}`);
  console.log('copied run-time packages to dist/node_modules');
}
