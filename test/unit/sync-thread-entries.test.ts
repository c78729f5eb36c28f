// The sync server's log writer and signature verifier threads are files built beside the server bundle
// (dist/sync-sqlite-writer.js, dist/sync-frame-verifier.js): a copy of the bundle with them, as the Docker image
// stages it, stores and relays signed edits, and so does `kyozo sync-server` from dist/cli.js; a copy without them
// stops at start, naming the missing file. The in-process tests run the same threads from their TypeScript source.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTeamRoom, createUser, openProvider } from '../support/sync-harness';
import { killHard, repoRoot, spawnSyncServerFrom, type ServerProcess } from '../support/sync-process';

const dist = join(repoRoot, 'dist');
const THREADS = ['sync-sqlite-writer.js', 'sync-frame-verifier.js'];
const temp: string[] = [];
const running: ServerProcess[] = [];

after(async () => {
  await Promise.all(running.map(killHard));
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
}

/** A folder holding dist/sync-server.js and the given built files, with node_modules for better-sqlite3. */
function stageBundle(files: string[]): string {
  const app = tempDir('kyozo-sync-bundle-');
  for (const f of ['sync-server.js', ...files]) {
    if (!existsSync(join(dist, f))) assert.fail(`${join(dist, f)} is missing: run \`npm run build\` first`);
    copyFileSync(join(dist, f), join(app, f));
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(app, 'node_modules'), 'dir');
  return app;
}

async function start(argv: string[]): Promise<ServerProcess> {
  const proc = await spawnSyncServerFrom(argv);
  running.push(proc);
  return proc;
}

describe('sync server threads: built entry points beside the bundle', () => {
  it(
    'a copy of dist/sync-server.js with its thread files stores signed edits that `kyozo sync-server` reads back',
    { timeout: 60_000 },
    async () => {
      const app = stageBundle(THREADS);
      const dataDir = tempDir('kyozo-sync-bundle-data-');
      const bundled = await start([join(app, 'sync-server.js'), '--port', '0', '--data-dir', dataDir]);
      const owner = await createUser(bundled);
      const { roomId } = await createTeamRoom(owner);
      const writer = await openProvider(bundled, owner, roomId);
      await writer.provider.whenSynced();
      writer.text.insert(0, 'checked by the verifier thread, committed by the writer thread');
      writer.provider.flush();
      // An acknowledgement follows a valid signature (verifier thread) and a durable commit (writer thread).
      await writer.provider.whenAcked();
      writer.provider.destroy();
      await killHard(bundled);

      // The same port: the user's API client keeps the address it was made with.
      const port = String(bundled.port);
      const cli = await start([join(dist, 'cli.js'), 'sync-server', '--port', port, '--data-dir', dataDir]);
      const reader = await openProvider(cli, owner, roomId);
      await reader.provider.whenSynced();
      assert.equal(reader.text.toString(), 'checked by the verifier thread, committed by the writer thread');
      reader.text.insert(reader.text.length, '; and again');
      reader.provider.flush();
      await reader.provider.whenAcked();
      reader.provider.destroy();
    },
  );

  for (const missing of THREADS) {
    it(`a copy without ${missing} stops at start, naming it and how to build it`, { timeout: 30_000 }, async () => {
      const app = stageBundle(THREADS.filter((f) => f !== missing));
      const dataDir = tempDir('kyozo-sync-bundle-data-');
      const started = start([join(app, 'sync-server.js'), '--port', '0', '--data-dir', dataDir]);
      await assert.rejects(started, (err: Error) => {
        assert.match(err.message, /exited with 1 before listening/);
        assert.ok(err.message.includes(join(app, missing)), `names ${join(app, missing)}:\n${err.message}`);
        assert.match(err.message, /npm run build/);
        return true;
      });
    });
  }
});
