// The sync server's data folder holds the invite secret and every account's hashes: it is created private (0700,
// files 0600), and the server refuses to start on one that other local users could read, saying which path and how
// to fix it. Real folders, files, symlinks and a FIFO.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSyncServer } from '../../sync-server/src/server';
import { createUser, startTestServer } from '../support/sync-harness';

const mode = (p: string) => statSync(p).mode & 0o777;

async function inTempDir(fn: (root: string) => Promise<void>) {
  const root = mkdtempSync(join(tmpdir(), 'kyozo-sync-dir-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const refusal = (dataDir: string) =>
  startSyncServer({ port: 0, dataDir, logLevel: 'silent' }).then(
    async (s) => {
      await s.close();
      return 'started';
    },
    (err: Error) => err.message,
  );

test('a new data folder is made 0700 and its database files 0600, whatever the umask', () =>
  inTempDir(async (root) => {
    const previous = process.umask(0o002);
    try {
      const server = await startTestServer({ dataDir: join(root, 'nested', 'data') });
      try {
        await createUser(server); // writes: the WAL and its index exist now
        assert.equal(mode(join(root, 'nested', 'data')).toString(8), '700');
        for (const f of ['sync.db', 'sync.db-wal', 'sync.db-shm']) {
          assert.equal(mode(join(root, 'nested', 'data', f)).toString(8), '600', f);
        }
      } finally {
        await server.close();
      }
    } finally {
      process.umask(previous);
    }
  }));

test('a data folder or database other users can open is refused, naming path and fix', () =>
  inTempDir(async (root) => {
    const dir = join(root, 'data');
    mkdirSync(dir, { mode: 0o700 });
    assert.equal(await refusal(dir), 'started');
    chmodSync(dir, 0o755);
    const open = (path: string, mode: string) => `${path} is readable or writable by other users \\(mode ${mode}\\)`;
    assert.match(await refusal(dir), new RegExp(`${open(`data folder ${dir}`, '755')}.*chmod 700 ${dir}`));
    chmodSync(dir, 0o700);
    chmodSync(join(dir, 'sync.db'), 0o644);
    assert.match(await refusal(dir), new RegExp(`${open(join(dir, 'sync.db'), '644')}.*chmod 600`));
    chmodSync(join(dir, 'sync.db'), 0o600);
    writeFileSync(join(dir, 'sync.db-wal'), '', { mode: 0o640 });
    chmodSync(join(dir, 'sync.db-wal'), 0o640);
    assert.match(await refusal(dir), /sync\.db-wal is readable or writable by other users \(mode 640\)/);
    rmSync(join(dir, 'sync.db-wal'));
    assert.equal(await refusal(dir), 'started', 'private again: it starts');
  }));

test('a database that is a FIFO, or links to a file others read, is refused at once', () =>
  inTempDir(async (root) => {
    const fifoDir = join(root, 'fifo');
    mkdirSync(fifoDir, { mode: 0o700 });
    execFileSync('mkfifo', ['-m', '600', join(fifoDir, 'sync.db')]);
    assert.match(await refusal(fifoDir), /sync\.db is not a regular file/);
    const linkDir = join(root, 'link');
    mkdirSync(linkDir, { mode: 0o700 });
    const outside = join(root, 'outside.db');
    writeFileSync(outside, '', { mode: 0o644 });
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(linkDir, 'sync.db'));
    assert.match(await refusal(linkDir), /sync\.db is readable or writable by other users \(mode 644\)/);
  }));
