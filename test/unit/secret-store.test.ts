// Environment secrets in the user's secret store, on a real one: `pass` with its own GnuPG key behind Debian's
// docker-credential-pass (the helper Docker users set as credsStore). A kyozo.yaml names a secret (from_store); the
// value is read at deploy time from the entry of that checkout's environment, and nothing else can be reached.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Topology } from '../../server/src/protocol';
import { analyze } from '../../server/src/engine/index';
import { EnvironmentError, topologyFor } from '../../server/src/engine/deploy/environments';
import {
  eraseSecret,
  listStoredSecrets,
  readStoredSecret,
  SecretStoreError,
  secretKey,
  storeSecret,
} from '../../server/src/engine/deploy/secret-store';
import { storeSecretsInfo } from '../../server/src/lsp/registry-environment';
import { CREDENTIAL_PASS, createPassStore, passStoreMissing, type PassStore } from '../support/pass-store';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'registry-environments');

describe('environment secrets in the secret store (pass through docker-credential-pass)', () => {
  const missing = passStoreMissing();
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    test('secret store', { skip: missing }, () => undefined);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'kyozo-secret-store-'));
  const dir = join(work, 'shop');
  const clone = join(work, 'elsewhere', 'shop'); // the same project checked out again: another workspace
  let store: PassStore;
  let base: Topology;
  let cloneBase: Topology;
  const yaml = (root: string, lines: string[]) => writeFileSync(join(root, 'kyozo.yaml'), `${lines.join('\n')}\n`);
  const staging = ['environments:', '  staging:', '    secrets:', '      DB_PASSWORD: { from_store: db-password }'];

  before(async () => {
    store = createPassStore();
    for (const d of [dir, clone]) {
      mkdirSync(d, { recursive: true });
      cpSync(fixture, d, { recursive: true });
      yaml(d, staging);
    }
    base = await analyze(dir);
    cloneBase = await analyze(clone);
  });

  after(() => {
    store?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  test('a stored secret reaches every service of its environment, marked secret', () => {
    storeSecret(dir, 'staging', 'db-password', 'pa55 word');
    const t = topologyFor(base, 'staging');
    for (const s of t.services.filter((x) => !x.composeOnly)) {
      const v = s.env.find((e) => e.name === 'DB_PASSWORD');
      assert.equal(v?.value, 'pa55 word', s.name);
      assert.equal(v?.secret, true);
    }
    // pass holds it encrypted: the value is in no file of the store.
    const grep = spawnSync('grep', ['-rl', 'pa55 word', store.dir], { encoding: 'utf8' });
    assert.equal(grep.status, 1, `found in ${grep.stdout}`);
  });

  test('another checkout of the same project, or another environment, does not get it', () => {
    assert.throws(
      () => topologyFor(cloneBase, 'staging'),
      (e: Error) =>
        e instanceof EnvironmentError &&
        /secrets\.DB_PASSWORD reads db-password from the secret store, which has none for this workspace's staging; set it: kyozo secret set staging db-password/.test(
          e.message,
        ),
    );
    assert.equal(readStoredSecret(dir, 'production', 'db-password'), undefined);
    assert.notEqual(secretKey(dir, 'staging', 'db-password'), secretKey(clone, 'staging', 'db-password'));
  });

  test('the workspace is named by its real path: a link to it is the same workspace', () => {
    const link = join(work, 'link-to-shop');
    symlinkSync(dir, link);
    assert.equal(readStoredSecret(link, 'staging', 'db-password'), 'pa55 word');
  });

  test("a repository cannot name another entry of the store (a registry's password)", () => {
    // What `docker login` with credsStore: pass keeps for a registry.
    execFileSync(CREDENTIAL_PASS, ['store'], {
      input: JSON.stringify({ ServerURL: '127.0.0.1:5000', Username: 'ci', Secret: 'registry-password' }),
    });
    yaml(dir, ['environments:', '  staging:', '    secrets:', "      STOLEN: { from_store: '127.0.0.1:5000' }"]);
    assert.throws(() => topologyFor(base, 'staging'), /STOLEN\.from_store must match pattern/);
    yaml(dir, ['environments:', '  staging:', '    secrets:', "      STOLEN: { from_store: '../registry' }"]);
    assert.throws(() => topologyFor(base, 'staging'), /STOLEN\.from_store must match pattern/);
    assert.throws(() => secretKey(dir, 'staging', '../../127.0.0.1:5000'), SecretStoreError);
    yaml(dir, staging);
  });

  test('list shows names only, of this workspace; erase removes', () => {
    storeSecret(dir, 'production', 'db-password', 'prod-value');
    storeSecret(clone, 'staging', 'other', 'x');
    assert.deepEqual(listStoredSecrets(dir), [
      { environment: 'production', name: 'db-password' },
      { environment: 'staging', name: 'db-password' },
    ]);
    assert.equal(eraseSecret(dir, 'production', 'db-password'), true);
    assert.equal(eraseSecret(dir, 'production', 'db-password'), false);
    assert.deepEqual(listStoredSecrets(dir), [{ environment: 'staging', name: 'db-password' }]);
  });

  test('no store configured, a helper not installed, an empty value: each says what to do', () => {
    const saved = { store: process.env.KYOZO_SECRET_STORE, config: process.env.DOCKER_CONFIG };
    const config = mkdtempSync(join(tmpdir(), 'kyozo-docker-config-'));
    try {
      delete process.env.KYOZO_SECRET_STORE;
      process.env.DOCKER_CONFIG = config;
      assert.throws(() => readStoredSecret(dir, 'staging', 'db-password'), /no secret store is set: .*credsStore/);
      // The editor's Set Environment Secret stops before asking anything when the store cannot be used at all.
      assert.equal(storeSecretsInfo(dir).unusable, true);
      // What only finds or reads the environment's containers reads no secret, so it works without the store.
      const readOnly = topologyFor(base, 'staging', { secrets: false });
      assert.equal(readOnly.environment?.name, 'staging');
      assert.ok(readOnly.services.every((x) => !x.env.some((e) => e.name === 'DB_PASSWORD')));
      assert.throws(
        () => topologyFor(base, 'staging'),
        (e: Error) =>
          e instanceof EnvironmentError && /reads db-password from the secret store: no secret store/.test(e.message),
      );
      writeFileSync(join(config, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
      assert.equal(readStoredSecret(dir, 'staging', 'db-password'), 'pa55 word', "Docker's credsStore is used");
      assert.deepEqual(storeSecretsInfo(dir), {
        store: 'pass',
        secrets: [{ environment: 'staging', name: 'db-password', variables: ['DB_PASSWORD'], stored: true }],
      });
      process.env.KYOZO_SECRET_STORE = 'kz-not-installed';
      assert.throws(
        () => readStoredSecret(dir, 'staging', 'db-password'),
        (e: Error) =>
          e instanceof SecretStoreError &&
          e.unusable &&
          /docker-credential-kz-not-installed is not installed/.test(e.message),
      );
      assert.equal(storeSecretsInfo(dir).unusable, true);
      process.env.KYOZO_SECRET_STORE = 'pass; rm -rf /';
      assert.throws(() => readStoredSecret(dir, 'staging', 'db-password'), /is not a credential helper name/);
    } finally {
      process.env.KYOZO_SECRET_STORE = saved.store;
      if (saved.config === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved.config;
      rmSync(config, { recursive: true, force: true });
    }
    assert.throws(() => storeSecret(dir, 'staging', 'empty', ''), /is empty: nothing was stored/);
  });
});
