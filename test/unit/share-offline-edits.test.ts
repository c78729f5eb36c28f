// Offline edits kept in an encrypted file: written as they are made, restored after a "crash" (the objects dropped
// without any shutdown), refused under another key or room, and, with a real provider and a real sync server on
// 127.0.0.1, sent on reconnect so a peer sees them, the file emptied once the server acknowledged them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as Y from 'yjs';
import { OfflineEdits, OfflineEditsError } from '../../extension/src/share/offline-edits';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';
import {
  createUser,
  openProvider,
  startTestServer,
  syncedPair,
  waitFor,
  type TestServer,
  type TestUser,
} from '../support/sync-harness';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-share-offline-')));
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
before(async () => {
  server = await startTestServer();
  [alice, bob] = await Promise.all([createUser(server), createUser(server)]);
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The host's document as the server holds it, and a guest's copy of it. */
function roomState(): Uint8Array {
  const w = new WorkspaceDoc(new Y.Doc());
  w.createFile('src/app.ts', { text: 'const a = 1;\n' });
  return Y.encodeStateAsUpdate(w.doc);
}

test('edits written, the process "crashes", and a restore brings the text back; the file holds no plaintext', () => {
  const key = randomBytes(32);
  const file = join(dir, 'crash.bin');
  const server = roomState();
  {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, server, 'provider');
    const store = new OfflineEdits(doc, file, { roomId: 'room-1', key, isRemote: (o) => o === 'provider' });
    store.start();
    const w = new WorkspaceDoc(doc);
    w.textOf('src/app.ts')!.insert(0, '// typed offline\n');
    w.createFile('notes.md', { text: 'secret plan\n' });
    // No dispose, no flush: the objects are dropped here.
  }
  assert.ok(!readFileSync(file).includes(Buffer.from('secret plan')), 'sealed, not plaintext');
  assert.equal(statSync(file).mode & 0o777, 0o600);

  // After the restart the server's state arrives first (a restore before it converges the same way, below).
  const doc = new Y.Doc();
  Y.applyUpdate(doc, server, 'provider');
  const store = new OfflineEdits(doc, file, { roomId: 'room-1', key, isRemote: (o) => o === 'provider' });
  assert.equal(store.restore(), 2, 'one update per transaction: the insert, the create');
  const w = new WorkspaceDoc(doc);
  assert.equal(w.textOf('src/app.ts')!.toString(), '// typed offline\nconst a = 1;\n');
  assert.equal(w.textOf('notes.md')!.toString(), 'secret plan\n');

  // Restored before the server's state: Yjs holds the edits until what they build on arrives.
  const early = new Y.Doc();
  const again = new OfflineEdits(early, file, { roomId: 'room-1', key });
  assert.equal(again.restore(), 1, 'kept as one merged record after the first restore');
  Y.applyUpdate(early, server, 'provider');
  assert.equal(new WorkspaceDoc(early).textOf('src/app.ts')!.toString(), '// typed offline\nconst a = 1;\n');
});

test('a record cut short by a crash is ignored; another key or another room is refused and the file set aside', () => {
  const key = randomBytes(32);
  const file = join(dir, 'torn.bin');
  const doc = new Y.Doc();
  const store = new OfflineEdits(doc, file, { roomId: 'room-2', key });
  store.start();
  doc.getText('t').insert(0, 'first ');
  doc.getText('t').insert(6, 'second');
  truncateSync(file, statSync(file).size - 5);
  const back = new Y.Doc();
  assert.equal(new OfflineEdits(back, file, { roomId: 'room-2', key }).restore(), 1);
  assert.equal(back.getText('t').toString(), 'first ');

  assert.throws(
    () => new OfflineEdits(new Y.Doc(), file, { roomId: 'room-2', key: randomBytes(32) }).restore(),
    (e: OfflineEditsError) => /cannot be restored: record 0 does not open under this device's key/.test(e.message),
  );
  assert.ok(existsSync(`${file}.unreadable`) && !existsSync(file), 'moved aside, not deleted');
  writeFileSync(file, readFileSync(`${file}.unreadable`));
  assert.throws(() => new OfflineEdits(new Y.Doc(), file, { roomId: 'other-room', key }).restore(), OfflineEditsError);
  assert.throws(() => new OfflineEdits(new Y.Doc(), file, { roomId: 'r', key: Buffer.alloc(16) }), /must be 32 bytes/);
});

test('with a real provider: edits made offline survive a crash, go out on reconnect, and the file empties on ack', async () => {
  const { roomId, a, b } = await syncedPair(server, alice, bob);
  const key = randomBytes(32);
  const file = join(dir, 'provider.bin');
  a.text.insert(0, 'online;');
  await a.provider.whenAcked();
  const store = new OfflineEdits(a.doc, file, { roomId, key, isRemote: (o) => o === a.provider });
  store.start();
  store.follow(a.provider);
  a.provider.disconnect();
  a.text.insert(a.text.length, 'offline-1;');
  a.text.insert(a.text.length, 'offline-2;');
  assert.ok(a.provider.pendingCount > 0);
  a.provider.destroy(); // the window is gone, the edits were never sent

  const c = await openProvider(server, alice, roomId, { connect: false });
  const restored = new OfflineEdits(c.doc, file, { roomId, key, isRemote: (o) => o === c.provider });
  assert.equal(restored.restore(), 2);
  restored.follow(c.provider);
  c.provider.connect();
  await c.provider.whenSynced();
  await waitFor(() => b.text.toString() === 'online;offline-1;offline-2;', 'the offline edits to reach bob');
  await c.provider.whenAcked();
  await waitFor(() => statSync(file).size === 8, 'the file to be emptied once acknowledged');
  assert.equal(c.text.toString(), 'online;offline-1;offline-2;');
  restored.dispose();
  b.provider.destroy();
  c.provider.destroy();
});
