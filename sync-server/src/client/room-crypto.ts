// Frame sealing and room-key wrapping, all on the client.
//
// DESIGN (crypto choices):
// - AEAD: AES-256-GCM from node:crypto. It is hardware-accelerated (AES-NI), needs no native addon, and the same
//   algorithm exists in WebCrypto for a browser client. Nonces are 96 random bits: for 10^7 frames under one room key the
//   collision probability is about 2^-50, and keys rotate on every member removal (rotate more often for rooms
//   that approach 2^32 frames). We chose it over XChaCha20-Poly1305 to avoid a libsodium dependency. The cleartext header (kind, sender, epoch, clock, room id) is the associated data, so
//   a frame cannot be replayed into another room, clock or epoch without failing the tag.
// - Signatures: Ed25519 over the whole frame, so receivers know which device wrote it (the AEAD alone only proves
//   "someone with the room key"). The provider batches keystrokes into one frame per short window, so there is one
//   signature per batch, not per keystroke.
// - Key distribution: X25519 ECDH with an ephemeral key per wrap, HKDF-SHA256, AES-256-GCM; the wrap is signed by
//   the admin device that made it. The server only stores and forwards wraps. Unlike Open Collaboration Tools, a
//   server that swaps public keys is caught: recipients verify the wrapper's signature and can pin the admin's
//   fingerprint (compared out of band), and senders wrap only to fingerprints they list.
import {
  createCipheriv,
  createDecipheriv,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import {
  DATA_HEADER_BYTES,
  FrameKind,
  NONCE_BYTES,
  SIGNATURE_BYTES,
  TAG_BYTES,
  encodeDataHeader,
  encodeSnapshotHeader,
  readDataHeader,
  readSnapshotHeader,
  signedBytes,
  type DataHeader,
  type SnapshotHeader,
} from '../wire';
import { rawPublic, signBytes, verifyBytes, x25519Public, type DeviceIdentity } from './identity';

export class OpenError extends Error {
  constructor(
    readonly reason: 'bad-signature' | 'bad-ciphertext' | 'unknown-epoch' | 'bad-frame' | 'untrusted-signer',
    message: string,
  ) {
    super(message);
  }
}

function aad(roomId: string, header: Buffer): Buffer {
  return Buffer.concat([Buffer.from(roomId, 'utf8'), Buffer.from([0]), header]);
}

function encrypt(key: Buffer, additional: Buffer, plaintext: Uint8Array): { nonce: Buffer; ct: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(additional);
  const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  return { nonce, ct };
}

function decrypt(key: Buffer, additional: Buffer, nonce: Buffer, ctAndTag: Buffer): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(additional);
    d.setAuthTag(ctAndTag.subarray(ctAndTag.length - TAG_BYTES));
    return Buffer.concat([d.update(ctAndTag.subarray(0, ctAndTag.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new OpenError(
      'bad-ciphertext',
      'authentication tag does not verify: the frame was altered or sealed under another key',
    );
  }
}

export function sealData(
  kind: number,
  roomId: string,
  id: DeviceIdentity,
  epoch: number,
  key: Buffer,
  clock: number,
  plaintext: Uint8Array,
): Buffer {
  const header = encodeDataHeader(kind, id.signPublicKey, epoch, clock);
  const { nonce, ct } = encrypt(key, aad(roomId, header), plaintext);
  const body = Buffer.concat([header, nonce, ct]);
  return Buffer.concat([body, signBytes(id, signedBytes(roomId, body))]);
}

function checkSignature(roomId: string, frame: Buffer, sender: Buffer): void {
  const body = frame.subarray(0, frame.length - SIGNATURE_BYTES);
  if (!verifyBytes(sender, signedBytes(roomId, body), frame.subarray(frame.length - SIGNATURE_BYTES))) {
    throw new OpenError('bad-signature', 'signature does not verify for the sender key in the frame');
  }
}

export function openData(
  roomId: string,
  frame: Buffer,
  keyFor: (epoch: number) => Buffer | undefined,
): { header: DataHeader; plaintext: Buffer } {
  let header: DataHeader;
  try {
    header = readDataHeader(frame);
  } catch (e) {
    throw new OpenError('bad-frame', (e as Error).message);
  }
  checkSignature(roomId, frame, header.sender);
  const key = keyFor(header.epoch);
  if (!key) throw new OpenError('unknown-epoch', `no room key for epoch ${header.epoch}`);
  const nonce = frame.subarray(DATA_HEADER_BYTES, DATA_HEADER_BYTES + NONCE_BYTES);
  const ct = frame.subarray(DATA_HEADER_BYTES + NONCE_BYTES, frame.length - SIGNATURE_BYTES);
  return { header, plaintext: decrypt(key, aad(roomId, frame.subarray(0, DATA_HEADER_BYTES)), nonce, ct) };
}

export function sealSnapshot(
  roomId: string,
  id: DeviceIdentity,
  epoch: number,
  key: Buffer,
  baseHead: number,
  clocks: Map<string, number>,
  state: Uint8Array,
): Buffer {
  const header = encodeSnapshotHeader(id.signPublicKey, epoch, baseHead, clocks);
  const { nonce, ct } = encrypt(key, aad(roomId, header), state);
  const body = Buffer.concat([header, nonce, ct]);
  return Buffer.concat([body, signBytes(id, signedBytes(roomId, body))]);
}

export function openSnapshot(
  roomId: string,
  frame: Buffer,
  keyFor: (epoch: number) => Buffer | undefined,
): { header: SnapshotHeader; plaintext: Buffer } {
  let header: SnapshotHeader;
  try {
    header = readSnapshotHeader(frame);
  } catch (e) {
    throw new OpenError('bad-frame', (e as Error).message);
  }
  checkSignature(roomId, frame, header.sender);
  const key = keyFor(header.epoch);
  if (!key) throw new OpenError('unknown-epoch', `no room key for epoch ${header.epoch}`);
  const nonce = frame.subarray(header.headerEnd, header.headerEnd + NONCE_BYTES);
  const ct = frame.subarray(header.headerEnd + NONCE_BYTES, frame.length - SIGNATURE_BYTES);
  return { header, plaintext: decrypt(key, aad(roomId, frame.subarray(0, header.headerEnd)), nonce, ct) };
}

// ---- room key wrapping ----
const WRAP_DOMAIN = 'kyozo-room-key-v1';

function wrapInfo(roomId: string, epoch: number): Buffer {
  return Buffer.from(`${WRAP_DOMAIN}|${roomId}|${epoch}`, 'utf8');
}

function wrapSigned(roomId: string, epoch: number, recipientSignPub: Buffer, body: Buffer): Buffer {
  return Buffer.concat([wrapInfo(roomId, epoch), Buffer.from([0]), recipientSignPub, body]);
}

export interface Recipient {
  signPublicKey: Buffer;
  dhPublicKey: Buffer;
}

/** Wraps a room key to one member device: [eph pub 32][nonce 12][ct+tag 48][wrapper sign pub 32][signature 64]. */
export function wrapRoomKey(
  roomId: string,
  epoch: number,
  roomKey: Buffer,
  to: Recipient,
  wrapper: DeviceIdentity,
): Buffer {
  const eph = generateKeyPairSync('x25519');
  const ephPub = rawPublic(eph.publicKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: x25519Public(to.dhPublicKey) });
  const kek = Buffer.from(
    hkdfSync('sha256', shared, Buffer.concat([ephPub, to.dhPublicKey]), wrapInfo(roomId, epoch), 32),
  );
  const { nonce, ct } = encrypt(kek, Buffer.concat([wrapInfo(roomId, epoch), to.signPublicKey]), roomKey);
  const body = Buffer.concat([ephPub, nonce, ct, wrapper.signPublicKey]);
  return Buffer.concat([body, signBytes(wrapper, wrapSigned(roomId, epoch, to.signPublicKey, body))]);
}

/** Unwraps a room key addressed to `me`; `trust` decides whether the wrapping device may hand out keys. */
export function unwrapRoomKey(
  roomId: string,
  epoch: number,
  wrapped: Buffer,
  me: DeviceIdentity,
  trust: (wrapperSignPub: Buffer) => boolean,
): Buffer {
  if (wrapped.length !== 32 + 12 + 48 + 32 + 64)
    throw new OpenError('bad-frame', `wrapped key of ${wrapped.length} bytes: expected 188`);
  const body = wrapped.subarray(0, 124);
  const wrapperPub = body.subarray(92, 124);
  if (!verifyBytes(wrapperPub, wrapSigned(roomId, epoch, me.signPublicKey, body), wrapped.subarray(124))) {
    throw new OpenError('bad-signature', `the key wrap for epoch ${epoch} is not signed by the device it names`);
  }
  if (!trust(wrapperPub))
    throw new OpenError(
      'untrusted-signer',
      `the key for epoch ${epoch} was wrapped by a device you do not trust; compare fingerprints out of band`,
    );
  const ephPub = body.subarray(0, 32);
  const shared = diffieHellman({ privateKey: me.dhPrivate, publicKey: x25519Public(ephPub) });
  const kek = Buffer.from(
    hkdfSync('sha256', shared, Buffer.concat([ephPub, me.dhPublicKey]), wrapInfo(roomId, epoch), 32),
  );
  return decrypt(
    kek,
    Buffer.concat([wrapInfo(roomId, epoch), me.signPublicKey]),
    body.subarray(32, 44),
    body.subarray(44, 92),
  );
}

/** The room keys a device holds, by epoch. */
export class RoomKeyring {
  private readonly keys = new Map<number, Buffer>();
  set(epoch: number, key: Buffer): void {
    this.keys.set(epoch, key);
  }
  get(epoch: number): Buffer | undefined {
    return this.keys.get(epoch);
  }
  get current(): number {
    return this.keys.size ? Math.max(...this.keys.keys()) : 0;
  }
  epochs(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }
}

export const newRoomKey = (): Buffer => randomBytes(32);
export { FrameKind };
