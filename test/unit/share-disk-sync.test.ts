// The host's disk and the room's document, on a real folder watched with chokidar, and a guest's Y.Doc joined to
// the host's through real Yjs updates: remote edits, creates, renames and deletes reach disk; edits made on disk by
// another tool reach the guest; a remote insert and a concurrent disk edit both survive.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as Y from 'yjs';
import { DiskSync } from '../../extension/src/share/disk-sync';
import { scanHostFiles, shareHostFiles } from '../../extension/src/share/host-files';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-share-disk-')));
after(() => rmSync(base, { recursive: true, force: true }));

async function waitFor(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A host folder shared into a Y.Doc with disk sync running, and a guest's Y.Doc joined to it by updates. */
async function shared(files: Record<string, string>, opts: { writeDelayMs?: number; open?: Set<string> } = {}) {
  const root = mkdtempSync(join(base, 'ws-'));
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  const host = new WorkspaceDoc(new Y.Doc(), 'host');
  shareHostFiles(host, scanHostFiles(root));
  const guestDoc = new Y.Doc();
  Y.applyUpdate(guestDoc, Y.encodeStateAsUpdate(host.doc));
  const guest = new WorkspaceDoc(guestDoc, 'guest');
  host.doc.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(guestDoc, u, 'wire'));
  guestDoc.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(host.doc, u, 'wire'));
  const problems: string[] = [];
  const sync = new DiskSync({
    root,
    workspace: host,
    writeDelayMs: opts.writeDelayMs ?? 20,
    isOpen: (p) => opts.open?.has(p) ?? false,
    onProblem: (m) => problems.push(m),
  });
  await sync.start();
  return { root, host, guest, sync, problems, read: (rel: string) => readFileSync(join(root, rel), 'utf8') };
}

test("a guest's edit reaches the host's disk, and an edit made on disk reaches the guest", async () => {
  const s = await shared({ 'src/app.ts': 'const a = 1;\n' });
  s.guest.textOf('src/app.ts')!.insert(0, '// shared\n');
  await waitFor('the write', () => s.read('src/app.ts') === '// shared\nconst a = 1;\n');
  writeFileSync(join(s.root, 'src/app.ts'), '// shared\nconst a = 2;\n');
  await waitFor(
    'the disk edit in the guest',
    () => s.guest.textOf('src/app.ts')!.toString() === '// shared\nconst a = 2;\n',
  );
  assert.deepEqual(s.problems, []);
  await s.sync.dispose();
});

test('a remote insert at the start and a disk edit at the end, made at once, both remain', async () => {
  const s = await shared({ 'notes.md': 'line one\nline two\n' }, { writeDelayMs: 400 });
  s.guest.textOf('notes.md')!.insert(0, 'REMOTE ');
  // Another tool rewrites the file from what it read before the remote edit was written (400 ms later).
  writeFileSync(join(s.root, 'notes.md'), 'line one\nline two\nDISK\n');
  const want = 'REMOTE line one\nline two\nDISK\n';
  await waitFor('both edits on disk', () => s.read('notes.md') === want);
  await waitFor('both edits in the guest', () => s.guest.textOf('notes.md')!.toString() === want);
  assert.equal(s.host.textOf('notes.md')!.toString(), want);
  assert.ok(s.sync.stats.merged >= 1, JSON.stringify(s.sync.stats));
  await s.sync.dispose();
});

test("a guest creates, renames and deletes files and folders; the host's disk follows", async () => {
  const s = await shared({ 'README.md': '# r\n' });
  s.guest.createFile('docs/new.md', { text: 'created by the guest\n' });
  await waitFor('the new file', () => existsSync(join(s.root, 'docs/new.md')));
  assert.equal(s.read('docs/new.md'), 'created by the guest\n');
  s.guest.rename('docs/new.md', 'docs/renamed.md');
  await waitFor(
    'the rename',
    () => existsSync(join(s.root, 'docs/renamed.md')) && !existsSync(join(s.root, 'docs/new.md')),
  );
  s.guest.textOf('docs/renamed.md')!.insert(0, '> ');
  await waitFor('the edit after the rename', () => s.read('docs/renamed.md') === '> created by the guest\n');
  s.guest.rename('docs', 'manual');
  await waitFor(
    'the folder rename',
    () => existsSync(join(s.root, 'manual/renamed.md')) && !existsSync(join(s.root, 'docs')),
  );
  s.guest.delete('manual', { recursive: true });
  await waitFor('the delete', () => !existsSync(join(s.root, 'manual')));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.guest.entry('manual'), undefined, 'the watcher did not bring the folder back');
  assert.deepEqual(s.problems, []);
  await s.sync.dispose();
});

test("files created and deleted on the host's disk appear in and leave the guest's tree", async () => {
  const s = await shared({ 'a.txt': 'a\n' });
  mkdirSync(join(s.root, 'lib'));
  writeFileSync(join(s.root, 'lib/b.txt'), 'made by a tool\n');
  await waitFor('b.txt in the guest', () => s.guest.textOf('lib/b.txt')?.toString() === 'made by a tool\n');
  writeFileSync(join(s.root, 'lib/blob.bin'), Buffer.from([1, 0, 2]));
  await waitFor('the binary listed', () => s.guest.entry('lib/blob.bin')?.excluded?.reason === 'binary');
  unlinkSync(join(s.root, 'a.txt'));
  await waitFor('a.txt gone from the guest', () => s.guest.entry('a.txt') === undefined);
  await s.sync.dispose();
});

test("a file open in the host's editor is left to its binding: remote edits are not written by disk sync", async () => {
  const open = new Set(['open.txt']);
  const s = await shared({ 'open.txt': 'open\n', 'closed.txt': 'closed\n' }, { open });
  s.guest.textOf('open.txt')!.insert(0, 'x');
  s.guest.textOf('closed.txt')!.insert(0, 'x');
  await waitFor('closed.txt written', () => s.read('closed.txt') === 'xclosed\n');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.read('open.txt'), 'open\n');
  open.delete('open.txt');
  s.sync.resume('open.txt'); // its editor closed without saving: the room's text is written
  await waitFor('open.txt written after close', () => s.read('open.txt') === 'xopen\n');
  await s.sync.dispose();
});
