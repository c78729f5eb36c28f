// The built language server as an editor other than VS Code sees it: a client that names itself otherwise, cannot
// refresh CodeLens and watches no files, over the same real JSON-RPC connection the editors use.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MessageType,
  type ClientCapabilities,
  type CodeLens,
  type Diagnostic,
  type LogMessageParams,
  type PublishDiagnosticsParams,
  type ShowMessageParams,
} from 'vscode-languageserver-protocol';
import { Methods, type ServiceStatus, type TopologyParams } from '../../server/src/protocol';
import { computeCodeLenses } from '../../server/src/lsp/code-lens';
import { clientProfile } from '../../server/src/lsp/client-profile';
import { port, service, topology } from '../support/docker-topology-builder';
import { repoRoot, startSession, type LspSession } from './lsp-harness';

/** What Neovim 0.7's built-in client declares of the parts that matter here: no watchers, no CodeLens refresh. */
const PLAIN_CLIENT: ClientCapabilities = {
  workspace: { workspaceFolders: true, applyEdit: true, workspaceEdit: { resourceOperations: ['rename', 'create'] } },
  window: { workDoneProgress: true, showMessage: { messageActionItem: { additionalPropertiesSupport: false } } },
};

const opened = new WeakMap<LspSession, Set<string>>();
/** The titles of a file's CodeLens, opening it first as an editor does before it asks. */
const lensTitles = async (s: LspSession, rel: string) => {
  const open = opened.get(s) ?? new Set<string>();
  opened.set(s, open);
  if (!open.has(rel)) await s.open(rel, readFileSync(join(s.folder, rel), 'utf8'));
  open.add(rel);
  const params = { textDocument: { uri: s.uri(rel) } };
  const lenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', params);
  return lenses.map((l) => l.command?.title);
};
const methods = (s: LspSession) => s.requests.map((r) => r.method);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

/** Resolves once the server says it watches the folder itself (changes made before then may go unseen). */
async function serverWatching(s: LspSession): Promise<void> {
  const watching = (p: LogMessageParams) => /watches .* for changes/.test(p.message);
  if (s.notifications.some((n) => n.method === 'window/logMessage' && watching(n.params as LogMessageParams))) return;
  await s.next<LogMessageParams>('window/logMessage', watching);
}

describe('language server with a client that is not VS Code', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace', { client: { name: 'Neovim', capabilities: PLAIN_CLIENT } });
    await serverWatching(s);
  });
  after(async () => {
    await s?.close();
  });

  it('titles CodeLens in plain text, without codicon syntax', async () => {
    assert.deepEqual(await lensTitles(s, 'api/package.json'), ['Deploy api']);
    const compose = ['Deploy api', 'Deploy web', 'Deploy db', 'Deploy cache'];
    assert.deepEqual(await lensTitles(s, 'docker-compose.yml'), compose);
  });

  it(
    'watches the disk itself: a Dockerfile changed outside the editor updates the topology and diagnostics',
    {
      timeout: 30_000,
    },
    async () => {
      const uri = s.uri('api/Dockerfile');
      const before = await s.diagnosticsOf(uri, (p) => p.diagnostics.some((d) => d.code === 'missing-expose'));
      assert.ok(before.diagnostics.some((d) => d.code === 'missing-expose'));
      const path = join(s.folder, 'api/Dockerfile');
      const exposed = s.next<PublishDiagnosticsParams>(
        'textDocument/publishDiagnostics',
        (p) => p.uri === uri && !p.diagnostics.some((d) => d.code === 'missing-expose'),
        20_000,
      );
      const topology = s.next<TopologyParams>(Methods.topology, () => true, 20_000);
      writeFileSync(path, readFileSync(path, 'utf8').replace('CMD ', 'EXPOSE 3000\nCMD '));
      await topology;
      await exposed;
      assert.ok(
        !methods(s).includes('client/registerCapability'),
        'a client without dynamic registration is not asked',
      );
    },
  );

  it(
    'answers CodeLens from the current state without asking a client that cannot refresh them',
    {
      timeout: 30_000,
    },
    async () => {
      const added = s.next<TopologyParams>(
        Methods.topology,
        (p) => p.topology.services.some((x) => x.name === 'billing'),
        20_000,
      );
      mkdirSync(join(s.folder, 'billing'));
      const main = "require('http').createServer((q, r) => r.end('ok')).listen(4100);\n";
      writeFileSync(join(s.folder, 'billing/main.js'), main);
      const manifest = { name: 'billing', scripts: { start: 'node main.js' } };
      writeFileSync(join(s.folder, 'billing/package.json'), JSON.stringify(manifest));
      await added;
      // What a client that only asks again on edit or open sees the next time it asks.
      assert.deepEqual(await lensTitles(s, 'billing/package.json'), ['Deploy billing']);
      assert.ok(!methods(s).includes('workspace/codeLens/refresh'), methods(s).join(', '));
    },
  );

  it(
    "answers the CodeLens request that follows a save with the saved file's services",
    {
      timeout: 30_000,
    },
    async () => {
      await lensTitles(s, 'docker-compose.yml');
      const path = join(s.folder, 'docker-compose.yml');
      const text = readFileSync(path, 'utf8') + '  sessions:\n    image: redis:7\n';
      const uri = s.uri('docker-compose.yml');
      // As an editor saves: the new text, the file written, then didSave; a client without refresh asks right after.
      await s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ text }],
      });
      writeFileSync(path, text);
      await s.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
      const titles = await lensTitles(s, 'docker-compose.yml');
      assert.deepEqual(titles, ['Deploy api', 'Deploy web', 'Deploy db', 'Deploy cache', 'Deploy sessions']);
    },
  );

  it('says an analysis failure in a message, not in a question without answers that waits on the user', async () => {
    const missing = join(s.folder, 'no-such-folder');
    const uri = `${s.folderUri}/no-such-folder`;
    const shown = s.next<ShowMessageParams>('window/showMessage', (p) => p.message.includes(missing));
    await s.connection.sendNotification('workspace/didChangeWorkspaceFolders', {
      event: { added: [{ uri, name: 'missing' }], removed: [] },
    });
    const message = await shown;
    assert.equal(message.type, MessageType.Error);
    assert.match(message.message, /could not analyse .*no-such-folder.*does not exist/);
    assert.ok(!methods(s).includes('window/showMessageRequest'), methods(s).join(', '));
  });
});

describe('language server with code-server (VS Code in the browser)', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace', {
      client: {
        name: 'code-server',
        capabilities: {
          workspace: { didChangeWatchedFiles: { dynamicRegistration: true }, codeLens: { refreshSupport: true } },
        },
      },
    });
  });
  after(async () => {
    await s?.close();
  });

  it(
    'titles CodeLens with codicons, registers its file watcher with the client and asks it to refresh lenses',
    {
      timeout: 30_000,
    },
    async () => {
      assert.deepEqual(await lensTitles(s, 'api/package.json'), ['$(play) Deploy api']);
      const registration = s.requests.find((r) => r.method === 'client/registerCapability');
      const registered = (registration?.params as { registrations: { method: string }[] } | undefined)?.registrations;
      assert.deepEqual(
        registered?.map((r) => r.method),
        ['workspace/didChangeWatchedFiles'],
      );
      const refreshed = s.next('workspace/codeLens/refresh', () => true, 20_000);
      await s.connection.sendNotification('workspace/didChangeWatchedFiles', {
        changes: [{ uri: s.uri('api/index.js'), type: 2 }],
      });
      await refreshed;
    },
  );
});

describe('language server with a client that refuses to watch files for it', () => {
  let s: LspSession;
  before(async () => {
    const capabilities = { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } };
    s = await startSession('lsp-workspace', { client: { name: 'Kate', capabilities, refusesRegistration: true } });
  });
  after(async () => {
    await s?.close();
  });

  it('watches the disk itself once the registration is refused', { timeout: 30_000 }, async () => {
    await serverWatching(s);
    assert.ok(methods(s).includes('client/registerCapability'), 'the client was asked first');
    const added = s.next<TopologyParams>(Methods.topology, (p) =>
      p.topology.services.some((x) => x.name === 'billing'),
    );
    mkdirSync(join(s.folder, 'billing'));
    writeFileSync(join(s.folder, 'billing/main.js'), "require('http').createServer().listen(4100);\n");
    writeFileSync(
      join(s.folder, 'billing/package.json'),
      '{ "name": "billing", "scripts": { "start": "node main.js" } }',
    );
    await added;
  });
});

describe('diagnostics where the problem is', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace', { client: { name: 'Neovim', capabilities: PLAIN_CLIENT } });
  });
  after(async () => {
    await s?.close();
  });

  const exposeDiagnostic = async (version: number, text: string): Promise<Diagnostic> => {
    const uri = s.uri('api/Dockerfile');
    const p = s.diagnosticsOf(uri, (x) => x.version === version);
    if (version === 1) await s.open('api/Dockerfile', text, 'dockerfile');
    else {
      const change = { textDocument: { uri, version }, contentChanges: [{ text }] };
      await s.connection.sendNotification('textDocument/didChange', change);
    }
    const d = (await p).diagnostics.find((x) => x.code === 'missing-expose');
    assert.ok(d, `a missing-expose diagnostic for version ${version}`);
    return d;
  };

  it('puts missing-EXPOSE on the EXPOSE line, or where one would go in the final stage', async () => {
    const noExpose =
      'FROM node:20 AS deps\nRUN npm ci\n\n' +
      'FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nCMD ["node", "index.js"]\n';
    let d = await exposeDiagnostic(1, noExpose);
    const cmd = { start: { line: 6, character: 0 }, end: { line: 6, character: 24 } };
    assert.deepEqual(d.range, cmd, 'on the CMD it goes before');
    const noCmd = 'FROM node:20-alpine\nWORKDIR /app\nCOPY . .\n\n# the command comes from the base image\n';
    d = await exposeDiagnostic(2, noCmd);
    assert.deepEqual(d.range.start, { line: 2, character: 0 }, 'after the last instruction of the final stage');
    const wrongPort =
      'FROM node:20 AS build\nEXPOSE 9999\n' + 'FROM node:20-alpine\nEXPOSE 8080/tcp\nCMD ["node", "index.js"]\n';
    d = await exposeDiagnostic(3, wrongPort);
    const expose = { start: { line: 3, character: 0 }, end: { line: 3, character: 15 } };
    assert.deepEqual(d.range, expose, 'on the final EXPOSE');
  });

  it("puts a compose service's recommendation on the service's own key", { timeout: 30_000 }, async () => {
    const c = await startSession('compose-stack', { client: { name: 'Neovim', capabilities: PLAIN_CLIENT } });
    try {
      const text = readFileSync(join(c.folder, 'compose.yaml'), 'utf8');
      const hasIt = (x: PublishDiagnosticsParams) => x.diagnostics.some((d) => d.code === 'no-health-endpoint');
      const p = await c.diagnosticsOf(c.uri('compose.yaml'), hasIt);
      const d = p.diagnostics.find((x) => x.code === 'no-health-endpoint')!;
      assert.match(d.message, /^web defines no health endpoint/);
      const line = lineOf(text, '  web:');
      assert.ok(line > 0);
      assert.deepEqual(d.range, { start: { line, character: 2 }, end: { line, character: 5 } });
    } finally {
      await c.close();
    }
  });
});

describe('kyozo-language-server, the command editors start', () => {
  it('refuses to start without a transport, saying which ones there are', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/kyozo-language-server.js')], {
      encoding: 'utf8',
      input: '',
      timeout: 10_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--stdio .*--node-ipc.*docs\/language-server\.md/);
  });
});

describe('CodeLens titles and client profiles as plain data', () => {
  const api = service('api', { indicators: ['api/package.json'], ports: [port(3000)] });
  const running: ServiceStatus = {
    serviceId: 'api',
    name: 'api',
    state: 'running',
    health: 'healthy',
    replicas: { running: 2, desired: 2 },
    ports: [{ container: 3000, host: 49153, protocol: 'tcp', url: 'http://127.0.0.1:49153' }],
    containers: [],
  };
  const ctx = (statuses: ServiceStatus[]) => ({
    topology: topology('/w', 'w', [api], []),
    statuses: new Map(statuses.map((x) => [x.serviceId, x])),
    rootUri: 'file:///w',
    engineReachable: true,
  });

  it("words every state without codicons, keeping each lens's command", () => {
    const plain = computeCodeLenses(ctx([running]), 'api/package.json', '{}', { codicons: false });
    assert.deepEqual(
      plain.map((l) => l.command?.title),
      ['running 2/2', 'Stop', 'Restart', 'Logs', 'Open http://127.0.0.1:49153'],
    );
    const icons = computeCodeLenses(ctx([running]), 'api/package.json', '{}', { codicons: true });
    assert.deepEqual(
      plain.map((l) => l.command?.command),
      icons.map((l) => l.command?.command),
    );
    const building = computeCodeLenses(ctx([{ ...running, state: 'building' }]), 'api/package.json', '{}', {
      codicons: false,
    });
    assert.deepEqual(
      building.map((l) => l.command?.title),
      ['api building…', 'Logs'],
    );
  });

  it('knows VS Code and its family by clientInfo, and reads refresh and watcher support', () => {
    const profile = (name?: string) => clientProfile({ clientInfo: name ? { name } : undefined, capabilities: {} });
    for (const name of ['Visual Studio Code', 'Visual Studio Code - Insiders', 'code-server', 'VSCodium']) {
      assert.equal(profile(name).codicons, true, name);
    }
    for (const name of ['Neovim', 'helix', 'Emacs', undefined]) assert.equal(profile(name).codicons, false, name);
    const vscode = clientProfile({
      clientInfo: { name: 'Visual Studio Code' },
      capabilities: {
        workspace: { codeLens: { refreshSupport: true }, didChangeWatchedFiles: { dynamicRegistration: true } },
      },
    });
    assert.deepEqual([vscode.lensRefresh, vscode.dynamicWatchers], [true, true]);
    assert.deepEqual([profile('Neovim').lensRefresh, profile('Neovim').dynamicWatchers], [false, false]);
  });
});
