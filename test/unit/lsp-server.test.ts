// The built language server over a real JSON-RPC connection, on a fixture workspace copied to disk.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type {
  CodeAction,
  CodeLens,
  Diagnostic,
  Hover,
  MarkupContent,
  PublishDiagnosticsParams,
  TextEdit,
} from 'vscode-languageserver-protocol';
import {
  Methods,
  ServerCommands,
  type AnalysisFailedParams,
  type EngineStateParams,
  type TopologyParams,
} from '../../server/src/protocol';
import { repoRoot, startSession, type LspSession } from './lsp-harness';

const hoverText = (h: Hover | null) => (h ? (h.contents as MarkupContent).value : '');
const codes = (ds: Diagnostic[]) => ds.map((d) => d.code).sort();

describe('language server on test/fixtures/lsp-workspace', () => {
  let s: LspSession;
  let compose: string;
  before(async () => {
    s = await startSession('lsp-workspace');
    compose = readFileSync(join(s.folder, 'docker-compose.yml'), 'utf8');
  });
  after(async () => {
    await s?.close();
  });

  it('pushes the topology after initialize', () => {
    const t = s.topologies[0].topology;
    assert.equal(s.topologies[0].folderUri, s.folderUri);
    assert.deepEqual(t.services.map((x) => x.id).sort(), [
      'api',
      'auth',
      'docker-compose.yml#cache',
      'docker-compose.yml#db',
      'web',
    ]);
  });

  it('hovers a manifest with type, framework, port and its source, start command and dependency links', async () => {
    const text = readFileSync(join(s.folder, 'api/package.json'), 'utf8');
    await s.open('api/package.json', text, 'json');
    const h = await s.connection.sendRequest<Hover | null>('textDocument/hover', {
      textDocument: { uri: s.uri('api/package.json') },
      position: { line: 1, character: 4 },
    });
    const md = hoverText(h);
    assert.match(md, /\*\*api\*\* — nodejs \(express\)/);
    assert.match(md, /Port: 3000 → host 3000\/tcp — from compose: compose ports: 3000:3000/);
    assert.match(md, /Start: `node index\.js` — from dockerfile/);
    assert.match(md, /Status: not deployed/);
    assert.ok(md.includes(`[db](${s.uri('docker-compose.yml')}#L19)`), md);
    assert.match(md, /Used by: \[web\]/);
  });

  it('hovers a compose service name, a depends_on entry and an env value naming a service', async () => {
    await s.open('docker-compose.yml', compose, 'yaml');
    const at = (line: number, character: number) =>
      s.connection.sendRequest<Hover | null>('textDocument/hover', {
        textDocument: { uri: s.uri('docker-compose.yml') },
        position: { line, character },
      });
    const name = await at(12, 3); // "  web:"
    assert.match(hoverText(name), /\*\*web\*\* — proxy/);
    assert.deepEqual(name!.range, { start: { line: 12, character: 2 }, end: { line: 12, character: 5 } });
    const dep = await at(6, 9); // "      - db"
    assert.match(hoverText(dep), /\*\*db\*\* — database/);
    const env = await at(9, 30); // DATABASE_URL: postgres://db:5432/app
    assert.match(hoverText(env), /`DATABASE_URL` points to service \*\*db\*\*/);
    assert.equal(await at(0, 2), null);
  });

  it('shows Deploy CodeLens on manifests and on every compose service', async () => {
    const lenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
      textDocument: { uri: s.uri('api/package.json') },
    });
    assert.deepEqual(
      lenses.map((l) => l.command?.title),
      ['$(play) Deploy api'],
    );
    assert.equal(lenses[0].command?.command, ServerCommands.deploy);
    assert.deepEqual(lenses[0].command?.arguments, [s.folderUri, 'api']);
    const composeLenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
      textDocument: { uri: s.uri('docker-compose.yml') },
    });
    assert.deepEqual(
      composeLenses.map((l) => [l.range.start.line, l.command?.title]),
      [
        [1, '$(play) Deploy api'],
        [12, '$(play) Deploy web'],
        [18, '$(play) Deploy db'],
        [20, '$(play) Deploy cache'],
      ],
    );
  });

  it('reports compose diagnostics with exact ranges', async () => {
    const p = await s.diagnosticsOf(s.uri('docker-compose.yml'));
    const ds = p.diagnostics;
    const unknown = ds.find((d) => d.code === 'unknown-depends-on')!;
    assert.deepEqual(unknown.range, { start: { line: 7, character: 8 }, end: { line: 7, character: 13 } });
    assert.match(unknown.message, /Did you mean "cache"/);
    const conflicts = ds.filter((d) => d.code === 'port-conflict');
    assert.deepEqual(
      conflicts.map((d) => d.range),
      [
        { start: { line: 4, character: 8 }, end: { line: 4, character: 19 } },
        { start: { line: 15, character: 8 }, end: { line: 15, character: 17 } },
      ],
    );
    const env = ds.find((d) => d.code === 'env-url-unknown')!;
    assert.deepEqual(env.range, { start: { line: 11, character: 23 }, end: { line: 11, character: 27 } });
    assert.match(env.message, /AUTH_URL points to "auht", which names no service.*Did you mean "auth"/);
  });

  it('warns when the code listens on a port the Dockerfile does not EXPOSE', async () => {
    const ds = (await s.diagnosticsOf(s.uri('api/Dockerfile'))).diagnostics;
    const d = ds.find((x) => x.code === 'missing-expose')!;
    // Where EXPOSE would go: before the CMD, as the quick fix puts it.
    assert.deepEqual(d.range, { start: { line: 5, character: 0 }, end: { line: 5, character: 24 } });
    assert.match(d.message, /listens on port 3000/);
    const web = (await s.diagnosticsOf(s.uri('web/Dockerfile'))).diagnostics;
    assert.deepEqual(
      web.filter((x) => x.code === 'missing-expose'),
      [],
    );
  });

  it('offers code actions with their edits: depends_on typo, env host, EXPOSE, HEALTHCHECK', async () => {
    const composeDiags = s.diagnostics.get(s.uri('docker-compose.yml'))!.diagnostics;
    const typo = composeDiags.find((d) => d.code === 'unknown-depends-on')!;
    const actions = await s.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: s.uri('docker-compose.yml') },
      range: typo.range,
      context: { diagnostics: [typo] },
    });
    const fix = actions.find((a) => a.title === 'Change "cahce" to "cache"')!;
    assert.ok(fix.isPreferred);
    assert.deepEqual(fix.edit!.changes![s.uri('docker-compose.yml')], [{ range: typo.range, newText: 'cache' }]);
    const env = composeDiags.find((d) => d.code === 'env-url-unknown')!;
    const envActions = await s.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: s.uri('docker-compose.yml') },
      range: env.range,
      context: { diagnostics: [env] },
    });
    assert.deepEqual(
      envActions.map((a) => a.title),
      ['Point to service "auth"'],
    );

    const dockerfile = readFileSync(join(s.folder, 'api/Dockerfile'), 'utf8');
    await s.open('api/Dockerfile', dockerfile, 'dockerfile');
    const expose = s.diagnostics.get(s.uri('api/Dockerfile'))!.diagnostics.find((d) => d.code === 'missing-expose')!;
    const dActions = await s.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: s.uri('api/Dockerfile') },
      range: expose.range,
      context: { diagnostics: [expose] },
    });
    const edits = (title: string) =>
      dActions.find((a) => a.title === title)?.edit?.changes?.[s.uri('api/Dockerfile')] as TextEdit[];
    assert.deepEqual(edits('Add EXPOSE 3000'), [
      { range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, newText: 'EXPOSE 3000\n' },
    ]);
    const hc = edits('Add HEALTHCHECK for api');
    assert.equal(hc[0].range.start.line, 5);
    assert.match(hc[0].newText, /^HEALTHCHECK --interval=10s .*CMD node -e .*http:\/\/127\.0\.0\.1:3000\/health/);
  });

  it('offers to add a service to the compose file and to generate its Dockerfile (only on request)', async () => {
    const text = readFileSync(join(s.folder, 'auth/package.json'), 'utf8');
    await s.open('auth/package.json', text, 'json');
    const actions = await s.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: s.uri('auth/package.json') },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [] },
    });
    const add = actions.find((a) => a.title === 'Add auth to docker-compose.yml')!;
    assert.deepEqual(add.edit!.changes![s.uri('docker-compose.yml')], [
      {
        range: { start: { line: 22, character: 0 }, end: { line: 22, character: 0 } },
        newText: '  auth:\n    build: ./auth\n    ports:\n      - "4000:4000"\n',
      },
    ]);
    const gen = actions.find((a) => a.title === 'Generate a Dockerfile for auth')!;
    assert.equal(gen.command?.command, ServerCommands.generateDockerfile);
    assert.equal(s.appliedEdits.length, 0, 'nothing is written before the user asks');
    const r = await s.connection.sendRequest<{ uri: string }>('workspace/executeCommand', gen.command);
    assert.equal(r.uri, s.uri('auth/Dockerfile'));
    const change = s.appliedEdits[0].documentChanges!;
    assert.deepEqual(change[0], {
      kind: 'create',
      uri: s.uri('auth/Dockerfile'),
      options: { overwrite: false, ignoreIfExists: true },
    });
    assert.match(JSON.stringify(change[1]), /FROM .*node/);
  });

  it('re-computes diagnostics from open-document changes before they are saved', async () => {
    const fixed = compose.replace('- cahce', '- cache');
    const next = s.next<PublishDiagnosticsParams>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === s.uri('docker-compose.yml') && p.version === 2,
    );
    await s.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: s.uri('docker-compose.yml'), version: 2 },
      contentChanges: [{ text: fixed }],
    });
    const p = await next;
    assert.ok(!codes(p.diagnostics).includes('unknown-depends-on'));
    assert.ok(codes(p.diagnostics).includes('port-conflict'));

    const cyclic =
      'services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n';
    const cyc = s.next<PublishDiagnosticsParams>(
      'textDocument/publishDiagnostics',
      (x) => x.uri === s.uri('docker-compose.yml') && x.version === 3,
    );
    await s.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: s.uri('docker-compose.yml'), version: 3 },
      contentChanges: [{ text: cyclic }],
    });
    const cycle = (await cyc).diagnostics.filter((d) => d.code === 'dependency-cycle');
    assert.deepEqual(
      cycle.map((d) => d.range),
      [
        { start: { line: 3, character: 17 }, end: { line: 3, character: 18 } },
        { start: { line: 6, character: 17 }, end: { line: 6, character: 18 } },
      ],
    );
    assert.match(cycle[0].message, /a → b → a/);

    const broken = 'services:\n  a:\n    image: [busybox\n';
    const bad = s.next<PublishDiagnosticsParams>(
      'textDocument/publishDiagnostics',
      (x) => x.uri === s.uri('docker-compose.yml') && x.version === 4,
    );
    await s.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: s.uri('docker-compose.yml'), version: 4 },
      contentChanges: [{ text: broken }],
    });
    const malformed = (await bad).diagnostics.filter((d) => d.code === 'yaml-parse');
    assert.ok(malformed.length >= 1);
    assert.ok(malformed[0].range.start.line >= 2, JSON.stringify(malformed[0].range));
    await s.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: s.uri('docker-compose.yml'), version: 5 },
      contentChanges: [{ text: compose }],
    });
  });

  it('updates the topology incrementally after files change on disk', async () => {
    mkdirSync(join(s.folder, 'billing'));
    writeFileSync(
      join(s.folder, 'billing/package.json'),
      JSON.stringify({ name: 'billing', scripts: { start: 'node main.js' } }, null, 2),
    );
    writeFileSync(
      join(s.folder, 'billing/main.js'),
      "require('http').createServer((q, r) => r.end('ok')).listen(4100);\n",
    );
    writeFileSync(join(s.folder, 'docker-compose.yml'), compose.replace('- cahce', '- cache'));
    const next = s.next<TopologyParams>(Methods.topology, (p) => p.topology.services.some((x) => x.id === 'billing'));
    await s.connection.sendNotification('workspace/didChangeWatchedFiles', {
      changes: [
        { uri: s.uri('billing/package.json'), type: 1 },
        { uri: s.uri('billing/main.js'), type: 1 },
        { uri: s.uri('docker-compose.yml'), type: 2 },
      ],
    });
    const t = (await next).topology;
    assert.equal(t.services.find((x) => x.id === 'billing')?.ports[0]?.container, 4100);
    assert.ok(!t.problems.some((p) => p.code === 'unknown-depends-on'));
    assert.ok(t.edges.some((e) => e.from === 'api' && e.to === 'docker-compose.yml#cache' && e.kind === 'compose'));
    const lenses = await s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
      textDocument: { uri: s.uri('auth/package.json') },
    });
    assert.deepEqual(
      lenses.map((l) => l.command?.title),
      ['$(play) Deploy auth'],
    );
  });

  it('analyses a second workspace folder added at run time (multi-root) and keeps their topologies apart', async () => {
    const second = mkdtempSync(join(tmpdir(), 'kyozo-lsp-second-'));
    try {
      cpSync(join(repoRoot, 'test/fixtures/vscode-workspace'), second, { recursive: true });
      const uri = pathToFileURL(second).href;
      const next = s.next<TopologyParams>(Methods.topology, (p) => p.folderUri === uri);
      await s.connection.sendNotification('workspace/didChangeWorkspaceFolders', {
        event: { added: [{ uri, name: 'second' }], removed: [] },
      });
      const t = (await next).topology;
      assert.deepEqual(t.services.map((x) => x.id).sort(), ['api', 'web']);
      assert.equal(t.root, second);
      await s.connection.sendNotification('textDocument/didOpen', {
        textDocument: {
          uri: `${uri}/api/package.json`,
          languageId: 'json',
          version: 1,
          text: readFileSync(join(second, 'api/package.json'), 'utf8'),
        },
      });
      const h = await s.connection.sendRequest<Hover | null>('textDocument/hover', {
        textDocument: { uri: `${uri}/api/package.json` },
        position: { line: 1, character: 4 },
      });
      assert.match(hoverText(h), /Port: 3001/, 'the hover comes from the second folder, not the first');
      await s.connection.sendNotification('workspace/didChangeWorkspaceFolders', {
        event: { added: [], removed: [{ uri, name: 'second' }] },
      });
    } finally {
      rmSync(second, { recursive: true, force: true });
    }
  });

  it('tells the client when a folder cannot be analysed, instead of leaving it "analysing…"', async () => {
    const missing = join(tmpdir(), `kyozo-lsp-missing-${process.pid}`);
    const uri = pathToFileURL(missing).href;
    const failed = s.next<AnalysisFailedParams>(Methods.analysisFailed, (p) => p.folderUri === uri);
    await s.connection.sendNotification('workspace/didChangeWorkspaceFolders', {
      event: { added: [{ uri, name: 'missing' }], removed: [] },
    });
    const p = await failed;
    assert.match(p.message, /could not analyse .*does not exist/);
    await s.connection.sendNotification('workspace/didChangeWorkspaceFolders', {
      event: { added: [], removed: [{ uri, name: 'missing' }] },
    });
  });

  it('tells the client the Docker engine is unreachable, and how to fix it', async () => {
    let state = s.notifications.find((n) => n.method === Methods.engineState)?.params as EngineStateParams | undefined;
    state ??= await s.next<EngineStateParams>(Methods.engineState);
    assert.equal(state.reachable, false);
    assert.match(state.message ?? '', /docker|DOCKER_HOST|kyozo\.docker\.host/i);
  });

  it('explains a service and refuses deploy commands with an actionable error when no engine answers', async () => {
    const r = await s.connection.sendRequest<{ serviceId: string; markdown: string }>(Methods.explain, {
      folderUri: s.folderUri,
      serviceId: 'web',
    });
    assert.match(r.markdown, /\*\*web\*\*/);
    const compose = await s.connection.sendRequest<string>(Methods.compose, { folderUri: s.folderUri });
    assert.match(compose, /^services:\n/m);
    assert.match(compose, /\n {2}api:\n/);
    const engine = await s.connection.sendRequest<unknown[]>(Methods.events, { folderUri: s.folderUri });
    assert.ok(Array.isArray(engine));
    await assert.rejects(
      s.connection.sendRequest('workspace/executeCommand', {
        command: ServerCommands.deploy,
        arguments: [s.folderUri, 'nope'],
      }),
      /no service "nope"|Docker/,
    );
    await assert.rejects(
      s.connection.sendRequest('workspace/executeCommand', {
        command: ServerCommands.deploy,
        arguments: ['file:///not/a/folder', 'api'],
      }),
      /not an open workspace folder/,
    );
  });
});
