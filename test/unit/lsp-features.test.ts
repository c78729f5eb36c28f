// The language features as pure functions over hand-made topologies and live statuses (no socket, no engine).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-protocol';
import { ServerCommands, type ServiceStatus } from '../../server/src/protocol';
import { computeCodeActions } from '../../server/src/lsp/code-actions';
import { computeCodeLenses } from '../../server/src/lsp/code-lens';
import { computeDiagnostics } from '../../server/src/lsp/diagnostics';
import { computeHover } from '../../server/src/lsp/hover';
import type { FeatureContext } from '../../server/src/lsp/service-lookup';
import { edge, port, service, topology } from '../support/docker-topology-builder';

const api = service('api', {
  frameworks: ['express'],
  indicators: ['api/package.json'],
  ports: [port(3000, { evidence: { file: 'api/index.js', line: 4, reason: 'listen(3000)' } })],
});
const db = service('docker-compose.yml#db', {
  type: 'database',
  image: 'postgres:16',
  evidence: [{ file: 'docker-compose.yml', line: 9, reason: 'compose service db' }],
});
const t = topology('/w', 'w', [api, db], [edge('api', 'docker-compose.yml#db', { envVar: 'DATABASE_URL' })]);

function status(id: string, state: ServiceStatus['state'], url?: string): ServiceStatus {
  return {
    serviceId: id,
    name: id,
    state,
    health: state === 'running' ? 'healthy' : 'none',
    replicas: { running: state === 'running' ? 2 : 0, desired: 2 },
    ports: url ? [{ container: 3000, host: Number(url.split(':').pop()), protocol: 'tcp', url }] : [],
    containers: [],
  };
}

const ctx = (statuses: ServiceStatus[] = []): FeatureContext => ({
  topology: t,
  statuses: new Map(statuses.map((s) => [s.serviceId, s])),
  rootUri: 'file:///w',
  engineReachable: true,
});

describe('language features over plain data', () => {
  it('CodeLens follow live state: Deploy, then Stop/Restart/Logs/Open when running', () => {
    assert.deepEqual(
      computeCodeLenses(ctx(), 'api/package.json', '{}').map((l) => l.command?.title),
      ['$(play) Deploy api'],
    );
    const running = computeCodeLenses(
      ctx([status('api', 'running', 'http://127.0.0.1:49153')]),
      'api/package.json',
      '{}',
    );
    assert.deepEqual(
      running.map((l) => l.command?.title),
      [
        '$(pass-filled) running 2/2',
        '$(debug-stop) Stop',
        '$(debug-restart) Restart',
        '$(output) Logs',
        '$(globe) Open http://127.0.0.1:49153',
      ],
    );
    assert.equal(running[1].command?.command, ServerCommands.stop);
    assert.deepEqual(running[4].command?.arguments, ['file:///w', 'api', 'http://127.0.0.1:49153']);
    const failed = computeCodeLenses(ctx([status('api', 'error')]), 'api/package.json', '{}');
    assert.deepEqual(
      failed.map((l) => l.command?.title),
      ['$(error) error 0/2', '$(debug-stop) Stop', '$(debug-restart) Restart', '$(output) Logs'],
    );
    assert.deepEqual(
      computeCodeLenses(ctx([status('api', 'stopped')]), 'api/package.json', '{}').map((l) => l.command?.title),
      ['$(play) Deploy api', '$(output) Logs'],
    );
    assert.deepEqual(computeCodeLenses(ctx(), 'api/src/util.js', ''), []);
  });

  it('hover shows live status with the host URL and dependency links with the env var', () => {
    const h = computeHover(ctx([status('api', 'running', 'http://127.0.0.1:49153')]), 'api/package.json', '{}', {
      line: 0,
      character: 0,
    })!;
    const md = (h.contents as MarkupContent).value;
    assert.match(
      md,
      /Status: 🟢 running, healthy \(2\/2 replicas\) — \[http:\/\/127\.0\.0\.1:49153\]\(http:\/\/127\.0\.0\.1:49153\)/,
    );
    assert.match(
      md,
      /Port: 3000\/tcp — from code: listen\(3000\) \(\[api\/index\.js:4\]\(file:\/\/\/w\/api\/index\.js#L4\)\)/,
    );
    assert.match(md, /Depends on: \[db\]\(file:\/\/\/w\/docker-compose\.yml#L9\) \(env-url `DATABASE_URL`\)/);
  });

  it('hover and diagnostics on .env files: a URL naming a service, and one naming none', () => {
    const text = 'DATABASE_URL=postgres://db:5432/app\nCACHE_URL=redis://cahce:6379\nSITE=https://example.com\n';
    const h = computeHover(ctx(), 'api/.env', text, { line: 0, character: 20 })!;
    assert.match((h.contents as MarkupContent).value, /`DATABASE_URL` points to service \*\*db\*\*/);
    const ds = computeDiagnostics(ctx(), 'api/.env', text);
    assert.deepEqual(
      ds.map((d) => [d.code, d.range]),
      [['env-url-unknown', { start: { line: 1, character: 18 }, end: { line: 1, character: 23 } }]],
    );
  });

  it('malformed package.json is reported at the failing character', () => {
    const ds = computeDiagnostics(ctx(), 'api/package.json', '{\n  "name": "api",\n  "scripts": {\n}\n');
    assert.equal(ds.length, 1);
    assert.equal(ds[0].code, 'json-parse');
    assert.equal(ds[0].range.start.line, 4);
  });

  it('a Dockerfile that EXPOSEs the port gets no EXPOSE fix, but still a HEALTHCHECK action', () => {
    const withDocker = {
      ...api,
      build: { context: 'api', dockerfile: 'api/Dockerfile', runtime: 'node' as const, evidence: api.evidence[0] },
    };
    const c: FeatureContext = { ...ctx(), topology: { ...t, services: [withDocker, db] } };
    const text = 'FROM node:20\nEXPOSE 3000\nCMD ["node", "index.js"]\n';
    assert.deepEqual(
      computeDiagnostics(c, 'api/Dockerfile', text).map((d) => d.code),
      ['no-healthcheck'],
    );
    const actions = computeCodeActions(c, {
      rel: 'api/Dockerfile',
      text,
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      diagnostics: [],
      readFile: () => undefined,
    });
    assert.deepEqual(
      actions.map((a) => a.title),
      ['Add HEALTHCHECK for api'],
    );
    assert.equal(actions[0].edit!.changes!['file:///w/api/Dockerfile'][0].range.start.line, 2);
  });
});
