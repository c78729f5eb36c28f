// The language server in a workspace the user has not trusted: it analyses and answers, but refuses every command
// that would act on the Docker engine, until the client says trust was granted (no restart needed).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { EngineCommandNames, Methods, ServerCommands, type WorkspaceTrustParams } from '../../server/src/protocol';
import { startSession, type LspSession } from './lsp-harness';

const run = (s: LspSession, command: string, ...args: unknown[]) =>
  s.connection.sendRequest('workspace/executeCommand', { command, arguments: [s.folderUri, ...args] });

describe('language server in an untrusted workspace', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace', { workspaceTrusted: false });
  });
  after(async () => {
    await s?.close();
  });

  it('analyses and hovers, refuses every engine command saying why and what to do, and accepts them once trust is granted', async () => {
    assert.ok(s.topologies[0].topology.services.some((x) => x.id === 'api'));
    await s.open('api/package.json', readFileSync(join(s.folder, 'api/package.json'), 'utf8'), 'json');
    const h = await s.connection.sendRequest<Hover | null>('textDocument/hover', {
      textDocument: { uri: s.uri('api/package.json') },
      position: { line: 1, character: 4 },
    });
    assert.match((h?.contents as MarkupContent).value, /\*\*api\*\* — nodejs/);
    const analysed = await s.connection.sendRequest<{ services: number }[]>('workspace/executeCommand', {
      command: ServerCommands.analyze,
    });
    assert.equal(analysed[0].services, 5);

    const args: Record<string, unknown[]> = {
      [ServerCommands.deployAll]: [],
      [ServerCommands.stopAll]: [],
      [ServerCommands.scale]: ['api', 2],
    };
    assert.equal(Object.keys(EngineCommandNames).length, 9);
    for (const [command, name] of Object.entries(EngineCommandNames)) {
      await assert.rejects(
        run(s, command, ...(args[command] ?? ['api'])),
        (e: Error) => {
          assert.match(e.message, new RegExp(`"${name}" is not available in an untrusted workspace`));
          assert.match(e.message, /Trust the workspace \("Manage Workspace Trust"\), then retry/);
          return true;
        },
        command,
      );
    }

    const granted: WorkspaceTrustParams = { trusted: true };
    await s.connection.sendNotification(Methods.workspaceTrust, granted);
    // The session's engine is a socket that does not exist: past the trust check, the engine is what is missing.
    await assert.rejects(run(s, ServerCommands.deploy, 'api'), (e: Error) => {
      assert.doesNotMatch(e.message, /untrusted/);
      assert.match(e.message, /Docker engine is not reachable/);
      return true;
    });
  });
});

describe('language server whose client says nothing about trust', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace', { workspaceTrusted: 'unset' });
  });
  after(async () => {
    await s?.close();
  });

  it('treats the workspace as untrusted', async () => {
    await assert.rejects(run(s, ServerCommands.deploy, 'api'), /"Deploy" is not available in an untrusted workspace/);
  });
});
