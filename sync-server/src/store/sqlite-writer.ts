// The log writer thread of SqliteStore. It owns the only connection that writes the encrypted log, so a COMMIT with
// its fsync (synchronous=FULL) blocks this thread, never the relay's event loop. Kept as plain JavaScript source
// run with `eval` so the server stays a single bundled file (dist/sync-server.js) with no extra worker entry.
// A batch arrives packed (PackedBatch in sqlite-store.ts): every update's sender and frame in one transferred buffer.

// How both threads open their connection: the store's durability setting, a wait for locks, and no automatic
// checkpoint. The automatic one would run inside a commit and hold back that batch's acknowledgements, so the
// checkpoint thread does it; the writer turns it back on if that thread fails, so the WAL cannot grow without bound.
const OPEN_CONNECTION = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.path);
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = 10000');
db.pragma('wal_autocheckpoint = 0');
`;

export const WRITER_SOURCE = `${OPEN_CONNECTION}
db.pragma('journal_mode = WAL');
// Each update dirties the index page of its (room, sender); 8 MB keeps those pages of a few thousand active senders
// in memory instead of re-reading them from the OS for every commit.
db.pragma('cache_size = -8192');
const st = {
  insertUpdate: db.prepare('INSERT OR IGNORE INTO updates (room_id, sender, clock, frame) VALUES (?, ?, ?, ?)'),
  upsertClock: db.prepare('INSERT INTO sender_clocks (room_id, sender, clock) VALUES (?, ?, ?) ON CONFLICT(room_id, sender) DO UPDATE SET clock = max(clock, excluded.clock)'),
  putSnapshot: db.prepare('INSERT INTO snapshots (room_id, head, frame) VALUES (?, ?, ?) ON CONFLICT(room_id) DO UPDATE SET head = excluded.head, frame = excluded.frame'),
  setHead: db.prepare('UPDATE rooms SET head = ? WHERE id = ?'),
  dropCovered: db.prepare('DELETE FROM updates WHERE room_id = ? AND sender = ? AND clock <= ?'),
};
const buf = (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const putSnapshot = (s) => {
  st.putSnapshot.run(s.roomId, s.head, buf(s.frame));
  st.setHead.run(s.head, s.roomId);
  for (const [hex, clock] of s.covers) {
    const sender = Buffer.from(hex, 'hex');
    // The dropped updates no longer carry their sender's clock: keep it, so a restart still refuses a replay.
    st.upsertClock.run(s.roomId, sender, clock);
    st.dropCovered.run(s.roomId, sender, clock);
  }
};
const commit = db.transaction((b) => {
  const bytes = Buffer.from(b.bytes);
  let start = 0;
  let next = 0; // next snapshot
  for (let i = 0; i < b.rooms.length; i++) {
    while (next < b.snapshots.length && b.snapshots[next].at === i) putSnapshot(b.snapshots[next++]);
    const senderEnd = b.offsets[2 * i];
    const end = b.offsets[2 * i + 1];
    st.insertUpdate.run(b.rooms[i], bytes.subarray(start, senderEnd), b.clocks[i], bytes.subarray(senderEnd, end));
    start = end;
  }
  while (next < b.snapshots.length) putSnapshot(b.snapshots[next++]);
});
parentPort.on('message', (m) => {
  if (m.type === 'batch') {
    const t0 = performance.now();
    try {
      commit(m);
      parentPort.postMessage({ type: 'done', id: m.id, ms: performance.now() - t0 });
    } catch (e) {
      parentPort.postMessage({ type: 'failed', id: m.id, message: String(e && e.message) });
    }
  } else if (m.type === 'autocheckpoint') {
    db.pragma('wal_autocheckpoint = 1000');
  } else if (m.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
  }
});
`;

// The checkpoint thread: copies committed WAL pages into the database file beside the writer (a PASSIVE checkpoint
// never blocks a commit), so no acknowledgement waits for a checkpoint, and a page rewritten by many commits between
// two checkpoints is copied once.
export const CHECKPOINTER_SOURCE = `${OPEN_CONNECTION}
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    clearInterval(timer);
    parentPort.postMessage({ type: 'failed', message: String(e && e.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m.type === 'close') {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ type: 'closed' });
  }
});
`;
