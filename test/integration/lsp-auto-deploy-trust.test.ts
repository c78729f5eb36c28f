// kyozo.autoDeploy through the built language server on the real Docker engine: in a workspace the user has not
// trusted nothing is deployed, and granting trust later starts the auto-deploy without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { projectName } from '../../server/src/engine/deploy/labels';
import { Methods, type EngineStateParams, type ServiceStatusParams, type WorkspaceTrustParams } from '../../server/src/protocol';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { startSession, type LspSession } from '../unit/lsp-harness';

type Progress = LspSession['progress'][number];
const autoDeployBegin = (p: Progress) => p.value.kind === 'begin' && /auto-deploy/.test(p.value.title ?? '');

describe('auto-deploy and workspace trust on a real engine', async () => {
  const available = await engineAvailable();
  let s: LspSession;
  before(async () => {
    if (!available) return;
    await ensureTestBaseImages();
    s = await startSession('vscode-workspace', {
      realEngine: true, baseImages: { node: TEST_BASE_IMAGES.node, static: TEST_BASE_IMAGES.busybox }, autoDeploy: true, workspaceTrusted: false,
    });
  });
  after(async () => {
    if (!s) return;
    const project = projectName(s.topologies[0].topology.name);
    await s.close();
    await cleanupWorkspace(project, { images: true });
  });

  it('deploys nothing while untrusted, and starts the auto-deploy once trust is granted', { skip: !available, timeout: 120_000 }, async () => {
    // The first statuses are published where auto-deploy would begin (it may have happened while the session started).
    const statuses = (p: unknown) => (p as ServiceStatusParams).folderUri === s.folderUri;
    if (!s.notifications.some((n) => n.method === Methods.serviceStatus && statuses(n.params))) {
      await s.next(Methods.serviceStatus, statuses, 30_000);
    }
    const engine = s.notifications.filter((n) => n.method === Methods.engineState).at(-1)?.params as EngineStateParams | undefined;
    assert.equal(engine?.reachable, true, JSON.stringify(engine));
    const quiet = s.next<Progress>('$/progress', autoDeployBegin, 3_000).then(() => 'began', () => 'quiet');
    assert.equal(await quiet, 'quiet', 'no auto-deploy began in the untrusted workspace');
    assert.deepEqual(s.progress.filter(autoDeployBegin).map((p) => p.value.title), []);
    const containers = await testDocker().listContainers({ all: true, filters: { label: [`dev.kyozo.root=${s.folder}`] } });
    assert.deepEqual(containers.map((c) => c.Names), []);

    const began = s.next<Progress>('$/progress', autoDeployBegin, 30_000);
    const granted: WorkspaceTrustParams = { trusted: true };
    await s.connection.sendNotification(Methods.workspaceTrust, granted);
    const { token } = await began;
    // Stop it there: what is checked is that it starts; deploying is covered by lsp-deploy.test.ts.
    const ended = s.next<Progress>('$/progress', (p) => p.token === token && p.value.kind === 'end', 60_000);
    await s.connection.sendNotification('window/workDoneProgress/cancel', { token });
    await ended;
  });
});
