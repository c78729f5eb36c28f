// Entry of dist/sync-frame-verifier.js, a signature verifier thread of the relay (how batches are formed and why:
// frame-verifier.ts). Each frame carries its signer in bytes 1..33 and its signature in its last 64 bytes, over
// SIGNATURE_DOMAIN || room id || 0x00 || the rest of the frame.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { VerifyBatch, VerifyReply } from './frame-verifier-messages';
import { SIGNATURE_DOMAIN } from './wire';

const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const ZERO = Buffer.from([0]);
const keys = new Map<string, KeyObject>(); // signer hex -> key: importing a key costs as much as a check

function keyOf(raw: Buffer): KeyObject {
  const hex = raw.toString('hex');
  let k = keys.get(hex);
  if (!k) {
    if (keys.size >= 10000) keys.clear();
    k = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });
    keys.set(hex, k);
  }
  return k;
}

parentPort!.on('message', (b: VerifyBatch) => {
  const bytes = Buffer.from(b.bytes);
  const ok = new Uint8Array(b.ends.length);
  let start = 0;
  for (let i = 0; i < b.ends.length; i++) {
    const roomEnd = start + b.roomBytes[i];
    const end = b.ends[i];
    const room = bytes.subarray(start, roomEnd);
    const frame = bytes.subarray(roomEnd, end);
    try {
      const body = frame.subarray(0, frame.length - 64);
      const signed = Buffer.concat([SIGNATURE_DOMAIN, room, ZERO, body]);
      ok[i] = verify(null, signed, keyOf(frame.subarray(1, 33)), frame.subarray(frame.length - 64)) ? 1 : 0;
    } catch {
      ok[i] = 0; // not a valid key or signature: as good as a wrong one
    }
    start = end;
  }
  const reply: VerifyReply = { id: b.id, ok };
  parentPort!.postMessage(reply, [ok.buffer]);
});
