// The shared workspace's Y.Doc layout: paths, create / rename / delete as tree operations that keep each file's
// Y.Text, and what a peer sees of them through real Yjs updates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import {
  isNormalSharePath,
  normalizeSharePath,
  SharePathError,
  ShareTreeError,
  WorkspaceDoc,
  type TreeChange,
} from '../../extension/src/share/workspace-doc';

/** Two documents joined by their updates, as the relay would join them; `held` keeps b's updates back. */
function pair(): { a: WorkspaceDoc; b: WorkspaceDoc; hold: () => () => void } {
  const da = new Y.Doc();
  const db = new Y.Doc();
  let held: Uint8Array[] | null = null;
  da.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(db, u, 'wire'));
  db.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin === 'wire') return;
    if (held) held.push(u);
    else Y.applyUpdate(da, u, 'wire');
  });
  const hold = () => {
    held = [];
    return () => {
      const out = held!;
      held = null;
      for (const u of out) Y.applyUpdate(da, u, 'wire');
    };
  };
  return { a: new WorkspaceDoc(da, 'a'), b: new WorkspaceDoc(db, 'b'), hold };
}

test('paths: relative, normalised; absolute, .., backslash, NUL and empty are refused with the path named', () => {
  assert.equal(normalizeSharePath('src//a/./b.ts'), 'src/a/b.ts');
  assert.equal(normalizeSharePath('./README.md/'), 'README.md');
  for (const bad of ['', '/etc/passwd', 'C:/x', 'c:x', 'a/../../b', '..', 'a\\b', 'a\0b', '.', './']) {
    assert.throws(() => normalizeSharePath(bad), SharePathError, JSON.stringify(bad));
  }
  assert.throws(() => normalizeSharePath('../x'), /leaves the workspace folder/);
  assert.throws(() => normalizeSharePath('/x'), /is absolute; give it relative/);
  assert.equal(isNormalSharePath('a/b'), true);
  assert.equal(isNormalSharePath('a//b'), false);
  assert.equal(isNormalSharePath(3), false);
});

test('create makes the folders above a file; a file under a file, or over a folder, is refused', () => {
  const w = new WorkspaceDoc(new Y.Doc());
  w.createFile('src/lib/a.ts', { text: 'export const a = 1;\n' });
  assert.deepEqual(
    w.list().map((e) => [e.path, e.entry.kind]),
    [
      ['src', 'directory'],
      ['src/lib', 'directory'],
      ['src/lib/a.ts', 'file'],
    ],
  );
  assert.equal(w.textOf('src/lib/a.ts')?.toString(), 'export const a = 1;\n');
  assert.equal(w.size('src/lib/a.ts'), 20);
  assert.deepEqual(
    w.children('src').map((c) => c.name),
    ['lib'],
  );
  assert.throws(
    () => w.createFile('src/lib/a.ts/x'),
    (e: ShareTreeError) => e.code === 'not-a-directory',
  );
  assert.throws(
    () => w.createFile('src/lib'),
    (e: ShareTreeError) => e.code === 'is-a-directory',
  );
  assert.throws(
    () => w.createFile('src/lib/a.ts'),
    (e: ShareTreeError) => e.code === 'exists',
  );
  w.createFile('big.bin', { excluded: { reason: 'too-large', detail: '2 MiB' }, size: 2 * 1024 * 1024 });
  assert.equal(w.textOf('big.bin'), undefined);
  assert.equal(w.size('big.bin'), 2 * 1024 * 1024);
});

test('rename moves the entry and keeps the Y.Text: an edit made meanwhile by a peer lands in the renamed file', () => {
  const { a, b, hold } = pair();
  a.createFile('notes/todo.md', { text: 'one\n' });
  const textBefore = a.textOf('notes/todo.md');
  // Concurrent: b types into the file while a renames it (b's update reaches a after the rename).
  const release = hold();
  b.textOf('notes/todo.md')!.insert(4, 'two\n');
  a.rename('notes', 'done');
  release();
  assert.equal(a.textOf('done/todo.md'), textBefore, 'the same Y.Text object');
  assert.equal(a.textOf('done/todo.md')?.toString(), 'one\ntwo\n');
  assert.equal(b.textOf('done/todo.md')?.toString(), 'one\ntwo\n');
  assert.equal(a.entry('notes/todo.md'), undefined);
  assert.deepEqual(
    b.list().map((e) => e.path),
    ['done', 'done/todo.md'],
  );
});

test('a peer sees create, rename (of a file and of a folder) and delete as tree changes', () => {
  const { a, b } = pair();
  const seen: TreeChange[][] = [];
  b.onTreeChange((changes, origin) => {
    assert.equal(origin, 'wire');
    seen.push(changes);
  });
  a.createFile('x.txt', { text: 'x' });
  a.rename('x.txt', 'y.txt');
  a.createFile('dir/sub/z.txt', { text: 'z' });
  a.rename('dir', 'moved');
  a.delete('moved', { recursive: true });
  const flat = seen.map((cs) =>
    cs
      .map((c) => (c.type === 'renamed' ? `renamed ${c.from} -> ${c.to}` : `${c.type} ${c.path}`))
      .sort()
      .join(', '),
  );
  assert.deepEqual(flat, [
    'created x.txt',
    'renamed x.txt -> y.txt',
    'created dir, created dir/sub, created dir/sub/z.txt',
    'renamed dir -> moved',
    'deleted moved, deleted moved/sub, deleted moved/sub/z.txt',
  ]);
  assert.equal(b.texts.size, 1, "the deleted file's text is gone, y.txt's stays");
});

test('delete of a folder needs recursive; overwrite on rename replaces the target and drops its text', () => {
  const w = new WorkspaceDoc(new Y.Doc());
  w.createFile('d/a.txt', { text: 'a' });
  w.createFile('b.txt', { text: 'b' });
  assert.throws(
    () => w.delete('d'),
    (e: ShareTreeError) => e.code === 'not-empty',
  );
  assert.throws(
    () => w.rename('d/a.txt', 'b.txt'),
    (e: ShareTreeError) => e.code === 'exists',
  );
  w.rename('d/a.txt', 'b.txt', { overwrite: true });
  assert.equal(w.textOf('b.txt')?.toString(), 'a');
  assert.equal(w.texts.size, 1);
  assert.throws(() => w.rename('d', 'd/e'), /into itself/);
  assert.throws(
    () => w.delete('nope'),
    (e: ShareTreeError) => e.code === 'not-found',
  );
});

test('entries a peer writes under a bad path or in a bad shape are skipped and reported, not used', () => {
  const w = new WorkspaceDoc(new Y.Doc());
  w.createFile('ok.txt', { text: 'ok' });
  w.files.set('../../etc/passwd', { kind: 'file', size: 1 });
  w.files.set('/abs', { kind: 'file', size: 1 });
  w.files.set('weird', { kind: 'socket', size: 1 } as never);
  assert.deepEqual(
    w.list().map((e) => e.path),
    ['ok.txt'],
  );
  assert.equal(w.problems.length, 3);
  assert.throws(() => w.entry('../../etc/passwd'), SharePathError);
});

test("setText replaces a file's content by a minimal diff", () => {
  const { a, b } = pair();
  a.createFile('f.txt', { text: 'alpha\nbeta\ngamma\n' });
  const before = b.textOf('f.txt')!;
  let edits = 0;
  before.observe((e) => (edits += e.delta.filter((d) => d.insert !== undefined || d.delete !== undefined).length));
  a.setText('f.txt', 'alpha\nBETA\ngamma\n');
  assert.equal(b.textOf('f.txt')!.toString(), 'alpha\nBETA\ngamma\n');
  assert.ok(edits <= 2, `one replace (delete + insert), got ${edits} ops`);
});
