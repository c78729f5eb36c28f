// Seals a secret to the language server's key before it goes over LSP, so an LSP trace of the message holds only
// ciphertext (the server's side, and why, is server/src/lsp/sealed-secrets.ts).
import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { SEALED_VALUE_INFO, type SealedValue } from '../../server/src/protocol';

/** `value` sealed to `serverKey` (SPKI DER, base64, from the initialize result's experimental.kyozo.sealingKey). */
export function sealValue(value: string, serverKey: string): SealedValue {
  const mine = generateKeyPairSync('x25519');
  const epk = mine.publicKey.export({ format: 'der', type: 'spki' });
  const shared = diffieHellman({
    privateKey: mine.privateKey,
    publicKey: createPublicKey({ key: Buffer.from(serverKey, 'base64'), format: 'der', type: 'spki' }),
  });
  const key = Buffer.from(hkdfSync('sha256', shared, epk, SEALED_VALUE_INFO, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return {
    epk: epk.toString('base64'),
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}
