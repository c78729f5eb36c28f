// The reader API: every claimed language loads and reads, broken or hostile input never throws, size caps hold,
// extension mapping, and the esbuild CommonJS bundle (how the CLI and language server ship) finds the WASM files.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import {
  allCodeLanguages,
  codeReadersReady,
  ensureLanguage,
  initCodeReaders,
  languageForFile,
  maxSourceBytes,
  readCode,
  type CodeLanguage,
} from '../../server/src/engine/code';

// One listening snippet per language: proves the grammar loads and the reader runs end to end.
const listenSnippet: Record<CodeLanguage, string> = {
  javascript: 'app.listen(3000);',
  typescript: 'const port: number = 3000;\napp.listen(port);',
  tsx: 'app.listen(3000);\nconst x = <div />;',
  python: 'app.run(port=3000)',
  go: 'package main\nfunc main() { http.ListenAndServe(":3000", nil) }',
  rust: 'fn main() { let l = TcpListener::bind("0.0.0.0:3000"); }',
  java: 'class A { void m() { server.setPort(3000); } }',
  ruby: 'set :port, 3000',
  php: '<?php\n$server = 1;\nRoute::get("/health", fn () => "ok");',
  csharp: 'app.Run("http://0.0.0.0:3000");',
  kotlin: 'fun main() { embeddedServer(Netty, port = 3000) { }.start(wait = true) }',
};

const garbage = [
  '',
  '\u0000\u0001\u0002\uFFFD',
  '((((((((((((((((((((((((((((((',
  'listen(((( app.listen(3000',
  '}'.repeat(5000),
  '"unterminated string http://x',
  'app.listen(99999999999999999999999)',
  '\uD800 lone surrogate \uDFFF',
  'const 😀 = "emoji"; app.listen(3001)',
  'a('.repeat(3000),
];

before(async () => {
  await initCodeReaders(allCodeLanguages);
});

describe('code readers: API', () => {
  it('loads and reads every claimed language', () => {
    for (const language of allCodeLanguages) {
      assert.equal(codeReadersReady(language), true, `${language} grammar loaded`);
      const facts = readCode(language, listenSnippet[language]);
      if (language === 'php')
        assert.deepEqual(
          facts.routes.map((r) => r.path),
          ['/health'],
          language,
        );
      else
        assert.deepEqual(
          facts.ports.map((p) => p.port),
          [3000],
          language,
        );
    }
  });

  it('initCodeReaders and ensureLanguage are idempotent', async () => {
    await Promise.all([initCodeReaders(), initCodeReaders(), ensureLanguage('go'), ensureLanguage('go')]);
    assert.equal(codeReadersReady('go'), true);
  });

  it('never throws on broken or hostile input and still returns well-formed facts', () => {
    for (const language of allCodeLanguages) {
      for (const source of garbage) {
        const facts = readCode(language, source);
        for (const key of ['ports', 'envReads', 'urls', 'routes', 'imports'] as const) {
          assert.ok(Array.isArray(facts[key]), `${language}: ${key} is an array`);
        }
        for (const p of facts.ports) assert.ok(p.port >= 1 && p.port <= 65535, `${language}: port ${p.port} in range`);
      }
    }
    // Broken code around a valid listen still yields the listen (partial facts).
    assert.deepEqual(
      readCode('javascript', 'function (( {\napp.listen(4000);\n').ports.map((p) => p.port),
      [4000],
    );
    assert.deepEqual(
      readCode('python', 'def broken(:\napp.run(port=5005)\n').ports.map((p) => p.port),
      [5005],
    );
    assert.deepEqual(readCode('javascript', readCode as unknown as string).ports, []); // not a string
  });

  it('skips files above the size cap and caps lists for huge generated files', () => {
    const big = `app.listen(3000);\n${'// filler\n'.repeat(Math.ceil(maxSourceBytes / 10))}`;
    assert.deepEqual(readCode('javascript', big).ports, []);
    const manyUrls = Array.from({ length: 2000 }, (_, i) => `const u${i} = "http://svc${i}:80/";`).join('\n');
    const facts = readCode('javascript', manyUrls);
    assert.equal(facts.urls.length, 200);
    assert.deepEqual(facts.urls[0], { url: 'http://svc0:80/', line: 1 });
  });

  it('maps file extensions to languages', () => {
    const cases: [string, CodeLanguage | undefined][] = [
      ['server.js', 'javascript'],
      ['a/b/index.mjs', 'javascript'],
      ['x.cjs', 'javascript'],
      ['App.jsx', 'javascript'],
      ['main.ts', 'typescript'],
      ['x.mts', 'typescript'],
      ['x.cts', 'typescript'],
      ['Page.tsx', 'tsx'],
      ['app.py', 'python'],
      ['main.go', 'go'],
      ['src/main.rs', 'rust'],
      ['App.java', 'java'],
      ['config.ru.rb', 'ruby'],
      ['index.php', 'php'],
      ['Program.cs', 'csharp'],
      ['MAIN.PY', 'python'],
      ['types.d.ts', undefined],
      ['Main.kt', 'kotlin'],
      ['README.md', undefined],
      ['Makefile', undefined],
      ['dir.js/file', undefined],
      ['.env', undefined],
    ];
    for (const [path, language] of cases) assert.equal(languageForFile(path), language, path);
  });
});

describe('code readers: bundled like dist/*.js', () => {
  it('finds the runtime and grammar WASM files from an esbuild CommonJS bundle', async () => {
    const root = resolve(import.meta.dirname ?? __dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'kyozo-code-bundle-'));
    try {
      // Same shape as esbuild.mjs: cjs, node platform, the WASM packages external and resolved from node_modules.
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(
        join(dir, 'entry.ts'),
        [
          `import { initCodeReaders, readCode } from ${JSON.stringify(join(root, 'server/src/engine/code'))};`,
          "initCodeReaders(['go']).then(() => console.log(JSON.stringify(readCode('go', 'package m\\nfunc f() { r.Run(\":8088\") }'))));",
        ].join('\n'),
      );
      await esbuild.build({
        entryPoints: [join(dir, 'entry.ts')],
        outfile: join(dir, 'dist', 'cli.js'),
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        logLevel: 'silent',
        external: ['web-tree-sitter', '@vscode/tree-sitter-wasm'],
      });
      const out = execFileSync(process.execPath, [join(dir, 'dist', 'cli.js')], { cwd: tmpdir(), encoding: 'utf8' });
      assert.deepEqual(
        JSON.parse(out).ports.map((p: { port: number }) => p.port),
        [8088],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
