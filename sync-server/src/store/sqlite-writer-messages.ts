// What SqliteStore and its log writer thread (sqlite-writer-thread.ts) send each other.

/** The thread's workerData. */
export interface WriterData {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  checkpointMs: number;
}

/** A snapshot written in a batch; `at` is the index of the update it comes before. */
export interface PackedSnapshot {
  at: number;
  roomId: string;
  head: number;
  frame: Uint8Array;
  covers: [string, number][];
}

/** One commit batch: every update's sender and frame packed into one transferred buffer. */
export interface PackedBatch {
  type: 'batch';
  id: number;
  rooms: string[]; // per update
  clocks: number[]; // per update
  bytes: ArrayBuffer; // per update: sender bytes, then frame bytes
  offsets: Uint32Array; // per update: [end of sender, end of frame] in bytes
  snapshots: PackedSnapshot[];
}

export type WriterRequest = PackedBatch | { type: 'close' };

export type WriterReply =
  | { type: 'done'; id: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'checkpoint-failed'; message: string }
  | { type: 'closed' };
