// What a host shares, on a real folder: .gitignore (nested, with a re-include) and kyozo.ignore patterns, links
// inside and outside the folder, a binary, bytes that are not UTF-8, a 2 MiB file, a byte-order mark, a FIFO; and
// the atomic, confined write that brings a remote edit to disk.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as Y from 'yjs';
import {
  HostFileError,
  HostIgnore,
  readHostFile,
  scanHostFiles,
  shareHostFiles,
  writeHostFile,
} from '../../extension/src/share/host-files';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-share-host-')));
after(() => rmSync(base, { recursive: true, force: true }));

function workspace(): { root: string; outside: string } {
  const root = mkdtempSync(join(base, 'ws-'));
  const outside = mkdtempSync(join(base, 'outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'password=hunter2\n');
  const files: Record<string, string | Buffer> = {
    '.gitignore': 'dist/\n*.log\n!keep.log\n',
    'README.md': '# demo\n',
    'src/app.ts': 'export const app = 1;\n',
    'src/.gitignore': 'generated.ts\n',
    'src/generated.ts': 'ignored by the nested .gitignore\n',
    'dist/bundle.js': 'ignored folder\n',
    'debug.log': 'ignored\n',
    'keep.log': 're-included\n',
    'fixtures/big.json': '{}\n',
    'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]),
    'latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), // "café" in Latin-1: not UTF-8
    'bom.txt': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('with a BOM\n')]),
    'emoji.md': 'smile 😀\r\nsecond line\r\n',
    '.git/config': '[core]\n',
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  writeFileSync(join(root, 'huge.txt'), Buffer.alloc(2 * 1024 * 1024, 'a'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(outside, join(root, 'leakdir'));
  symlinkSync('src/app.ts', join(root, 'app-link.ts'));
  symlinkSync('src', join(root, 'src-link'));
  symlinkSync('does-not-exist', join(root, 'dangling'));
  execFileSync('mkfifo', [join(root, 'pipe')]);
  return { root, outside };
}

test('the walk shares text files, honours .gitignore and kyozo.ignore, and lists the rest with a reason', () => {
  const { root } = workspace();
  const scan = scanHostFiles(root, { ignore: ['fixtures/'] });
  const byPath = new Map(scan.files.map((f) => [f.path, f]));
  const shared = scan.files.filter((f) => f.text !== undefined).map((f) => f.path);
  assert.deepEqual(shared.sort(), [
    '.gitignore',
    'README.md',
    'app-link.ts',
    'bom.txt',
    'emoji.md',
    'keep.log',
    'src/.gitignore',
    'src/app.ts',
  ]);
  for (const gone of [
    'dist',
    'dist/bundle.js',
    'debug.log',
    'src/generated.ts',
    'fixtures',
    'fixtures/big.json',
    '.git',
    '.git/config',
  ])
    assert.equal(byPath.has(gone), false, `${gone} is ignored`);
  const reason = (p: string) => byPath.get(p)?.excluded?.reason;
  assert.equal(reason('image.png'), 'binary');
  assert.match(byPath.get('image.png')!.excluded!.detail, /NUL byte/);
  assert.equal(reason('latin1.txt'), 'binary');
  assert.match(byPath.get('latin1.txt')!.excluded!.detail, /not valid UTF-8/);
  assert.equal(reason('huge.txt'), 'too-large');
  assert.equal(byPath.get('huge.txt')!.size, 2 * 1024 * 1024);
  assert.match(byPath.get('huge.txt')!.excluded!.detail, /2\.0 MiB, over the 1\.0 MiB shared/);
  assert.equal(reason('leak.txt'), 'outside-workspace');
  assert.equal(reason('leakdir'), 'outside-workspace');
  assert.equal(reason('src-link'), 'linked-folder');
  assert.equal(reason('dangling'), 'broken-link');
  assert.equal(reason('pipe'), 'not-a-regular-file');
  assert.equal(byPath.get('app-link.ts')!.text, 'export const app = 1;\n', 'a link inside the folder is read');
  assert.equal(byPath.get('bom.txt')!.text, 'with a BOM\n');
  assert.equal(byPath.get('bom.txt')!.bom, true);
  assert.equal(byPath.get('emoji.md')!.text, 'smile 😀\r\nsecond line\r\n', 'CRLF kept as it is');
  assert.ok(!scan.files.some((f) => f.text?.includes('hunter2')), 'nothing outside the folder is read');
  assert.equal(scan.shared, 8);
  assert.equal(scan.excluded, 8);
});

test('shareHostFiles puts the scan into the room document: texts for shared files, reasons for the rest', () => {
  const { root } = workspace();
  const w = new WorkspaceDoc(new Y.Doc(), 'host');
  shareHostFiles(w, scanHostFiles(root));
  assert.equal(w.layoutVersion(), 1);
  assert.equal(w.textOf('src/app.ts')?.toString(), 'export const app = 1;\n');
  assert.equal(w.entry('huge.txt')?.excluded?.reason, 'too-large');
  assert.equal(w.textOf('huge.txt'), undefined);
  assert.equal(w.entry('src-link')?.kind, 'directory');
  assert.equal(w.entry('bom.txt')?.bom, true);
  assert.equal(w.size('bom.txt'), statSync(join(root, 'bom.txt')).size);
});

test('readHostFile follows the same rules for one path; a path under a link that leads outside is refused', () => {
  const { root } = workspace();
  const ig = new HostIgnore(realpathSync(root), ['fixtures/']);
  assert.equal(readHostFile(root, 'src/app.ts', { ignore: ig }).text, 'export const app = 1;\n');
  assert.throws(
    () => readHostFile(root, 'leakdir/secret.txt', { ignore: ig }),
    (e: HostFileError) => e.reason === 'outside-workspace' && /outside the workspace folder/.test(e.message),
  );
  assert.throws(
    () => readHostFile(root, 'debug.log', { ignore: ig }),
    (e: HostFileError) => e.reason === 'ignored',
  );
  assert.throws(
    () => readHostFile(root, 'nope.txt', { ignore: ig }),
    (e: HostFileError) => e.reason === 'missing',
  );
  assert.throws(() => readHostFile(root, '../x', { ignore: ig }), /leaves the workspace folder/);
});

test('writeHostFile: atomic through a temporary file, keeps the mode and the BOM, refuses a link outside', () => {
  const { root, outside } = workspace();
  chmodSync(join(root, 'src/app.ts'), 0o600);
  writeHostFile(root, 'src/app.ts', 'export const app = 2;\n');
  assert.equal(readFileSync(join(root, 'src/app.ts'), 'utf8'), 'export const app = 2;\n');
  assert.equal(statSync(join(root, 'src/app.ts')).mode & 0o777, 0o600);
  assert.deepEqual(
    readdirSync(join(root, 'src')).filter((n) => n.includes('kyozo-tmp')),
    [],
    'no temporary file left',
  );
  writeHostFile(root, 'bom.txt', 'changed\n', { bom: true });
  assert.deepEqual([...readFileSync(join(root, 'bom.txt')).subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  writeHostFile(root, 'new/dir/file.txt', 'created\n');
  assert.equal(readFileSync(join(root, 'new/dir/file.txt'), 'utf8'), 'created\n');
  assert.throws(
    () => writeHostFile(root, 'leak.txt', 'x'),
    (e: HostFileError) => e.reason === 'outside-workspace',
  );
  assert.throws(() => writeHostFile(root, 'leakdir/secret.txt', 'x'), /outside the workspace folder/);
  assert.equal(
    readFileSync(join(outside, 'secret.txt'), 'utf8'),
    'password=hunter2\n',
    'the file outside is untouched',
  );
  writeHostFile(root, 'app-link.ts', 'through the link\n');
  assert.equal(readFileSync(join(root, 'src/app.ts'), 'utf8'), 'through the link\n');
});
