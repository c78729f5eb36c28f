// A device identity: an Ed25519 key that signs frames and key wraps, and an X25519 key that room keys are wrapped to.
// Both are generated on the device; only the public halves are registered with the server.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

const ED_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const X_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

export interface DeviceIdentity {
  signPublicKey: Buffer; // 32 raw bytes
  dhPublicKey: Buffer; // 32 raw bytes
  signPrivate: KeyObject;
  dhPrivate: KeyObject;
}

export interface ExportedIdentity {
  signPrivatePkcs8: string;
  dhPrivatePkcs8: string;
}

export function createIdentity(): DeviceIdentity {
  const s = generateKeyPairSync('ed25519');
  const d = generateKeyPairSync('x25519');
  return {
    signPrivate: s.privateKey,
    dhPrivate: d.privateKey,
    signPublicKey: rawPublic(s.publicKey),
    dhPublicKey: rawPublic(d.publicKey),
  };
}

/** Serialises the private keys (PKCS#8, base64) for the caller to keep in a secret store. */
export function exportIdentity(id: DeviceIdentity): ExportedIdentity {
  return {
    signPrivatePkcs8: (id.signPrivate.export({ format: 'der', type: 'pkcs8' }) as Buffer).toString('base64'),
    dhPrivatePkcs8: (id.dhPrivate.export({ format: 'der', type: 'pkcs8' }) as Buffer).toString('base64'),
  };
}

export function importIdentity(e: ExportedIdentity): DeviceIdentity {
  const signPrivate = createPrivateKey({
    key: Buffer.from(e.signPrivatePkcs8, 'base64'),
    format: 'der',
    type: 'pkcs8',
  });
  const dhPrivate = createPrivateKey({ key: Buffer.from(e.dhPrivatePkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  return {
    signPrivate,
    dhPrivate,
    signPublicKey: rawPublic(createPublicKey(signPrivate)),
    dhPublicKey: rawPublic(createPublicKey(dhPrivate)),
  };
}

export function rawPublic(k: KeyObject): Buffer {
  return (k.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12);
}

const edCache = new Map<string, KeyObject>();
export function ed25519Public(raw: Buffer): KeyObject {
  const hex = raw.toString('hex');
  let k = edCache.get(hex);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([ED_SPKI, raw]), format: 'der', type: 'spki' });
    if (edCache.size > 10_000) edCache.clear();
    edCache.set(hex, k);
  }
  return k;
}

export function x25519Public(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([X_SPKI, raw]), format: 'der', type: 'spki' });
}

export function signBytes(id: DeviceIdentity, bytes: Buffer): Buffer {
  return sign(null, bytes, id.signPrivate);
}

export function verifyBytes(signPublicKey: Buffer, bytes: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, bytes, ed25519Public(signPublicKey), signature);
  } catch {
    return false;
  }
}

/** What members read to each other out of band: SHA-256 over both public keys, in 16 groups of 4 hex digits. */
export function fingerprint(signPublicKey: Buffer, dhPublicKey: Buffer): string {
  const hex = createHash('sha256').update(signPublicKey).update(dhPublicKey).digest('hex');
  return hex.match(/.{4}/g)!.join(' ');
}
