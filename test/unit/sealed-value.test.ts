// Secrets the editor hands the language server (Set Environment Secret) go sealed to the server process's key: the
// extension's sealValue and the server's openSealed, on node:crypto.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { sealValue } from '../../extension/src/sealed-value';
import { openSealed, SEALING_KEY } from '../../server/src/lsp/sealed-secrets';

describe('sealed secrets between the extension and the language server', () => {
  test('a value opens with the server key, whatever its characters and size; the sealed form does not hold it', () => {
    for (const value of [
      'p',
      'pa55 wörd ✓ 🔑',
      'x'.repeat(64 * 1024),
      '-----BEGIN KEY-----\nabc\n-----END KEY-----\n',
    ]) {
      const sealed = sealValue(value, SEALING_KEY);
      if (value.length > 8) assert.ok(!JSON.stringify(sealed).includes(value.slice(0, 20)));
      assert.equal(openSealed(sealed), value);
    }
    const a = sealValue('same', SEALING_KEY);
    const b = sealValue('same', SEALING_KEY);
    assert.notEqual(a.ct + a.epk, b.ct + b.epk, 'a new key and nonce per value');
  });

  test('sealed to another key, changed in transit, or not sealed at all: refused', () => {
    const other = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    assert.throws(() => openSealed(sealValue('v', other)), /does not open with this server/);
    const sealed = sealValue('value', SEALING_KEY);
    const flip = (b64: string) =>
      Buffer.from(Buffer.from(b64, 'base64').map((x, i) => (i === 0 ? x ^ 1 : x))).toString('base64');
    assert.throws(() => openSealed({ ...sealed, ct: flip(sealed.ct) }), /does not open/);
    assert.throws(() => openSealed({ ...sealed, tag: flip(sealed.tag) }), /does not open/);
    assert.throws(() => openSealed({ ...sealed, iv: flip(sealed.iv) }), /does not open/);
    for (const bad of ['value', null, 42, { ...sealed, ct: 1 }, {}])
      assert.throws(() => openSealed(bad), /must be sealed to the server/);
    assert.throws(() => openSealed({ ...sealed, epk: 'AAAA' }));
  });
});
