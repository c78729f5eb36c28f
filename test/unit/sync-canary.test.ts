// A plaintext canary typed by a client (document text and presence) never appears in the database files (main,
// -wal, -shm) or in the server's logs; API tokens and passwords never appear in the logs either.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { createTeamRoom, createUser, openProvider, startTestServer, waitFor } from '../support/sync-harness';

function occurrences(haystack: Buffer, needle: string): number {
  let n = 0;
  for (const enc of ['utf8', 'utf16le'] as const) {
    const b = Buffer.from(needle, enc);
    for (let at = haystack.indexOf(b); at >= 0; at = haystack.indexOf(b, at + 1)) n++;
  }
  return n;
}

test('the plaintext canary never reaches the database files or the logs', async () => {
  const canary = `CANARY-${randomBytes(8).toString('hex')}`;
  const server = await startTestServer({ logLevel: 'trace' });
  try {
    const alice = await createUser(server);
    const bob = await createUser(server);
    const { roomId } = await createTeamRoom(alice, [{ user: bob }]);
    const aw = new Awareness(new Y.Doc());
    const a = await openProvider(server, alice, roomId, { awareness: aw });
    const b = await openProvider(server, bob, roomId);
    await Promise.all([a.provider.whenSynced(), b.provider.whenSynced()]);
    aw.setLocalStateField('user', { name: canary });
    for (let i = 0; i < 20; i++) {
      a.text.insert(a.text.length, `${canary} line ${i}\n`);
      a.provider.flush();
    }
    a.doc.getMap('meta').set(canary, canary);
    await a.provider.whenAcked();
    await waitFor(() => b.text.toString().split(canary).length === 21, 'bob to read the canary');
    assert.equal(a.provider.compact(), true);
    await waitFor(() => a.provider.head === 1, 'snapshot to be stored');
    await server.store.flush();
    // While the server runs (WAL not yet checkpointed) and after it stopped.
    const scan = (when: string) => {
      const files = readdirSync(server.dataDir).filter((f) => f.startsWith('sync.db'));
      assert.ok(files.includes('sync.db'), 'the database exists');
      for (const f of files)
        assert.equal(occurrences(readFileSync(join(server.dataDir, f)), canary), 0, `${when}: canary found in ${f}`);
      return files;
    };
    const files = scan('running');
    assert.ok(
      files.includes('sync.db-wal') || existsSync(join(server.dataDir, 'sync.db-wal')),
      'the WAL was scanned too',
    );
    const logs = Buffer.from(server.logs.join(''));
    assert.ok(server.logs.length > 5, 'logs were captured');
    assert.equal(occurrences(logs, canary), 0, 'canary found in logs');
    assert.equal(occurrences(logs, alice.token), 0, 'a token was logged');
    assert.equal(occurrences(logs, 'correct horse battery'), 0, 'a password was logged');
    // Sanity: the canary is really in the clients' documents, so the scan could have found it.
    assert.ok(b.text.toString().includes(canary));
    [a, b].forEach((x) => x.provider.destroy());
    aw.destroy();
    await server.close();
    scan('stopped');
  } finally {
    await server.stop();
  }
});
