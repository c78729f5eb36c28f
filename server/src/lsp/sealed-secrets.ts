// A secret the editor hands the server (Set Environment Secret) travels sealed to a key pair this server process makes
// at start and keeps in memory only, so an LSP trace (kyozo.trace.server: verbose logs every message) or any other log
// of the messages holds ciphertext no one can open once the process is gone. X25519 agreement with a key the editor
// makes per value, HKDF-SHA256, AES-256-GCM: node:crypto's own primitives.
import { createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';
import { SEALED_VALUE_INFO, type SealedValue } from '../protocol';

const pair = generateKeyPairSync('x25519');

/** The server's public key, as the initialize result announces it (SPKI DER, base64). */
export const SEALING_KEY = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

/** The value sealed to SEALING_KEY; throws on anything else (another key, a changed byte, a malformed object). */
export function openSealed(sealed: unknown): string {
  const s = sealed as Partial<SealedValue> | null;
  if (!s || typeof s !== 'object' || ![s.epk, s.iv, s.ct, s.tag].every((v) => typeof v === 'string'))
    throw new Error('the value must be sealed to the server (epk, iv, ct, tag)');
  const epk = Buffer.from(s.epk!, 'base64');
  const shared = diffieHellman({
    privateKey: pair.privateKey,
    publicKey: createPublicKey({ key: epk, format: 'der', type: 'spki' }),
  });
  const key = Buffer.from(hkdfSync('sha256', shared, epk, SEALED_VALUE_INFO, 32));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv!, 'base64'));
  decipher.setAuthTag(Buffer.from(s.tag!, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(s.ct!, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('the sealed value does not open with this server’s key (sealed for another server process?)');
  }
}
