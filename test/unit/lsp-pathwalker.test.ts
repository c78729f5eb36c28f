// PathWalker through the built language server (dist/server.js), as the VS Code extension asks it: kyozo/describeFolder
// answers the engine's description of any folder with a Markdown page whose evidence links open file:line, and
// kyozo/agentTool answers kyozo mcp's read tools with the same JSON. package.json's language-model tools carry the
// names and input schemas the MCP server lists.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResponseError } from 'vscode-languageserver-protocol/node';
import { FolderDescriber } from '../../server/src/engine';
import { AgentToolRequest, DescribeFolderRequest } from '../../server/src/protocol';
import { repoRoot, startSession, type LspSession } from './lsp-harness';
import { startMcp, type McpSession } from '../support/mcp-client';

async function rejection(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (e) {
    return e as ResponseError<unknown>;
  }
  throw new Error('expected the request to fail');
}

describe('kyozo/describeFolder and kyozo/agentTool on platform-layout', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('platform-layout', { workspaceTrusted: false });
  });
  after(async () => {
    await s?.close();
  });

  it('describes a folder given by URI with the engine description, and a page linking its evidence', async () => {
    const r = await s.connection.sendRequest(DescribeFolderRequest, { folder: s.uri('src/cartservice') });
    const engine = await (await FolderDescriber.open(s.folder)).describe('src/cartservice', s.folder);
    assert.equal(r.folderUri, s.folderUri);
    assert.equal(r.folder, 'src/cartservice');
    assert.equal(r.purpose, 'service');
    assert.equal(r.purpose, engine.purpose.value);
    assert.equal(r.summary, engine.summary.value);
    assert.equal(r.confidence, engine.purpose.confidence);
    assert.match(r.markdown, /^# src\/cartservice$/m);
    assert.match(r.markdown, /\*\*Purpose:\*\* service \(confidence \d+%\)/);
    assert.match(r.markdown, /grpc-method `platform\.CartService\/AddItem`/);
    assert.match(r.markdown, /## Environment variables read\n\n- `REDIS_ADDR`/);
    // Every capability cites its file and line, as a link the Markdown preview opens at that line.
    const capability =
      /grpc-method `platform\.CartService\/AddItem`.*\[([^\]]+):(\d+)\]\((file:\/\/[^)#]+)#L(\d+)\)/.exec(r.markdown);
    assert.ok(capability, r.markdown);
    assert.equal(capability[2], capability[4]);
    assert.equal(capability[3], s.uri(capability[1]));
  });

  it('describes a folder by its path in the workspace folder, and purposes that are not services', async () => {
    const protos = await s.connection.sendRequest(DescribeFolderRequest, { folder: 'protos', folderUri: s.folderUri });
    assert.equal(protos.purpose, 'api-definitions');
    const manifests = await s.connection.sendRequest(DescribeFolderRequest, {
      folder: s.uri('kubernetes-manifests'),
    });
    assert.equal(manifests.purpose, 'infrastructure');
  });

  it('refuses a folder that is missing or outside the workspace with the reason', async () => {
    const missing = await rejection(
      s.connection.sendRequest(DescribeFolderRequest, { folder: 'no/such/dir', folderUri: s.folderUri }),
    );
    assert.equal(missing.code, -32602);
    assert.match(missing.message, /not a folder Kyozo indexed/);
    const outside = await rejection(s.connection.sendRequest(DescribeFolderRequest, { folder: 'file:///etc' }));
    assert.match(outside.message, /not inside an open workspace folder|outside the workspace/);
    const none = await rejection(s.connection.sendRequest(DescribeFolderRequest.method, {}));
    assert.match(none.message, /needs `folder`/);
  });

  it('answers the read tools as kyozo mcp does, and refuses bad input and logs while untrusted', async () => {
    const call = async (tool: string, input: Record<string, unknown> = {}) =>
      JSON.parse((await s.connection.sendRequest(AgentToolRequest, { tool, input })).text);
    const route = await call('kyozo_find', { route: 'GET /cart' });
    assert.deepEqual(
      route.matches.map((m: { service: string }) => m.service),
      ['frontend'],
    );
    const rpc = await call('kyozo_find', { route: 'CartService/AddItem' });
    assert.deepEqual(
      rpc.matches.map((m: { service: string }) => m.service),
      ['cartservice'],
    );
    const owner = await call('kyozo_find', { file: 'src/frontend/genproto/demo.pb.go' });
    assert.deepEqual([owner.service, owner.purpose], ['frontend', 'generated']);
    const related = await call('kyozo_related', { folder: 'src/cartservice' });
    assert.ok(related.related.some((r: { folder: string }) => r.folder === 'protos'));
    const explained = await call('kyozo_explain_service', { service: 'checkout' });
    assert.match(explained.summary, /checkout is a python service/);
    const topology = await call('kyozo_topology');
    assert.equal(topology.services.length, 5);
    const status = await call('kyozo_status');
    assert.deepEqual(
      status.map((x: { state: string }) => x.state),
      ['not-deployed', 'not-deployed', 'not-deployed', 'not-deployed', 'not-deployed'],
    );
    for (const [tool, input, reason] of [
      ['kyozo_find', { route: '/x', env: 'Y' }, /give exactly one of route, env, talksTo, file \(got 2\)/],
      ['kyozo_find', { talksTo: 'nope' }, /no service 'nope'/],
      ['kyozo_describe_folder', {}, /`folder` must be a non-empty string/],
      ['kyozo_explain_service', { service: 'nope' }, /no service 'nope'/],
      ['kyozo_nope', {}, /unknown tool "kyozo_nope"/],
      ['kyozo_logs', { service: 'cartservice', tail: 0 }, /`tail` must be a whole number from 1 to 500/],
      ['kyozo_logs', { service: 'cartservice' }, /not available in an untrusted workspace/],
    ] as const) {
      const e = await rejection(s.connection.sendRequest(AgentToolRequest, { tool, input }));
      assert.match(e.message, reason, `${tool} ${JSON.stringify(input)}`);
    }
  });
});

describe('kyozo/describeFolder after a file change', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('platform-layout');
  });
  after(async () => {
    await s?.close();
  });

  it('answers from the files as they are now: a route added to a Go file is found once the change is seen', async () => {
    const find = async (route: string) =>
      JSON.parse((await s.connection.sendRequest(AgentToolRequest, { tool: 'kyozo_find', input: { route } })).text)
        .matches as { service: string }[];
    assert.deepEqual(await find('GET /orders'), []);
    const before = await s.connection.sendRequest(DescribeFolderRequest, { folder: s.uri('src/frontend') });
    assert.doesNotMatch(before.markdown, /GET \/orders/);
    // handlers.go changes no service, port or dependency: the topology stays the same object, the description not.
    const handlers = join(s.folder, 'src/frontend/handlers.go');
    writeFileSync(
      handlers,
      readFileSync(handlers, 'utf8') +
        '\nfunc (h *handlers) routes(r *mux.Router) {\n\tr.HandleFunc("/orders", h.viewCart).Methods(http.MethodGet)\n}\n',
    );
    await s.connection.sendNotification('workspace/didChangeWatchedFiles', {
      changes: [{ uri: s.uri('src/frontend/handlers.go'), type: 2 }],
    });
    const after = await s.connection.sendRequest(DescribeFolderRequest, { folder: s.uri('src/frontend') });
    assert.match(after.markdown, /http-route `(GET|ANY) \/orders` \(\[src\/frontend\/handlers\.go:\d+\]/);
    assert.deepEqual(
      (await find('GET /orders')).map((m) => m.service),
      ['frontend'],
    );
  });

  it('describes a folder again when a file that changes no service appears in it', async () => {
    const before = await s.connection.sendRequest(DescribeFolderRequest, { folder: 'docs', folderUri: s.folderUri });
    assert.equal(before.summary, 'Documentation (architecture.md).');
    writeFileSync(join(s.folder, 'docs/runbook.md'), '# Runbook\n');
    await s.connection.sendNotification('workspace/didChangeWatchedFiles', {
      changes: [{ uri: s.uri('docs/runbook.md'), type: 1 }],
    });
    const after = await s.connection.sendRequest(DescribeFolderRequest, { folder: 'docs', folderUri: s.folderUri });
    assert.match(after.summary, /runbook\.md/);
  });
});

describe("package.json's language-model tools", () => {
  let mcp: McpSession;
  before(async () => {
    mcp = await startMcp(join(repoRoot, 'test/fixtures/platform-layout'), ['--allow-actions', '--no-watch']);
  });
  after(async () => {
    await mcp?.close();
  });

  it('are kyozo mcp --allow-actions tools, with the same names, descriptions and input schemas', async () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      contributes: { languageModelTools: { name: string; modelDescription: string; inputSchema: object }[] };
    };
    const { tools } = await mcp.client.listTools();
    assert.equal(tools.length, 9);
    assert.deepEqual(
      manifest.contributes.languageModelTools.map((t) => ({
        name: t.name,
        description: t.modelDescription,
        inputSchema: t.inputSchema,
      })),
      tools.map((t) => {
        const { $schema: _schema, ...inputSchema } = t.inputSchema as Record<string, unknown>;
        return { name: t.name, description: t.description, inputSchema };
      }),
    );
  });
});
