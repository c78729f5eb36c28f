// What FrameVerifier and its threads (frame-verifier-thread.ts) send each other.

/** One turn's frames: frame i is bytes[ends[i-1], ends[i]), its room id in the first roomBytes[i] of them. */
export interface VerifyBatch {
  id: number;
  bytes: ArrayBuffer;
  ends: Uint32Array;
  roomBytes: Uint16Array;
}

/** One byte per frame of the batch: 1 when its signature is valid. */
export interface VerifyReply {
  id: number;
  ok: Uint8Array;
}
