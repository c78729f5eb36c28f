// The registry and environments on a real engine and real loopback registries (Debian's docker-registry, open and
// behind htpasswd), through the `kyozo` CLI as a user runs it: push, then up --from-registry on an engine without the
// project's images; staging and production side by side; promote moving digests without a build; secrets only in the
// containers' run-time environment (one kept in a real secret store, pass through docker-credential-pass, set with
// `kyozo secret set`); and clear errors for wrong credentials, an unreachable registry and bad input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeploymentEvent } from '../../server/src/protocol';
import { cleanupWorkspace, dockerCli, engineAvailable, testDocker } from '../support/docker-engine';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { kyozoCli } from '../support/kyozo-cli';
import { createPassStore, passStoreMissing, type PassStore } from '../support/pass-store';
import {
  dockerConfigWith,
  freePort,
  registryAvailable,
  startRegistry,
  type LoopbackRegistry,
} from '../support/loopback-registry';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'registry-environments');
const run = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kyozo-registry-env-'));
const project = `kz-re-${run}`;
const dir = join(work, project);
const stateDir = join(work, 'state');
const kyozo = kyozoCli(stateDir);
// Values that must reach the containers' environment and nowhere else.
const FILE_SECRET = `file-secret-${randomBytes(8).toString('hex')}`;
const ENV_SECRET = `env-secret-${randomBytes(8).toString('hex')}`;
const STORE_SECRET = `store-secret-${randomBytes(8).toString('hex')}`;

const docker = testDocker();

async function containers(env: string, service?: string) {
  const label = [`dev.kyozo.workspace=${project}-${env}`];
  if (service) label.push(`dev.kyozo.service=${service}`);
  return docker.listContainers({ all: true, filters: { label } });
}

async function envOf(id: string): Promise<Record<string, string>> {
  const info = await docker.getContainer(id).inspect();
  return Object.fromEntries(
    (info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

async function projectImages(): Promise<string[]> {
  const all = await docker.listImages();
  return all
    .filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(`kyozo-${project}/`) || t.includes(`/${project}/`)))
    .map((i) => i.Id);
}

async function removeProjectImages(): Promise<void> {
  for (const img of await docker.listImages()) {
    const tags = (img.RepoTags ?? []).filter((t) => t.startsWith(`kyozo-${project}/`) || t.includes(`/${project}/`));
    for (const t of tags) await docker.getImage(t).remove({ force: true });
  }
}

function events(env: string): DeploymentEvent[] {
  const folder = readdirSync(stateDir).find((d) => d.startsWith(`${project}-${env}-`));
  assert.ok(folder, `a state folder for ${env}`);
  return readFileSync(join(stateDir, folder, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DeploymentEvent);
}

function writeWorkspaceYaml(extra = ''): void {
  writeFileSync(
    join(dir, 'kyozo.yaml'),
    [
      'environments:',
      '  staging:',
      '    env:',
      '      GREETING: hello from staging',
      `    env_file: ${join(work, 'secrets', 'staging.env')}`,
      '    secrets:',
      '      SESSION_TOKEN: { from_env: KZ_RE_SESSION_TOKEN }',
      '      STORE_TOKEN: { from_store: store-token }',
      '    services:',
      '      worker:',
      '        replicas: 2',
      '  production:',
      '    env:',
      '      GREETING: hello from production',
      '    services:',
      '      worker:',
      '        replicas: 3',
      extra,
    ].join('\n'),
  );
}

describe('registry and environments on a real engine and registry', { timeout: 900_000 }, async () => {
  if (!(await engineAvailable())) {
    test('registry and environments', { skip: 'no Docker engine' }, () => undefined);
    return;
  }
  const missing = registryAvailable() ?? passStoreMissing();
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    test('registry and environments', { skip: missing }, () => undefined);
    return;
  }
  let open: LoopbackRegistry;
  let locked: LoopbackRegistry;
  let store: PassStore;
  const pushed: Record<string, string> = {};

  before(async () => {
    await ensureTestBaseImages();
    cpSync(fixture, dir, { recursive: true });
    mkdirSync(join(work, 'secrets'));
    writeFileSync(join(work, 'secrets', 'staging.env'), `# staging only\nAPI_TOKEN=${FILE_SECRET}\n`, { mode: 0o600 });
    writeWorkspaceYaml();
    process.env.KZ_RE_SESSION_TOKEN = ENV_SECRET;
    store = createPassStore();
    const set = await kyozo(['secret', 'set', 'staging', 'store-token', '-d', dir], 60_000, `${STORE_SECRET}\n`);
    assert.equal(set.status, 0, set.stderr);
    assert.doesNotMatch(set.stdout + set.stderr, new RegExp(STORE_SECRET));
    open = await startRegistry();
    locked = await startRegistry({ user: 'kyozo', password: 'right-password' });
  });

  after(async () => {
    for (const env of ['staging', 'production']) await cleanupWorkspace(`${project}-${env}`);
    await removeProjectImages().catch(() => undefined);
    await open?.stop();
    await locked?.stop();
    store?.cleanup();
    delete process.env.DOCKER_CONFIG;
    rmSync(work, { recursive: true, force: true });
  });

  test('push, then up --from-registry on an engine without the project images runs the pushed digests', async () => {
    const push = await kyozo(['push', dir, '--registry', open.address, '--json']);
    assert.equal(push.status, 0, push.stderr);
    const results = JSON.parse(push.stdout) as { serviceId: string; reference: string; digest: string }[];
    assert.deepEqual(results.map((r) => r.serviceId).sort(), ['web', 'worker']);
    for (const r of results) {
      assert.match(r.reference, new RegExp(`^${open.address}/${project}/${r.serviceId}:[0-9a-f]{16}$`));
      assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
      pushed[r.serviceId] = `${r.reference.slice(0, r.reference.lastIndexOf(':'))}@${r.digest}`;
    }
    // The OCI labels on what was pushed: folder, content hash, Kyozo version (no git commit: the copy is no repository).
    const labels = (await docker.getImage(results[0]!.reference).inspect()).Config.Labels ?? {};
    assert.equal(labels['org.opencontainers.image.source'], results[0]!.serviceId);
    assert.match(labels['dev.kyozo.content-hash'] ?? '', /^[0-9a-f]{64}$/);
    assert.equal(labels['dev.kyozo.version'], JSON.parse(readFileSync('package.json', 'utf8')).version);
    assert.equal(labels['org.opencontainers.image.revision'], undefined);

    await removeProjectImages();
    assert.deepEqual(await projectImages(), [], 'the engine has none of the project images');
    const up = await kyozo(['up', dir, '--env', 'staging', '--from-registry', '--registry', open.address]);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, new RegExp(`pulling web from ${open.address}`));
    for (const service of ['web', 'worker']) {
      const [c] = await containers('staging', service);
      const image = await docker.getImage(c!.ImageID).inspect();
      assert.ok(image.RepoDigests?.includes(pushed[service]!), `${service} runs ${pushed[service]}`);
    }
    const started = events('staging').filter((e) => e.type === 'service_started');
    assert.deepEqual(
      started.map((e) => e.details?.built),
      [false, false],
      'nothing was built',
    );
    assert.ok(
      !(await docker.listImages()).some((i) => (i.RepoTags ?? []).some((t) => t.startsWith(`kyozo-${project}/`))),
    );
  });

  test('staging and production run side by side with their own values, replicas, ports, network and events', async () => {
    const up = await kyozo(['up', dir, '--env', 'production']);
    assert.equal(up.status, 0, up.stderr);
    assert.equal((await containers('staging', 'worker')).length, 2);
    assert.equal((await containers('production', 'worker')).length, 3);
    const [stagingWeb] = await containers('staging', 'web');
    const [productionWeb] = await containers('production', 'web');
    assert.equal((await envOf(stagingWeb!.Id)).GREETING, 'hello from staging');
    assert.equal((await envOf(productionWeb!.Id)).GREETING, 'hello from production');
    // Staging's secrets are staging's: production has none of them.
    assert.equal((await envOf(productionWeb!.Id)).API_TOKEN, undefined);
    assert.equal((await envOf(productionWeb!.Id)).STORE_TOKEN, undefined);
    assert.notEqual(stagingWeb!.Ports[0]?.PublicPort, productionWeb!.Ports[0]?.PublicPort);
    assert.deepEqual(Object.keys(stagingWeb!.NetworkSettings.Networks), [`${project}-staging_default`]);
    assert.deepEqual(Object.keys(productionWeb!.NetworkSettings.Networks), [`${project}-production_default`]);
    const ps = await kyozo(['ps', dir, '--env', 'production', '--json', '--no-stats']);
    assert.equal(ps.status, 0, ps.stderr);
    const statuses = JSON.parse(ps.stdout) as { name: string; state: string; replicas: { running: number } }[];
    assert.deepEqual(
      statuses.map((s) => [s.name, s.state, s.replicas.running]),
      [
        ['web', 'running', 1],
        ['worker', 'running', 3],
      ],
    );
    assert.ok(events('production').every((e) => e.workspace === `${project}-production`));
    assert.ok(events('staging').every((e) => e.workspace === `${project}-staging`));
  });

  test('promote deploys the digests staging runs to production, without a build', async () => {
    const imagesBefore = (await projectImages()).sort();
    const promoted = await kyozo(['promote', 'staging', 'production', '-d', dir, '--json']);
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.deepEqual((await projectImages()).sort(), imagesBefore, 'no image was built');
    for (const service of ['web', 'worker']) {
      const staging = (await containers('staging', service)).map((c) => c.ImageID);
      const production = (await containers('production', service)).map((c) => c.ImageID);
      assert.equal(new Set([...staging, ...production]).size, 1, `${service}: one image in both environments`);
      const image = await docker.getImage(production[0]!).inspect();
      assert.ok(image.RepoDigests?.includes(pushed[service]!));
    }
    assert.equal((await containers('production', 'worker')).length, 3, 'production keeps its own replica count');
    const [productionWeb] = await containers('production', 'web');
    assert.equal((await envOf(productionWeb!.Id)).GREETING, 'hello from production', 'and its own values');
    const prod = events('production');
    const start = prod.filter((e) => e.type === 'deployment_started').at(-1)!;
    const promotion = start.details?.promotion as { from: string; to: string; images: Record<string, string> };
    assert.equal(promotion.from, 'staging');
    assert.equal(promotion.to, 'production');
    assert.equal(promotion.images.web, pushed.web);
    assert.equal(start.message, 'promoted from staging to production');
    const deployment = start.details?.deployment;
    const started = prod.filter((e) => e.type === 'service_started' && e.details?.deployment === deployment);
    assert.deepEqual(
      started.map((e) => e.details?.built),
      [false, false],
    );
    assert.ok(events('staging').some((e) => e.message === 'promoted to production'));
  });

  test('promote refuses an unhealthy staging and leaves production as it was', async () => {
    const before = (await containers('production')).map((c) => c.Id).sort();
    for (const c of await containers('staging', 'worker')) await docker.getContainer(c.Id).stop({ t: 1 });
    const promoted = await kyozo(['promote', 'staging', 'production', '-d', dir]);
    assert.equal(promoted.status, 1);
    assert.match(promoted.stderr, /staging is not healthy, so nothing was promoted to production: worker is stopped/);
    assert.deepEqual((await containers('production')).map((c) => c.Id).sort(), before);
    const up = await kyozo(['up', dir, '--env', 'staging', 'worker']);
    assert.equal(up.status, 0, up.stderr);
  });

  test('secrets reach the containers and nothing else: not images, labels, logs, events or output', async () => {
    const [web] = await containers('staging', 'web');
    const env = await envOf(web!.Id);
    assert.equal(env.API_TOKEN, FILE_SECRET);
    assert.equal(env.SESSION_TOKEN, ENV_SECRET);
    assert.equal(env.STORE_TOKEN, STORE_SECRET);
    const leaks = (text: string) => [FILE_SECRET, ENV_SECRET, STORE_SECRET].filter((s) => text.includes(s));
    for (const c of await containers('staging')) {
      const info = await docker.getContainer(c.Id).inspect();
      assert.deepEqual(leaks(JSON.stringify(info.Config.Labels)), [], 'container labels');
      assert.deepEqual(leaks(dockerCli(['history', '--no-trunc', info.Image])), [], 'image history');
      assert.deepEqual(leaks(dockerCli(['image', 'inspect', info.Image])), [], 'image config');
      const logs = execFileSync('docker', ['logs', c.Id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.deepEqual(leaks(logs), [], 'container logs');
    }
    for (const env of ['staging', 'production'])
      assert.deepEqual(leaks(JSON.stringify(events(env))), [], `${env} events`);
    const outputs = await Promise.all([
      kyozo(['ps', dir, '--env', 'staging', '--json', '--no-stats']),
      kyozo(['events', '-d', dir, '--env', 'staging', '--json']),
      kyozo(['logs', 'web', '-d', dir, '--env', 'staging']),
      kyozo(['compose', dir, '--env', 'staging']),
      kyozo(['up', dir, '--env', 'staging', '--json']),
    ]);
    for (const o of outputs) {
      assert.equal(o.status, 0, o.stderr);
      assert.deepEqual(leaks(o.stdout + o.stderr), []);
    }
    // The compose export references them.
    assert.match(outputs[3]!.stdout, /API_TOKEN: \$\{API_TOKEN:\?/);
    // Without the secrets (the store's helper gone, the variable unset, the env file away), what only finds or reads
    // the environment's containers still works; a deploy is refused.
    const saved = { store: process.env.KYOZO_SECRET_STORE, session: process.env.KZ_RE_SESSION_TOKEN };
    process.env.KYOZO_SECRET_STORE = 'kz-not-installed';
    delete process.env.KZ_RE_SESSION_TOKEN;
    renameSync(join(work, 'secrets'), join(work, 'secrets-away'));
    try {
      for (const args of [
        ['ps', dir, '--env', 'staging', '--json', '--no-stats'],
        ['events', '-d', dir, '--env', 'staging', '--json'],
        ['logs', 'web', '-d', dir, '--env', 'staging'],
      ]) {
        const r = await kyozo(args);
        assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      }
      const refused = await kyozo(['up', dir, '--env', 'staging']);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /environments\.staging/);
    } finally {
      renameSync(join(work, 'secrets-away'), join(work, 'secrets'));
      process.env.KYOZO_SECRET_STORE = saved.store;
      process.env.KZ_RE_SESSION_TOKEN = saved.session;
    }
    assert.match(outputs[3]!.stdout, new RegExp(`docker compose -p ${project}-staging up`));
  });

  test('a registry with basic auth: Docker credentials push; a wrong password or no registry fail clearly', async () => {
    process.env.DOCKER_CONFIG = dockerConfigWith(locked.address, 'kyozo', 'right-password');
    const push = await kyozo(['push', dir, 'web', '--registry', locked.address]);
    assert.equal(push.status, 0, push.stderr);
    assert.match(push.stdout, new RegExp(`pushed ${locked.address}/${project}/web:[0-9a-f]{16}@sha256:`));
    assert.doesNotMatch(push.stdout + push.stderr, /right-password/);

    const running = (await containers('staging')).map((c) => `${c.Id} ${c.State}`).sort();
    process.env.DOCKER_CONFIG = dockerConfigWith(locked.address, 'kyozo', 'wrong-password');
    const refused = await kyozo(['up', dir, '--env', 'staging', '--from-registry', '--registry', locked.address]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`refused by ${locked.address}.*docker login ${locked.address}`));
    assert.doesNotMatch(refused.stderr, /wrong-password/);
    const pushRefused = await kyozo(['push', dir, 'web', '--registry', locked.address]);
    assert.equal(pushRefused.status, 1);
    assert.match(pushRefused.stderr, /was refused by/);

    const nobody = `127.0.0.1:${await freePort()}`;
    const unreachable = await kyozo(['up', dir, '--env', 'staging', '--from-registry', '--registry', nobody]);
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, new RegExp(`the registry ${nobody} cannot be reached`));
    assert.deepEqual((await containers('staging')).map((c) => `${c.Id} ${c.State}`).sort(), running);
    delete process.env.DOCKER_CONFIG;
  });

  test('bad input is refused with exit code 2 before anything runs (the cases are in unit/environments.test.ts)', async () => {
    const unknown = await kyozo(['up', dir, '--env', 'stagin']);
    assert.equal(unknown.status, 2);
    assert.match(
      unknown.stderr,
      /unknown environment 'stagin' \(did you mean staging\?\); kyozo\.yaml defines staging, production/,
    );
    writeWorkspaceYaml('  qa:\n    services:\n      wokrer:\n        replicas: 2\n');
    const service = await kyozo(['ps', dir, '--env', 'qa']);
    assert.equal(service.status, 2);
    assert.match(service.stderr, /environments\.qa\.services\.wokrer overrides a service this workspace does not have/);
    writeWorkspaceYaml();
    const badRegistry = await kyozo(['push', dir, '--registry', 'Not A Registry']);
    assert.equal(badRegistry.status, 2);
    assert.match(badRegistry.stderr, /--registry expects a registry such as registry\.example\.com/);
  });
});
