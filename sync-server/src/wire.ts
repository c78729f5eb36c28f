// The binary wire format shared by the relay and the client library.
//
// DESIGN: the relay only ever parses the cleartext header of a frame (kind, sender key, key epoch, clock or snapshot
// clock vector, sizes) and forwards the bytes it received verbatim. Everything a human typed is inside the AEAD
// ciphertext. Header bytes are bound to the ciphertext as AEAD associated data and to the sender by the Ed25519
// signature, so a relay that edits the routing metadata (clock, epoch, room) produces a frame every client rejects.
//
// Sealed data frame (UPDATE 0x10, AWARENESS 0x12):
//   [0] kind | [1..33) sender Ed25519 public key | [33..37) key epoch u32 | [37..45) clock u64
//   | [45..57) AES-GCM nonce | ciphertext+tag | last 64 bytes: Ed25519 signature
// Snapshot frame (SNAPSHOT 0x11):
//   [0] kind | [1..33) sender | [33..37) epoch | [37..45) base head u64 | [45..47) n u16 | n x (32 key + u64 clock)
//   | 12 nonce | ciphertext+tag | 64 signature
// Signatures cover "kyozo-sync-frame-v1" || utf8(roomId) || 0x00 || frame without the signature.

export const FrameKind = {
  Auth: 0x01,
  Challenge: 0x02,
  Hello: 0x03,
  Update: 0x10,
  Snapshot: 0x11,
  Awareness: 0x12,
  Ack: 0x20,
  Synced: 0x21,
  Error: 0x22,
  Head: 0x23,
  KeyRotated: 0x24,
} as const;

export const CloseCode = {
  Unauthorized: 4401,
  Forbidden: 4403,
  NotFound: 4404,
  AuthTimeout: 4408,
  MemberRemoved: 4410,
  TooLarge: 4413,
  RateLimited: 4429,
  Protocol: 4400,
  StorageFailure: 4500,
  ShuttingDown: 1001,
} as const;

export const SENDER_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const DATA_HEADER_BYTES = 1 + SENDER_BYTES + 4 + 8; // kind, sender, epoch, clock
export const MIN_DATA_FRAME = DATA_HEADER_BYTES + NONCE_BYTES + TAG_BYTES + SIGNATURE_BYTES;
export const SIGNATURE_DOMAIN = Buffer.from('kyozo-sync-frame-v1', 'utf8');
export const AUTH_DOMAIN = Buffer.from('kyozo-sync-auth-v1', 'utf8');

export class FrameError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DataHeader {
  kind: number;
  sender: Buffer;
  epoch: number;
  clock: number;
}

export interface SnapshotHeader {
  sender: Buffer;
  epoch: number;
  baseHead: number;
  clocks: Map<string, number>; // hex sender -> clock included
  headerEnd: number; // offset of the nonce
}

function readU64(buf: Buffer, at: number): number {
  const hi = buf.readUInt32BE(at);
  const lo = buf.readUInt32BE(at + 4);
  if (hi > 0x1fffff) throw new FrameError('bad-frame', 'clock exceeds 2^53');
  return hi * 0x100000000 + lo;
}

export function writeU64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32BE(Math.floor(value / 0x100000000), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** Parses the cleartext header of an UPDATE or AWARENESS frame. Throws FrameError on anything malformed. */
export function readDataHeader(frame: Buffer): DataHeader {
  if (frame.length < MIN_DATA_FRAME)
    throw new FrameError(
      'bad-frame',
      `frame of ${frame.length} bytes is shorter than the ${MIN_DATA_FRAME}-byte minimum`,
    );
  return {
    kind: frame[0],
    sender: frame.subarray(1, 1 + SENDER_BYTES),
    epoch: frame.readUInt32BE(33),
    clock: readU64(frame, 37),
  };
}

/** Parses the cleartext header of a SNAPSHOT frame. */
export function readSnapshotHeader(frame: Buffer): SnapshotHeader {
  if (frame.length < 47) throw new FrameError('bad-frame', 'snapshot frame too short');
  const n = frame.readUInt16BE(45);
  const headerEnd = 47 + n * 40;
  if (frame.length < headerEnd + NONCE_BYTES + TAG_BYTES + SIGNATURE_BYTES)
    throw new FrameError('bad-frame', `snapshot frame declares ${n} clocks but is too short`);
  const clocks = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const at = 47 + i * 40;
    clocks.set(frame.subarray(at, at + 32).toString('hex'), readU64(frame, at + 32));
  }
  return {
    sender: frame.subarray(1, 33),
    epoch: frame.readUInt32BE(33),
    baseHead: readU64(frame, 37),
    clocks,
    headerEnd,
  };
}

export function encodeSnapshotHeader(
  sender: Buffer,
  epoch: number,
  baseHead: number,
  clocks: Map<string, number>,
): Buffer {
  const header = Buffer.alloc(47 + clocks.size * 40);
  header[0] = FrameKind.Snapshot;
  sender.copy(header, 1);
  header.writeUInt32BE(epoch, 33);
  writeU64(header, 37, baseHead);
  header.writeUInt16BE(clocks.size, 45);
  let at = 47;
  for (const [hex, clock] of clocks) {
    Buffer.from(hex, 'hex').copy(header, at);
    writeU64(header, at + 32, clock);
    at += 40;
  }
  return header;
}

export function encodeDataHeader(kind: number, sender: Buffer, epoch: number, clock: number): Buffer {
  const header = Buffer.alloc(DATA_HEADER_BYTES);
  header[0] = kind;
  sender.copy(header, 1);
  header.writeUInt32BE(epoch, 33);
  writeU64(header, 37, clock);
  return header;
}

/** The bytes a frame signature covers: domain, room, then the frame without its signature. */
export function signedBytes(roomId: string, frameWithoutSignature: Buffer): Buffer {
  return Buffer.concat([SIGNATURE_DOMAIN, Buffer.from(roomId, 'utf8'), Buffer.from([0]), frameWithoutSignature]);
}

export function authSignedBytes(challenge: Buffer, roomId: string): Buffer {
  return Buffer.concat([AUTH_DOMAIN, challenge, Buffer.from(roomId, 'utf8')]);
}

export function encodeAuth(signPublicKey: Buffer, signature: Buffer, token: string): Buffer {
  return Buffer.concat([Buffer.from([FrameKind.Auth, 1]), signPublicKey, signature, Buffer.from(token, 'utf8')]);
}

export function decodeAuth(frame: Buffer): { signPublicKey: Buffer; signature: Buffer; token: string } {
  if (frame.length < 2 + 32 + 64 + 1 || frame[0] !== FrameKind.Auth || frame[1] !== 1)
    throw new FrameError('bad-auth', 'malformed AUTH frame');
  return {
    signPublicKey: frame.subarray(2, 34),
    signature: frame.subarray(34, 98),
    token: frame.subarray(98).toString('utf8'),
  };
}

export function encodeJsonFrame(kind: number, body: unknown): Buffer {
  return Buffer.concat([Buffer.from([kind]), Buffer.from(JSON.stringify(body), 'utf8')]);
}

export function decodeJsonFrame<T>(frame: Buffer): T {
  return JSON.parse(frame.subarray(1).toString('utf8')) as T;
}

export function encodeU64Frame(kind: number, value: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = kind;
  writeU64(b, 1, value);
  return b;
}

export function decodeU64Frame(frame: Buffer): number {
  if (frame.length !== 9) throw new FrameError('bad-frame', 'expected 9-byte frame');
  return readU64(frame, 1);
}

export interface HelloBody {
  room: string;
  role: string;
  lastClock: number; // the last clock the server has durably stored for this device in this room
  epoch: number; // current room key epoch
  head: number; // current snapshot head
  trailing: number; // updates stored after the snapshot
  maxFrameBytes?: number; // the largest frame the server accepts (it closes the socket with 1009 past it)
  heartbeatMs?: number; // the server pings every socket once per this interval
}

export interface ErrorBody {
  code: string;
  message: string;
  clock?: number;
  expected?: number;
}
