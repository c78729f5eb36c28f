// kyozo.autoDeploy through the built language server on the real Docker engine: in a workspace the user has not
// trusted nothing is deployed, and granting trust later starts the auto-deploy without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { projectName } from '../../server/src/engine/deploy/labels';
import {
  Methods,
  type EngineStateParams,
  type ServiceStatusParams,
  type WorkspaceTrustParams,
} from '../../server/src/protocol';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { startSession, type LspSession } from '../unit/lsp-harness';

type Progress = LspSession['progress'][number];
const autoDeployBegin = (p: Progress) => p.value.kind === 'begin' && /auto-deploy/.test(p.value.title ?? '');

describe('auto-deploy and workspace trust on a real engine', async () => {
  const baseImages = { node: TEST_BASE_IMAGES.node, static: TEST_BASE_IMAGES.busybox };
  const available = await engineAvailable();
  let s: LspSession;
  before(async () => {
    if (!available) return;
    await ensureTestBaseImages();
    const options = { realEngine: true, baseImages, autoDeploy: true, workspaceTrusted: false };
    s = await startSession('vscode-workspace', options);
  });
  after(async () => {
    if (!s) return;
    const project = projectName(s.topologies[0].topology.name);
    await s.close();
    await cleanupWorkspace(project, { images: true });
  });

  const test = 'deploys nothing while untrusted, starts the auto-deploy once trust is granted, and only once';
  it(test, { skip: !available, timeout: 120_000 }, async () => {
    // The first statuses are published where auto-deploy would begin (maybe while the session was starting).
    const statuses = (p: unknown) => (p as ServiceStatusParams).folderUri === s.folderUri;
    if (!s.notifications.some((n) => n.method === Methods.serviceStatus && statuses(n.params))) {
      await s.next(Methods.serviceStatus, statuses, 30_000);
    }
    const engine = s.notifications.filter((n) => n.method === Methods.engineState).at(-1)?.params as EngineStateParams;
    assert.equal(engine?.reachable, true, JSON.stringify(engine));
    const quiet = s.next<Progress>('$/progress', autoDeployBegin, 3_000).then(
      () => 'began',
      () => 'quiet',
    );
    assert.equal(await quiet, 'quiet', 'no auto-deploy began in the untrusted workspace');
    assert.deepEqual(
      s.progress.filter(autoDeployBegin).map((p) => p.value.title),
      [],
    );
    const filters = { label: [`dev.kyozo.root=${s.folder}`] };
    const containers = await testDocker().listContainers({ all: true, filters });
    assert.deepEqual(
      containers.map((c) => c.Names),
      [],
    );

    const began = s.next<Progress>('$/progress', autoDeployBegin, 30_000);
    const granted: WorkspaceTrustParams = { trusted: true };
    await s.connection.sendNotification(Methods.workspaceTrust, granted);
    const { token } = await began;
    // Stop it there: what is checked is that it starts; deploying is covered by lsp-deploy.test.ts.
    const ended = s.next<Progress>('$/progress', (p) => p.token === token && p.value.kind === 'end', 60_000);
    await s.connection.sendNotification('window/workDoneProgress/cancel', { token });
    await ended;

    // A settings change reconnects to the engine and readies the folder again (as the configuration refresh after a
    // trust grant does): the folder was auto-deployed in this session already.
    const reconnected = s.next<EngineStateParams>(Methods.engineState, (p) => p.reachable, 30_000);
    const settings = { docker: {}, baseImages, defaults: {}, ignore: [], autoDeploy: true };
    await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { kyozo: settings } });
    await reconnected;
    const again = await s.next<Progress>('$/progress', autoDeployBegin, 3_000).then(
      () => 'began',
      () => 'quiet',
    );
    assert.equal(again, 'quiet', 'no second auto-deploy');
  });
});
