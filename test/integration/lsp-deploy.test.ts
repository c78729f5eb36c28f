// Deploy commands through the built language server (workspace/executeCommand) against the real Docker engine:
// work-done progress, kyozo/serviceStatus, live CodeLens, streamed logs, stop, and cancellation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import type { CodeLens } from 'vscode-languageserver-protocol';
import {
  Methods,
  ServerCommands,
  type LogOutputParams,
  type ServiceStatus,
  type ServiceStatusParams,
} from '../../server/src/protocol';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../support/docker-base-images';
import { ensureTestGatewayImage, TEST_GATEWAY_IMAGE } from '../support/gateway-image';
import { cleanupWorkspace, engineAvailable, testDocker } from '../support/docker-engine';
import { startSession, type LspSession } from '../unit/lsp-harness';

describe('language server deploy commands on a real engine', async () => {
  const available = await engineAvailable();
  let s: LspSession;
  before(async () => {
    if (!available) return;
    await ensureTestBaseImages();
    // Two replicas are served through a gateway: a local nginx image, since none can be pulled.
    await ensureTestGatewayImage();
    s = await startSession('vscode-workspace', {
      realEngine: true,
      baseImages: { node: TEST_BASE_IMAGES.node },
      images: { gateway: TEST_GATEWAY_IMAGE },
    });
  });
  after(async () => {
    if (!s) return;
    const projects = new Set(
      (await testDocker().listContainers({ all: true, filters: { label: [`dev.kyozo.root=${s.folder}`] } })).map(
        (c) => c.Labels['dev.kyozo.workspace'],
      ),
    );
    await s.close();
    for (const p of projects) await cleanupWorkspace(p, { images: true });
  });

  it(
    'deploys with work-done progress, pushes the running status and turns the CodeLens to Stop/Open',
    { skip: !available, timeout: 240_000 },
    async () => {
      await s.open('web/Dockerfile', readFileSync(join(s.folder, 'web/Dockerfile'), 'utf8'), 'dockerfile');
      s.watchProgress('deploy-web');
      const running = s.next<ServiceStatusParams>(
        Methods.serviceStatus,
        (p) => p.statuses.some((x) => x.serviceId === 'web' && x.state === 'running'),
        180_000,
      );
      const statuses = await s.connection.sendRequest<ServiceStatus[]>('workspace/executeCommand', {
        command: ServerCommands.deploy,
        arguments: [s.folderUri, 'web'],
        workDoneToken: 'deploy-web',
      });
      const web = statuses.find((x) => x.serviceId === 'web')!;
      assert.equal(web.state, 'running');
      await running;
      const mine = s.progress.filter((p) => p.token === 'deploy-web').map((p) => p.value);
      assert.deepEqual(
        { kind: mine[0].kind, title: mine[0].title, cancellable: mine[0].cancellable },
        { kind: 'begin', title: 'Kyozo: Deploying web', cancellable: true },
      );
      assert.ok(
        mine.some((v) => v.kind === 'report' && /web: /.test(v.message ?? '')),
        JSON.stringify(mine),
      );
      assert.equal(mine[mine.length - 1].kind, 'end');
      const lenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
        textDocument: { uri: s.uri('web/Dockerfile') },
      });
      const titles = lenses.map((l) => l.command?.title);
      assert.ok(
        titles.includes('$(debug-stop) Stop') && titles.some((x) => x?.startsWith('$(globe) Open http://127.0.0.1:')),
        JSON.stringify(titles),
      );
    },
  );

  // Runs while orchestrator.watch() follows engine events (as it always does in the language server): the status
  // refresh each event triggers must not remove the replica scale just created (it used to, exit 137).
  it(
    'scales a running service to two replicas and refuses a bad count',
    { skip: !available, timeout: 120_000 },
    async () => {
      const scaled = await s.connection.sendRequest<ServiceStatus>('workspace/executeCommand', {
        command: ServerCommands.scale,
        arguments: [s.folderUri, 'web', 2],
      });
      assert.deepEqual(scaled.replicas, { running: 2, desired: 2 });
      await assert.rejects(
        s.connection.sendRequest('workspace/executeCommand', {
          command: ServerCommands.scale,
          arguments: [s.folderUri, 'web', 'many'],
        }),
        /whole number from 0 to 50/,
      );
      const lenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
        textDocument: { uri: s.uri('web/Dockerfile') },
      });
      assert.equal(lenses[0].command?.title, '$(pass-filled) running 2/2');
      const back = await s.connection.sendRequest<ServiceStatus>('workspace/executeCommand', {
        command: ServerCommands.scale,
        arguments: [s.folderUri, 'web', 1],
      });
      assert.deepEqual(back.replicas, { running: 1, desired: 1 });
    },
  );

  it('streams logs as kyozo/logOutput until stopped', { skip: !available, timeout: 60_000 }, async () => {
    const url = (
      await s.connection.sendRequest<ServiceStatus[]>('workspace/executeCommand', {
        command: ServerCommands.deploy,
        arguments: [s.folderUri, 'web'],
      })
    )
      .find((x) => x.serviceId === 'web')!
      .ports.find((p) => p.url)!.url!;
    const { streamId } = await s.connection.sendRequest<{ streamId: string }>('workspace/executeCommand', {
      command: ServerCommands.logs,
      arguments: [s.folderUri, 'web'],
    });
    const chunk = s.next<LogOutputParams>(
      Methods.logOutput,
      (p) => p.streamId === streamId && p.text.length > 0,
      30_000,
    );
    for (let i = 0; i < 3; i++)
      await fetch(`${url}/?probe=${i}`)
        .then((r) => r.text())
        .catch(() => undefined);
    assert.ok((await chunk).text.length > 0);
    await s.connection.sendNotification(Methods.stopLogs, { streamId });
  });

  it('stops a service and reports it stopped', { skip: !available, timeout: 60_000 }, async () => {
    const st = await s.connection.sendRequest<ServiceStatus>('workspace/executeCommand', {
      command: ServerCommands.stop,
      arguments: [s.folderUri, 'web'],
    });
    assert.equal(st.state, 'stopped');
    const lenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
      textDocument: { uri: s.uri('web/Dockerfile') },
    });
    assert.equal(lenses[0].command?.title, '$(play) Deploy web');
  });

  it('starts it again after a stop', { skip: !available, timeout: 120_000 }, async () => {
    const started = await s.connection.sendRequest<ServiceStatus>('workspace/executeCommand', {
      command: ServerCommands.start,
      arguments: [s.folderUri, 'web'],
    });
    assert.equal(started.state, 'running');
  });

  it('cancels a deploy when the client cancels the request', { skip: !available, timeout: 120_000 }, async () => {
    const cts = new CancellationTokenSource();
    s.watchProgress('deploy-api');
    const began = s.next(
      '$/progress',
      (p: { token: string; value: { kind: string } }) => p.token === 'deploy-api' && p.value.kind === 'begin',
    );
    const deploying = s.connection.sendRequest(
      'workspace/executeCommand',
      { command: ServerCommands.deploy, arguments: [s.folderUri, 'api'], workDoneToken: 'deploy-api' },
      cts.token,
    );
    await began;
    cts.cancel();
    await assert.rejects(deploying, /cancel/i);
  });
});
