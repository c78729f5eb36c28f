// One entry per artefact. Everything is bundled so the VSIX and the CLI ship only what runs.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

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
  external: ['vscode', 'better-sqlite3', 'web-tree-sitter', 'tree-sitter-wasms', '@vscode/tree-sitter-wasm', 'cpu-features', 'ssh2'],
};

const artefacts = [
  { ...node, entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js' },
  { ...node, entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js' },
  { ...node, entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['sync-server/src/main.ts'], outfile: 'dist/sync-server.js' },
  {
    bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: !production, minify: production,
    logLevel: 'warning', entryPoints: ['webviews/topology/main.ts'], outfile: 'dist/webviews/topology.js',
  },
].filter((a) => existsSync(a.entryPoints[0]));

if (watch) {
  for (const a of artefacts) await (await esbuild.context(a)).watch();
  console.log(`watching ${artefacts.length} artefacts`);
} else {
  await Promise.all(artefacts.map((a) => esbuild.build(a)));
  console.log(`built ${artefacts.map((a) => a.outfile).join(', ')}`);
}
