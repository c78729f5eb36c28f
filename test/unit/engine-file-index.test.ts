import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { FileIndex } from '../../server/src/engine/scan/file-index';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kyozo-index-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('nested .gitignore files, negation and default ignores decide what is walked', () => {
  const root = tree({
    '.gitignore': 'generated/\n*.log\n',
    'app/package.json': '{}',
    'app/node_modules/x/package.json': '{}',
    'app/.gitignore': 'tmp/\n!keep.log\n',
    'app/tmp/package.json': '{}',
    'generated/package.json': '{}',
    'svc/.venv-custom/pyvenv.cfg': 'home = /usr',
    'svc/.venv-custom/lib/site.py': '',
    'svc/requirements.txt': 'flask',
  });
  const index = new FileIndex(root, { extraIgnores: ['svc/skipme'] });
  index.build();
  assert.ok(index.folder('app'));
  assert.equal(index.folder('app/node_modules'), undefined, 'node_modules is never walked');
  assert.equal(index.folder('app/tmp'), undefined, 'nested .gitignore applies to its folder');
  assert.equal(index.folder('generated'), undefined, 'root .gitignore applies below');
  assert.equal(index.folder('svc/.venv-custom'), undefined, 'a virtualenv is recognised by pyvenv.cfg');
  const app = index.folder('app')!;
  assert.equal(index.isIgnored(app, 'debug.log'), true);
  assert.equal(index.isIgnored(app, 'keep.log'), false, 'negation in the nested file re-includes');
});

test('refresh picks up new and removed folders and a changed .gitignore', () => {
  const root = tree({ 'a/package.json': '{}', 'b/go.mod': 'module b' });
  const index = new FileIndex(root);
  index.build();
  fs.mkdirSync(path.join(root, 'c/src'), { recursive: true });
  fs.writeFileSync(path.join(root, 'c/src/main.rs'), 'fn main() {}');
  const added = index.refresh('.');
  assert.deepEqual(added.added.sort(), ['c', 'c/src']);
  assert.deepEqual(index.folder('c/src')!.files, ['main.rs']);
  fs.rmSync(path.join(root, 'b'), { recursive: true });
  assert.deepEqual(index.refresh('.').removed, ['b']);
  assert.equal(index.folder('b'), undefined);
  fs.writeFileSync(path.join(root, '.gitignore'), 'a/\n');
  index.refresh('.', true);
  assert.equal(index.folder('a'), undefined, 'a new .gitignore hides the folder');
});

test('reads are capped and oversized files become problems; symlink loops are reported, not followed', () => {
  const root = tree({ 'big/package.json': `{"name":"x","pad":"${'x'.repeat(4096)}"}` });
  fs.symlinkSync('..', path.join(root, 'big', 'loop'));
  const index = new FileIndex(root, { maxFileBytes: 1024 });
  index.build();
  const r = index.read('big/package.json');
  assert.equal(r.truncated, true);
  assert.equal(r.text!.length, 1024);
  assert.ok(index.problems.some((p) => p.code === 'file-too-large' && p.file === 'big/package.json'));
  assert.ok(index.problems.some((p) => p.code === 'symlink-loop' && p.file === 'big/loop'));
  assert.equal(index.folder('big/loop'), undefined);
  assert.equal(index.relative('/etc/passwd'), undefined, 'paths outside the root are refused');
});
