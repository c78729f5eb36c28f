// The editor's environments and registry through the built language server (workspace/executeCommand, settings by
// workspace/didChangeConfiguration as the extension sends them) on the real engine and a loopback distribution
// registry: the active environment deploys as its own project and its state is what the server publishes; Push has
// work-done progress and the Registry commands report the pushed digest; production asks first; a bad environment is
// refused with what to fix.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Methods,
  ServerCommands,
  type EnvironmentInfo,
  type KyozoSettings,
  type PushedImage,
  type KyozoExperimentalCapabilities,
  type RegistryImageInfo,
  type StoreSecretInfo,
  type ServiceStatus,
  type ServiceStatusParams,
} from '../../server/src/protocol';
import { projectName } from '../../server/src/engine/deploy/labels';
import { ensureTestBaseImages } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { registryAvailable, startRegistry, type LoopbackRegistry } from '../support/loopback-registry';
import { CREDENTIAL_PASS, createPassStore, passStoreMissing, type PassStore } from '../support/pass-store';
import { sealValue } from '../../extension/src/sealed-value';
import { startSession, type LspSession } from '../unit/lsp-harness';

describe('language server environments and registry on a real engine', async () => {
  const available = (await engineAvailable()) && !registryAvailable();
  let s: LspSession;
  let registry: LoopbackRegistry;
  let project: string;
  // The secret store the server's process inherits (made before it starts): pass behind docker-credential-pass.
  let store: PassStore | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'kyozo-lsp-env-state-'));
  const saved = process.env.KYOZO_STATE_DIR;

  const configure = async (settings: Partial<KyozoSettings>) => {
    const kyozo: Partial<KyozoSettings> = { docker: {}, baseImages: {}, defaults: {}, ignore: [], ...settings };
    await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { kyozo } });
  };
  const execute = <T>(command: string, args: unknown[], workDoneToken?: string) =>
    s.connection.sendRequest<T>('workspace/executeCommand', { command, arguments: args, workDoneToken });

  before(async () => {
    if (!available) return;
    await ensureTestBaseImages();
    registry = await startRegistry();
    process.env.KYOZO_STATE_DIR = stateDir;
    if (!passStoreMissing()) {
      store = createPassStore();
      // docker-credential-pass behind a wrapper that notes each call, to count how often the server reads the store.
      const bin = join(store.dir, 'bin');
      mkdirSync(bin);
      writeFileSync(
        join(bin, 'docker-credential-kztest-pass'),
        `#!/bin/sh\necho "$1" >> ${join(store.dir, 'calls')}\nexec ${CREDENTIAL_PASS} "$@"\n`,
        { mode: 0o755 },
      );
      process.env.PATH = `${bin}:${process.env.PATH}`;
      process.env.KYOZO_SECRET_STORE = 'kztest-pass';
    } else if (process.env.CI === 'true') throw new Error(passStoreMissing());
    s = await startSession('registry-environments', { realEngine: true });
    project = projectName(basename(s.folder));
    if (!s.topologies.length) await s.next(Methods.topology, () => true, 60_000);
  });

  after(async () => {
    if (saved === undefined) delete process.env.KYOZO_STATE_DIR;
    else process.env.KYOZO_STATE_DIR = saved;
    if (!s) return;
    await s.close();
    for (const env of ['staging', 'production']) await cleanupWorkspace(`${project}-${env}`);
    await cleanupWorkspace(project, { images: true });
    for (const img of await testDocker().listImages())
      for (const t of (img.RepoTags ?? []).filter((x) => x.includes(`/${project}/`)))
        await testDocker()
          .getImage(t)
          .remove({ force: true })
          .catch(() => undefined);
    await registry.stop();
    if (store) process.env.PATH = process.env.PATH!.split(':').slice(1).join(':');
    store?.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it(
    'deploys the active environment as its own project and publishes its state',
    { skip: !available, timeout: 300_000 },
    async () => {
      await configure({ environment: 'staging', registry: registry.address });
      const info = await execute<EnvironmentInfo>(ServerCommands.environments, [s.folderUri]);
      assert.deepEqual(info, {
        active: 'staging',
        environments: ['staging', 'production'],
        confirm: false,
        registry: registry.address,
      });
      const published = s.next<ServiceStatusParams>(
        Methods.serviceStatus,
        (p) => p.statuses.some((x) => x.serviceId === 'worker' && x.replicas.running === 2),
        240_000,
      );
      const statuses = await execute<ServiceStatus[]>(ServerCommands.deployAll, [s.folderUri]);
      assert.deepEqual(
        statuses.map((x) => [x.serviceId, x.state, x.replicas.running]),
        [
          ['web', 'running', 1],
          ['worker', 'running', 2],
        ],
      );
      await published;
      const label = [`dev.kyozo.workspace=${project}-staging`];
      const containers = await testDocker().listContainers({ filters: { label } });
      assert.equal(containers.length, 3);
      const env = (await testDocker().getContainer(containers[0]!.Id).inspect()).Config.Env ?? [];
      assert.ok(env.includes('GREETING=hello from staging'));
      const plain = await testDocker().listContainers({ filters: { label: [`dev.kyozo.workspace=${project}`] } });
      assert.equal(plain.length, 0, 'the workspace itself was not deployed');
    },
  );

  it(
    'pushes a service with work-done progress; the Registry lists its tag and digest',
    { skip: !available, timeout: 300_000 },
    async () => {
      s.watchProgress('push-web');
      const pushed = await execute<PushedImage[]>(ServerCommands.push, [s.folderUri, 'web'], 'push-web');
      assert.equal(pushed.length, 1);
      assert.match(pushed[0]!.reference, new RegExp(`^${registry.address}/${project}/web:[0-9a-f]{16}$`));
      assert.match(pushed[0]!.digest, /^sha256:[0-9a-f]{64}$/);
      const progress = s.progress.filter((p) => p.token === 'push-web').map((p) => p.value);
      assert.equal(progress[0]?.title, 'Kyozo: Pushing web');
      assert.ok(progress.some((p) => /web: pushed/.test(p.message ?? '')));
      assert.equal(progress.at(-1)?.kind, 'end');
      const images = await execute<RegistryImageInfo[]>(ServerCommands.registryImages, [s.folderUri]);
      const web = images.find((i) => i.serviceId === 'web')!;
      const worker = images.find((i) => i.serviceId === 'worker')!;
      assert.equal(web.reference, pushed[0]!.reference);
      assert.equal(web.digest, pushed[0]!.digest);
      assert.match(web.localImage ?? '', /^sha256:/);
      assert.equal(worker.digest, undefined, 'worker was not pushed');
    },
  );

  it(
    'production asks before a deploy; an unknown environment is refused with what to fix',
    { skip: !available, timeout: 120_000 },
    async () => {
      await configure({ environment: 'production', registry: registry.address });
      const production = await execute<EnvironmentInfo>(ServerCommands.environments, [s.folderUri]);
      assert.equal(production.confirm, true);
      await configure({ environment: 'prod' });
      const unknown = await execute<EnvironmentInfo>(ServerCommands.environments, [s.folderUri]);
      assert.match(unknown.error ?? '', /unknown environment 'prod' \(did you mean production\?\)/);
      await assert.rejects(
        execute(ServerCommands.deployAll, [s.folderUri]),
        /Kyozo environment: unknown environment 'prod'/,
      );
      const noRegistry = await execute<RegistryImageInfo[]>(ServerCommands.registryImages, [s.folderUri]).catch(
        (e: Error) => e,
      );
      assert.match(String(noRegistry), /Kyozo environment: unknown environment 'prod'/);
      await configure({});
      await assert.rejects(
        execute(ServerCommands.registryImages, [s.folderUri]),
        /no registry is set: set kyozo\.registry/,
      );
    },
  );

  it(
    'Set Environment Secret: lists what kyozo.yaml names, stores the sealed value, and staging deploys with it',
    { skip: !available || !!passStoreMissing(), timeout: 300_000 },
    async () => {
      const file = join(s.folder, 'kyozo.yaml');
      const original = readFileSync(file, 'utf8');
      const value = `sealed-${Date.now()} with spaces`;
      try {
        writeFileSync(
          file,
          original.replace(
            '  staging:\n',
            '  staging:\n    secrets:\n      DB_PASSWORD: { from_store: db-password }\n',
          ),
        );
        await configure({ environment: 'staging' });
        const before = await execute<EnvironmentInfo>(ServerCommands.environments, [s.folderUri]);
        assert.match(
          before.error ?? '',
          /has none for this workspace's staging; set it: kyozo secret set staging db-password/,
        );
        const listed = await execute<{ store?: string; secrets: StoreSecretInfo[] }>(ServerCommands.secrets, [
          s.folderUri,
        ]);
        assert.deepEqual(listed, {
          store: 'kztest-pass',
          secrets: [{ environment: 'staging', name: 'db-password', variables: ['DB_PASSWORD'], stored: false }],
        });
        // The value goes sealed to the key the server announced; a plain string is refused.
        await assert.rejects(
          execute(ServerCommands.setSecret, [s.folderUri, 'staging', 'db-password', value]),
          /must be sealed to the server/,
        );
        const key = (s.initializeResult?.capabilities.experimental as { kyozo: KyozoExperimentalCapabilities }).kyozo
          .sealingKey;
        const sealed = sealValue(value, key);
        assert.ok(!JSON.stringify(sealed).includes(value));
        await assert.rejects(
          execute(ServerCommands.setSecret, [s.folderUri, 'stagin', 'db-password', sealed]),
          /unknown environment 'stagin' \(did you mean staging\?\)/,
        );
        const tampered = {
          ...sealed,
          ct: Buffer.from(Buffer.from(sealed.ct, 'base64').map((b) => b ^ 1)).toString('base64'),
        };
        await assert.rejects(
          execute(ServerCommands.setSecret, [s.folderUri, 'staging', 'db-password', tampered]),
          /does not open with this server/,
        );
        const stored = await execute(ServerCommands.setSecret, [s.folderUri, 'staging', 'db-password', sealed]);
        assert.deepEqual(stored, { environment: 'staging', name: 'db-password', store: 'kztest-pass' });
        const after = await execute<{ secrets: StoreSecretInfo[] }>(ServerCommands.secrets, [s.folderUri]);
        assert.equal(after.secrets[0]!.stored, true);
        assert.equal((await execute<EnvironmentInfo>(ServerCommands.environments, [s.folderUri])).error, undefined);

        const statuses = await execute<ServiceStatus[]>(ServerCommands.deploy, [s.folderUri, 'web']);
        assert.equal(statuses.find((x) => x.serviceId === 'web')?.state, 'running');
        const [web] = await testDocker().listContainers({
          filters: { label: [`dev.kyozo.workspace=${project}-staging`, 'dev.kyozo.service=web'] },
        });
        const env = (await testDocker().getContainer(web!.Id).inspect()).Config.Env ?? [];
        assert.ok(env.includes(`DB_PASSWORD=${value}`), 'the stored value reaches staging');
        // Status, events and the autoscaler's tick (every 5 s) do not read the store again: only commands do.
        const reads = () =>
          existsSync(join(store!.dir, 'calls')) ? readFileSync(join(store!.dir, 'calls'), 'utf8') : '';
        const readsBefore = reads().split('\n').length;
        await new Promise((r) => setTimeout(r, 6_000));
        assert.equal(reads().split('\n').length, readsBefore, `the store was read again: ${reads()}`);
        // Nothing the server sent the client holds it.
        const sent = JSON.stringify([s.notifications, s.requests, s.progress]);
        assert.ok(!sent.includes(value), 'not in any message from the server');
      } finally {
        writeFileSync(file, original);
      }
    },
  );
});
