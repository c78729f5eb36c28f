// The log writer thread of SqliteStore. It owns the only connection that writes the encrypted log, so a COMMIT with
// its fsync (synchronous=FULL) blocks this thread, never the relay's event loop. Kept as plain JavaScript source
// run with `eval` so the server stays a single bundled file (dist/sync-server.js) with no extra worker entry.
export const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = 10000');
const buf = (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const st = {
  insertUpdate: db.prepare('INSERT OR IGNORE INTO updates (room_id, sender, clock, frame) VALUES (?, ?, ?, ?)'),
  upsertClock: db.prepare('INSERT INTO sender_clocks (room_id, sender, clock) VALUES (?, ?, ?) ON CONFLICT(room_id, sender) DO UPDATE SET clock = max(clock, excluded.clock)'),
  putSnapshot: db.prepare('INSERT INTO snapshots (room_id, head, frame) VALUES (?, ?, ?) ON CONFLICT(room_id) DO UPDATE SET head = excluded.head, frame = excluded.frame'),
  setHead: db.prepare('UPDATE rooms SET head = ? WHERE id = ?'),
  dropCovered: db.prepare('DELETE FROM updates WHERE room_id = ? AND sender = ? AND clock <= ?'),
};
const commit = db.transaction((ops) => {
  const clocks = new Map(); // one clock upsert per (room, sender) per batch
  const flushClocks = () => {
    for (const c of clocks.values()) st.upsertClock.run(c.roomId, c.sender, c.clock);
    clocks.clear();
  };
  for (const op of ops) {
    if (op.kind === 'update') {
      const sender = buf(op.u.sender);
      st.insertUpdate.run(op.u.roomId, sender, op.u.clock, buf(op.u.frame));
      const k = op.u.roomId + ':' + sender.toString('hex');
      const c = clocks.get(k);
      if (!c) clocks.set(k, { roomId: op.u.roomId, sender, clock: op.u.clock });
      else if (op.u.clock > c.clock) c.clock = op.u.clock;
    } else if (op.kind === 'snapshot') {
      st.putSnapshot.run(op.s.roomId, op.s.head, buf(op.s.frame));
      st.setHead.run(op.s.head, op.s.roomId);
      for (const [hex, clock] of op.s.covers) st.dropCovered.run(op.s.roomId, Buffer.from(hex, 'hex'), clock);
    }
  }
  flushClocks();
});
parentPort.on('message', (m) => {
  if (m.type === 'batch') {
    const t0 = performance.now();
    try {
      commit(m.ops);
      parentPort.postMessage({ type: 'done', id: m.id, ms: performance.now() - t0 });
    } catch (e) {
      parentPort.postMessage({ type: 'failed', id: m.id, message: String(e && e.message) });
    }
  } else if (m.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
  }
});
`;
