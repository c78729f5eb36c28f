// The workspace root's kyozo.yaml as environments and a registry: overrides applied to a real analysed topology,
// secrets read only from references outside the repository, and each bad input refused with what to do.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Topology } from '../../server/src/protocol';
import { analyze, exportCompose } from '../../server/src/engine/index';
import {
  applyEnvironment,
  EnvironmentError,
  needsConfirmation,
  parseEnvFile,
  readWorkspaceConfig,
  topologyFor,
} from '../../server/src/engine/deploy/environments';
import { parseRegistry, RegistryError, registryFailure } from '../../server/src/engine/deploy/registry';
import { dockerCredentials } from '../../server/src/engine/deploy/registry-credentials';
import { openWorkspace } from '../../server/src/engine/deploy/workspace';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'registry-environments');
const work = mkdtempSync(join(tmpdir(), 'kyozo-environments-'));
const dir = join(work, 'shop');
const secrets = join(work, 'secrets');

function yaml(lines: string[]): void {
  writeFileSync(join(dir, 'kyozo.yaml'), `${lines.join('\n')}\n`);
}

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: Error) => e instanceof EnvironmentError && message.test(e.message));
}

describe('environments of the root kyozo.yaml', () => {
  let base: Topology;

  before(async () => {
    cpSync(fixture, dir, { recursive: true });
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'staging.env'), '# comment\nexport API_TOKEN="from-file"\nPLAIN=one # trailing\n');
    writeFileSync(join(secrets, 'signing.key'), 'key-material\n');
    base = await analyze(dir);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test('a root kyozo.yaml with only workspace settings is no service; one in a subfolder is refused', async () => {
    assert.deepEqual(base.services.map((s) => s.id).sort(), ['web', 'worker']);
    writeFileSync(join(dir, 'worker', 'kyozo.yaml'), 'registry: 127.0.0.1:5000\n');
    const t = await analyze(dir);
    rmSync(join(dir, 'worker', 'kyozo.yaml'));
    const p = t.problems.find((x) => x.file === 'worker/kyozo.yaml');
    assert.match(
      p?.message ?? '',
      /registry configure the whole workspace and are read only from the kyozo\.yaml at its root/,
    );
  });

  test('overrides env, replicas, resources, scaling, ports and base images, without touching the base topology', () => {
    yaml([
      'registry: 127.0.0.1:5000/team',
      'environments:',
      '  staging:',
      '    env: { GREETING: hi, DEBUG: true }',
      `    env_file: ${join(secrets, 'staging.env')}`,
      '    services:',
      '      web:',
      '        port: 9090',
      '        host_port: 18080',
      '        resources: { memory: 1g, cpus: 1.5 }',
      '        scaling: { min: 2, max: 4, target_cpu: 60, cooldown: 2m }',
      '        base_image: kyozo-test/busybox:2',
      `        secrets: { SIGNING_KEY: { file: ${join(secrets, 'signing.key')} } }`,
      '      worker: { replicas: 3, env: { GREETING: worker-hi } }',
      '  production: {}',
    ]);
    const config = readWorkspaceConfig(dir);
    assert.equal(config.registry, '127.0.0.1:5000/team');
    const t = applyEnvironment(base, config, 'staging');
    assert.deepEqual(t.environment, { name: 'staging', baseName: base.name, confirm: false });
    const web = t.services.find((s) => s.id === 'web')!;
    const worker = t.services.find((s) => s.id === 'worker')!;
    const env = (s: typeof web) => Object.fromEntries(s.env.map((e) => [e.name, [e.value, e.secret]]));
    assert.deepEqual(env(web), {
      GREETING: ['hi', false],
      DEBUG: ['true', false],
      API_TOKEN: ['from-file', true],
      PLAIN: ['one', true],
      SIGNING_KEY: ['key-material', true],
    });
    assert.deepEqual(env(worker).GREETING, ['worker-hi', false]);
    assert.equal(env(worker).SIGNING_KEY, undefined, "a service's own secrets are its own");
    assert.deepEqual(
      web.ports.map((p) => [p.container, p.host]),
      [[9090, 18080]],
    );
    assert.deepEqual(web.resources, { memoryMb: 1024, cpus: 1.5 });
    assert.deepEqual(web.scaling, { min: 2, max: 4, targetCpu: 60, cooldownSeconds: 120 });
    assert.equal(web.build?.baseImage, 'kyozo-test/busybox:2');
    assert.equal(worker.replicas, 3);
    // The analysed topology is unchanged.
    const baseWeb = base.services.find((s) => s.id === 'web')!;
    assert.deepEqual(baseWeb.env, []);
    assert.equal(base.environment, undefined);
    // Production asks before deploying unless told otherwise; staging does not.
    assert.equal(needsConfirmation(config, 'production'), true);
    assert.equal(needsConfirmation(config, 'staging'), false);
    // Its own project, state folder and events; the workspace's image names.
    const ws = openWorkspace(t, { stateDir: join(work, 'state') });
    const plain = openWorkspace(base, { stateDir: join(work, 'state') });
    assert.equal(ws.project, `${plain.project}-staging`);
    assert.equal(ws.imageProject, plain.project);
    assert.equal(ws.network, `${plain.project}-staging_default`);
    assert.notEqual(ws.store.dir, plain.store.dir);
    // The compose export of the environment references its secrets, never their values.
    const compose = exportCompose(t).yaml;
    assert.doesNotMatch(compose, /from-file|key-material/);
    assert.match(compose, /API_TOKEN: \$\{API_TOKEN:\?/);
  });

  test('secrets from Kyozo own environment, and a clear error when it is not set', () => {
    yaml(['environments:', '  ci:', '    secrets: { DEPLOY_TOKEN: { from_env: KZ_UNIT_DEPLOY_TOKEN } }']);
    process.env.KZ_UNIT_DEPLOY_TOKEN = 'from-env';
    try {
      const t = topologyFor(base, 'ci');
      assert.equal(t.services[0]!.env.find((e) => e.name === 'DEPLOY_TOKEN')?.value, 'from-env');
    } finally {
      delete process.env.KZ_UNIT_DEPLOY_TOKEN;
    }
    refused(() => topologyFor(base, 'ci'), /secrets\.DEPLOY_TOKEN reads KZ_UNIT_DEPLOY_TOKEN from Kyozo's environment/);
  });

  test('bad input: unknown environment or service, secret literals, secrets inside the repository, invalid keys', () => {
    rmSync(join(dir, 'kyozo.yaml'));
    refused(
      () => topologyFor(base, 'staging'),
      /the workspace's kyozo\.yaml defines no environments; add environments/,
    );
    assert.equal(topologyFor(base, undefined), base);
    yaml(['environments:', '  staging: {}', '  production: {}']);
    refused(() => topologyFor(base, 'prod'), /unknown environment 'prod'.*defines staging, production/);
    yaml(['environments:', '  qa:', '    services:', '      wokrer: { replicas: 2 }']);
    refused(
      () => topologyFor(base, 'qa'),
      /services\.wokrer overrides a service .* \(did you mean worker\?\); its services are web, worker/,
    );
    yaml(['environments:', '  qa:', '    services:', '      web: { env: { STRIPE_API_KEY: sk_live_abcdef } }']);
    refused(() => readWorkspaceConfig(dir), /environments\.qa\.services\.web\.env\.STRIPE_API_KEY looks like a secret/);
    // A placeholder or an interpolation is no secret value.
    yaml(['environments:', '  qa:', '    env: { DB_PASSWORD: "${DB_PASSWORD}", API_KEY: changeme }']);
    assert.doesNotThrow(() => readWorkspaceConfig(dir));
    writeFileSync(join(dir, 'qa.env'), 'API_TOKEN=x\n');
    yaml(['environments:', '  qa:', '    env_file: qa.env']);
    refused(() => topologyFor(base, 'qa'), /env_file qa\.env is inside the workspace/);
    yaml(['environments:', '  qa:', `    env_file: ${join(secrets, 'missing.env')}`]);
    refused(() => topologyFor(base, 'qa'), /missing\.env does not exist; create it or fix the path/);
    yaml(['environments:', '  qa:', '    replicas: 2']);
    refused(() => readWorkspaceConfig(dir), /environments\.qa\.replicas is not an environment setting/);
    yaml(['environments:', '  QA: {}']);
    refused(() => readWorkspaceConfig(dir), /environments/);
    yaml(['environments:', '  qa: [oops']);
    refused(() => readWorkspaceConfig(dir), /kyozo\.yaml:\d+: .*fix the YAML/);
    rmSync(join(dir, 'kyozo.yaml'));
  });

  test('env files: export, quotes, comments', () => {
    assert.deepEqual(parseEnvFile('A=1\n# c\nexport B="two words"\nC=\'x#y\'\nD=3 # note\nnot a line\n'), {
      A: '1',
      B: 'two words',
      C: 'x#y',
      D: '3',
    });
  });
});

describe('registry references and Docker credentials', () => {
  const config = mkdtempSync(join(tmpdir(), 'kyozo-docker-config-'));
  const bin = mkdtempSync(join(tmpdir(), 'kyozo-cred-helper-'));
  const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, PATH: process.env.PATH };

  before(() => {
    process.env.DOCKER_CONFIG = config;
    process.env.PATH = `${bin}:${process.env.PATH}`;
    // A credential helper as docker-credential-helpers implement them: the server on stdin, JSON on stdout.
    writeFileSync(
      join(bin, 'docker-credential-kztest'),
      '#!/bin/sh\nread host\ncase "$host" in\n' +
        '  helped.example:5000) echo \'{"ServerURL":"helped.example:5000","Username":"hu","Secret":"hs"}\' ;;\n' +
        '  token.example) echo \'{"ServerURL":"token.example","Username":"<token>","Secret":"tok"}\' ;;\n' +
        '  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac\n',
    );
    chmodSync(join(bin, 'docker-credential-kztest'), 0o755);
  });

  after(() => {
    process.env.DOCKER_CONFIG = saved.DOCKER_CONFIG;
    process.env.PATH = saved.PATH;
    if (saved.DOCKER_CONFIG === undefined) delete process.env.DOCKER_CONFIG;
    rmSync(config, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  });

  test('parseRegistry accepts host[:port][/path] and refuses the rest', () => {
    assert.equal(parseRegistry('127.0.0.1:5000/', '--registry'), '127.0.0.1:5000');
    assert.equal(parseRegistry('https://registry.example.com/team', '--registry'), 'registry.example.com/team');
    assert.equal(parseRegistry('  ', '--registry'), undefined);
    assert.throws(
      () => parseRegistry('Registry.Example.com:tag', '--registry'),
      (e: Error) => e instanceof RegistryError && /--registry expects a registry such as/.test(e.message),
    );
  });

  test("the engine's push and pull errors become what to do, whatever digits the address has", () => {
    const ref = '127.0.0.1:40345/shop/web:0123456789abcdef';
    const said = (m: string) => registryFailure('pull', ref, m).message;
    assert.match(
      said('Get "http://127.0.0.1:40345/v2/": dial tcp 127.0.0.1:40345: connect: connection refused'),
      /failed: the registry 127\.0\.0\.1:40345 cannot be reached/,
    );
    assert.match(
      said(
        '(HTTP code 500) server error - Head "http://127.0.0.1:40345/v2/shop/web/manifests/x": no basic auth credentials',
      ),
      /was refused by 127\.0\.0\.1:40345: .*docker login 127\.0\.0\.1:40345/,
    );
    assert.match(said('unauthorized: authentication required'), /was refused by/);
    assert.match(said('manifest unknown: manifest unknown'), /is not in the registry .*push it first \(kyozo push\)/);
  });

  test('auths entries, credHelpers, credsStore and none', () => {
    writeFileSync(join(config, 'config.json'), 'not json');
    assert.equal(dockerCredentials('127.0.0.1:5000'), undefined);
    writeFileSync(
      join(config, 'config.json'),
      JSON.stringify({
        auths: {
          'https://127.0.0.1:5000/v1/': { auth: Buffer.from('user:pa:ss').toString('base64') },
          'idt.example': { identitytoken: 'idt' },
        },
        credHelpers: { 'helped.example:5000': 'kztest' },
      }),
    );
    assert.deepEqual(dockerCredentials('127.0.0.1:5000/team'), {
      serveraddress: '127.0.0.1:5000',
      username: 'user',
      password: 'pa:ss',
    });
    assert.deepEqual(dockerCredentials('idt.example'), { serveraddress: 'idt.example', identitytoken: 'idt' });
    assert.deepEqual(dockerCredentials('helped.example:5000'), {
      serveraddress: 'helped.example:5000',
      username: 'hu',
      password: 'hs',
    });
    assert.equal(dockerCredentials('other.example'), undefined);
    writeFileSync(join(config, 'config.json'), JSON.stringify({ credsStore: 'kztest' }));
    assert.deepEqual(dockerCredentials('token.example'), { serveraddress: 'token.example', identitytoken: 'tok' });
    assert.equal(dockerCredentials('unknown.example'), undefined);
  });
});
