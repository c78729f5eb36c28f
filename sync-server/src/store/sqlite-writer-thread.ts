// Entry of dist/sync-sqlite-writer.js, the log writer thread of SqliteStore. It owns the only connection that writes
// the encrypted log, so a COMMIT with its fsync (synchronous=FULL) blocks this thread, never the relay's event loop.
// A batch arrives packed (PackedBatch in sqlite-writer-messages.ts): every update's sender and frame in one
// transferred buffer.
//
// DESIGN: the log is written for few pages per commit. Rows append to `log` in arrival order and its only index is
// the room's number, so a commit dirties the table's last pages and one index page per room it touches; an index on
// (room, sender, clock) dirtied a page per row, ~200 KB of WAL per commit for ~15 KB of frames, and made every
// catch-up commit after a stall slow. Duplicates are refused here instead: the writer knows each sender's newest
// stored clock (read once per sender from the log), so a write stays idempotent per (room, sender, clock).
//
// Checkpoints run on this thread, right after a commit has been reported, at most every CHECKPOINT_MS: a checkpoint
// run beside the writer by another connection can never catch up with the newest frame, so the WAL never restarted
// and grew by ~35 MB/s under load (and each commit got slower with it).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { PackedBatch, PackedSnapshot, WriterData, WriterReply, WriterRequest } from './sqlite-writer-messages';

const data = workerData as WriterData;
const port = parentPort!;
const reply = (m: WriterReply) => port.postMessage(m);

const db = new Database(data.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + data.synchronous);
db.pragma('busy_timeout = 10000');
db.pragma('wal_autocheckpoint = 0');
db.pragma('cache_size = -8192');
const st = {
  roomNo: db.prepare<[string], { no: number }>('SELECT no FROM room_numbers WHERE room_id = ?'),
  addRoomNo: db.prepare<[string]>('INSERT OR IGNORE INTO room_numbers (room_id) VALUES (?)'),
  newestClock: db.prepare<[number, Buffer, string, Buffer], { c: number | null }>(
    'SELECT max(c) AS c FROM (SELECT max(clock) AS c FROM log WHERE room = ? AND sender = ? ' +
      'UNION ALL SELECT clock FROM sender_clocks WHERE room_id = ? AND sender = ?)',
  ),
  insertUpdate: db.prepare<[number, Buffer, number, Buffer]>(
    'INSERT INTO log (room, sender, clock, frame) VALUES (?, ?, ?, ?)',
  ),
  upsertClock: db.prepare<[string, Buffer, number]>(
    'INSERT INTO sender_clocks (room_id, sender, clock) VALUES (?, ?, ?) ' +
      'ON CONFLICT(room_id, sender) DO UPDATE SET clock = max(clock, excluded.clock)',
  ),
  putSnapshot: db.prepare<[string, number, Buffer]>(
    'INSERT INTO snapshots (room_id, head, frame) VALUES (?, ?, ?) ' +
      'ON CONFLICT(room_id) DO UPDATE SET head = excluded.head, frame = excluded.frame',
  ),
  setHead: db.prepare<[number, string]>('UPDATE rooms SET head = ? WHERE id = ?'),
  roomRows: db.prepare<[number], { id: number; sender: Buffer; clock: number }>(
    'SELECT id, sender, clock FROM log WHERE room = ?',
  ),
  dropRow: db.prepare<[number]>('DELETE FROM log WHERE id = ?'),
};
const roomNos = new Map<string, number>(); // room id -> number
const newest = new Map<string, number>(); // room number + ':' + sender hex -> newest stored clock

function roomNo(roomId: string): number {
  let no = roomNos.get(roomId);
  if (no === undefined) {
    st.addRoomNo.run(roomId);
    no = st.roomNo.get(roomId)!.no;
    roomNos.set(roomId, no);
  }
  return no;
}

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function putSnapshot(s: PackedSnapshot): void {
  st.putSnapshot.run(s.roomId, s.head, buf(s.frame));
  st.setHead.run(s.head, s.roomId);
  const covered = new Map(s.covers);
  for (const [hex, clock] of s.covers) {
    // The dropped updates no longer carry their sender's clock: keep it, so a restart still refuses a replay.
    st.upsertClock.run(s.roomId, Buffer.from(hex, 'hex'), clock);
  }
  // One pass over the room's rows (the index holds them by room), deleting the covered ones by id.
  for (const r of st.roomRows.all(roomNo(s.roomId))) {
    const c = covered.get(r.sender.toString('hex'));
    if (c !== undefined && r.clock <= c) st.dropRow.run(r.id);
  }
}

const commit = db.transaction((b: PackedBatch) => {
  const bytes = Buffer.from(b.bytes);
  let start = 0;
  let next = 0; // next snapshot
  for (let i = 0; i < b.rooms.length; i++) {
    while (next < b.snapshots.length && b.snapshots[next].at === i) putSnapshot(b.snapshots[next++]);
    const senderEnd = b.offsets[2 * i];
    const end = b.offsets[2 * i + 1];
    const no = roomNo(b.rooms[i]);
    const sender = bytes.subarray(start, senderEnd);
    const key = no + ':' + sender.toString('hex');
    const last = newest.get(key) ?? st.newestClock.get(no, sender, b.rooms[i], sender)?.c ?? 0;
    if (b.clocks[i] > last) {
      st.insertUpdate.run(no, sender, b.clocks[i], bytes.subarray(senderEnd, end));
      newest.set(key, b.clocks[i]);
    }
    start = end;
  }
  while (next < b.snapshots.length) putSnapshot(b.snapshots[next++]);
});

let lastCheckpoint = performance.now();
let checkpointTimer: NodeJS.Timeout | undefined; // set while committed frames wait for a checkpoint

function checkpoint(): void {
  clearTimeout(checkpointTimer);
  checkpointTimer = undefined;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    reply({ type: 'checkpoint-failed', message: String((e as Error | undefined)?.message) });
  }
  lastCheckpoint = performance.now();
}

// Due: now, between two commits. Not yet: when it is due, so the last commits of a burst reach the database file too.
function checkpointSoon(): void {
  const wait = lastCheckpoint + data.checkpointMs - performance.now();
  if (wait <= 0) checkpoint();
  else if (!checkpointTimer) checkpointTimer = setTimeout(checkpoint, wait);
}

port.on('message', (m: WriterRequest) => {
  if (m.type === 'batch') {
    try {
      commit(m);
      reply({ type: 'done', id: m.id });
    } catch (e) {
      // What the failed transaction added was rolled back with it: read numbers and clocks from the database again.
      roomNos.clear();
      newest.clear();
      reply({ type: 'failed', id: m.id, message: String((e as Error | undefined)?.message) });
      return;
    }
    checkpointSoon();
  } else if (m.type === 'close') {
    clearTimeout(checkpointTimer);
    db.close();
    reply({ type: 'closed' });
  }
});
