// kill -9 in the middle of a load run loses no acknowledged update: the server runs as a child process, is killed
// while several clients write, restarts on the same data dir and port, and every acknowledged edit is there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTeamRoom, createUser, openProvider, waitFor } from '../support/sync-harness';
import { killHard, spawnSyncServer, type ServerProcess } from '../support/sync-process';

const ROUNDS = 4;
const CLIENTS = 6;

test('kill -9 during load loses no acknowledged update (repeated)', { timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyozo-sync-crash-'));
  let proc: ServerProcess | null = await spawnSyncServer(dataDir);
  const port = proc.port;
  const providers: { provider: { destroy(): void } }[] = [];
  try {
    const owner = await createUser(proc);
    const writers = await Promise.all(Array.from({ length: CLIENTS - 1 }, () => createUser(proc!)));
    const { roomId } = await createTeamRoom(
      owner,
      writers.map((user) => ({ user })),
    );
    const clients = await Promise.all([owner, ...writers].map((u) => openProvider(proc!, u, roomId)));
    providers.push(...clients);
    await Promise.all(clients.map((c) => c.provider.whenSynced()));
    const acknowledged = new Set<string>();
    const written = new Set<string>();
    let totalAckedBeforeKill = 0;

    for (let round = 0; round < ROUNDS; round++) {
      let running = true;
      // Closed-loop writers: one marker per frame, recorded as acknowledged only when its ACK arrives.
      const loops = clients.map(async (c, i) => {
        let n = 0;
        while (running) {
          const marker = `<r${round}c${i}n${n++}>`;
          c.text.insert(c.text.length, marker);
          written.add(marker);
          if (c.provider.status !== 'connected') {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          const acked = new Promise<boolean>((resolve) => {
            const t = setTimeout(() => {
              c.provider.off('acked', on);
              resolve(false);
            }, 1000);
            const on = () => {
              if (c.provider.pendingCount === 0) {
                clearTimeout(t);
                c.provider.off('acked', on);
                resolve(true);
              }
            };
            c.provider.on('acked', on);
          });
          c.provider.flush();
          if (await acked) acknowledged.add(marker);
        }
      });
      // Kill once this round has written something (on a busy machine that takes longer than on an idle one), at a
      // random moment after that, while the writers are still going.
      const before = acknowledged.size;
      const until = Date.now() + 15_000;
      while (acknowledged.size - before < CLIENTS * 6 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      await killHard(proc!); // SIGKILL mid-load: no flush, no shutdown hook
      running = false;
      await Promise.all(loops);
      totalAckedBeforeKill = acknowledged.size;
      proc = await spawnSyncServer(dataDir, port);
      // A fresh reader on the restarted server must see every acknowledged edit.
      const checker = await openProvider(proc, owner, roomId);
      providers.push(checker);
      await checker.provider.whenSynced();
      const text = checker.text.toString();
      const missing = [...acknowledged].filter((m) => !text.includes(m));
      assert.deepEqual(missing, [], `round ${round}: acknowledged edits missing after kill -9`);
      checker.provider.destroy();
    }
    console.log(`crash: ${ROUNDS} kills, ${totalAckedBeforeKill} acknowledged edits checked, ${written.size} written`);
    assert.ok(
      totalAckedBeforeKill > ROUNDS * CLIENTS * 5,
      `the load actually wrote (${totalAckedBeforeKill} acknowledged)`,
    );
    // The writers reconnect by themselves and resend what was never acknowledged: nothing is lost at all.
    await waitFor(
      () => clients.every((c) => c.provider.pendingCount === 0 && c.provider.status === 'connected'),
      'writers to resend',
      30_000,
    );
    await Promise.all(clients.map((c) => c.provider.whenAcked()));
    const final = await openProvider(proc, owner, roomId);
    providers.push(final);
    await final.provider.whenSynced();
    const text = final.text.toString();
    assert.deepEqual(
      [...written].filter((m) => !text.includes(m)),
      [],
      'every written edit arrives after resend',
    );
    final.provider.destroy();
    clients.forEach((c) => c.provider.destroy());
  } finally {
    for (const p of providers) p.provider.destroy();
    if (proc) await killHard(proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
