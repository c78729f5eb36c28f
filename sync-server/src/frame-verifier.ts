// Ed25519 signature checks of the frames the relay stores (updates and snapshots), on worker threads.
//
// DESIGN: one check costs 50-130 us of CPU here, and the relay takes 10,000+ updates/s: done on the event loop it
// would be most of a core in front of every relay and acknowledgement. So the frames that arrive in one event-loop
// turn go to a verifier thread together, copied into one transferred buffer (as the log writer's batches are), and
// come back as one byte per frame; the event loop only copies and posts. The relay waits for each socket's frames in
// arrival order (relay.ts), so a frame is checked against clocks and quotas only once its signature is known good.
// Each frame carries the signer in its header (bytes 1..33, checked against the socket's device key before it gets
// here) and the signature in its last 64 bytes, over "kyozo-sync-frame-v1" || room id || 0x00 || the rest (wire.ts).
// The threads run frame-verifier-thread.ts (dist/sync-frame-verifier.js).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { VerifyBatch, VerifyReply } from './frame-verifier-messages';
import { threadEntry } from './thread-entry';

/** The verdict on one frame: 'error' when no verifier thread could check it (the frame is not stored). */
export type Verdict = 'valid' | 'invalid' | 'error';

interface Pending {
  roomId: Buffer;
  frame: Buffer;
  done: (v: Verdict) => void;
}

export class FrameVerifier {
  private readonly threads = new Map<number, { worker: Worker; batches: Map<number, Pending[]> }>();
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 0;
  private turn = 0;
  private closed = false;
  // Looked up here, so a bundle copied without its thread file fails at start rather than at the first frame.
  private readonly entry = threadEntry('frame-verifier');

  /** Threads: one per core beyond the first (the event loop and the log writer need one), at least one, at most 4. */
  constructor(
    private readonly size = Math.max(1, Math.min(4, availableParallelism() - 1)),
    private readonly onError?: (e: Error) => void,
  ) {}

  /** Queues one frame (at least 64 bytes, signer in bytes 1..33); `done` is called once, from a later turn. */
  check(roomId: string, frame: Buffer, done: (v: Verdict) => void): void {
    if (this.closed) {
      queueMicrotask(() => done('error'));
      return;
    }
    this.queue.push({ roomId: Buffer.from(roomId, 'utf8'), frame, done });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.post);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.threads.values()];
    this.threads.clear();
    const lost = threads.flatMap((t) => {
      const b = [...t.batches.values()];
      t.batches.clear();
      return b;
    });
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const batch of lost) for (const p of batch) p.done('error');
  }

  private readonly post = (): void => {
    this.scheduled = false;
    const items = this.queue;
    this.queue = [];
    if (items.length === 0 || this.closed) return;
    let total = 0;
    for (const p of items) total += p.roomId.length + p.frame.length;
    const bytes = Buffer.allocUnsafeSlow(total);
    const ends = new Uint32Array(items.length);
    const roomBytes = new Uint16Array(items.length);
    let at = 0;
    items.forEach((p, i) => {
      roomBytes[i] = p.roomId.length;
      at += p.roomId.copy(bytes, at);
      at += p.frame.copy(bytes, at);
      ends[i] = at;
    });
    const thread = this.thread(this.turn++ % this.size);
    const id = this.nextId++;
    thread.batches.set(id, items);
    const batch: VerifyBatch = { id, bytes: bytes.buffer as ArrayBuffer, ends, roomBytes };
    thread.worker.postMessage(batch, [batch.bytes, ends.buffer, roomBytes.buffer]);
  };

  private thread(i: number) {
    const running = this.threads.get(i);
    if (running) return running;
    const worker = new Worker(this.entry.filename, {
      execArgv: this.entry.execArgv,
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
    });
    const t = { worker, batches: new Map<number, Pending[]>() };
    worker.on('message', (m: VerifyReply) => {
      const batch = t.batches.get(m.id);
      if (!batch) return;
      t.batches.delete(m.id);
      for (let k = 0; k < batch.length; k++) batch[k].done(m.ok[k] === 1 ? 'valid' : 'invalid');
    });
    // A thread that dies takes its batches with it: their frames are refused (not stored, so their clients resend),
    // and the next batch starts a new thread.
    const fail = (err: Error) => {
      if (this.threads.get(i) === t) this.threads.delete(i);
      const lost = [...t.batches.values()];
      t.batches.clear();
      if (!this.closed) this.onError?.(err);
      for (const batch of lost) for (const p of batch) p.done('error');
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (t.batches.size) fail(new Error(`frame verifier thread exited with ${code}`));
    });
    worker.unref(); // the server's sockets keep the process alive, not this thread
    this.threads.set(i, t);
    return t;
  }
}
