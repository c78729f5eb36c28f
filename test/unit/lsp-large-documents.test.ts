// Documents the language server must not try to read whole: over the engine's file cap they get one diagnostic
// saying so and nothing else, and no open document (large or busy) holds up a request about another file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeLens, Hover, MarkupContent, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { startSession, type LspSession } from './lsp-harness';

const hoverText = (h: Hover | null) => (h ? (h.contents as MarkupContent).value : '');

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('large and busy documents in the language server', () => {
  let s: LspSession;
  before(async () => { s = await startSession('lsp-workspace'); });
  after(async () => { await s?.close(); });

  it('answers a hover on another file while a 30 MB Dockerfile is open, and gives that file one too-large diagnostic', { timeout: 60_000 }, async () => {
    // 5,000,000 `RUN \` continuation lines: what once stalled the server for minutes.
    const big = 'FROM alpine:3.20\n' + 'RUN \\\n'.repeat(5_000_000) + 'true\n';
    assert.ok(big.length >= 30_000_000);
    const bigUri = s.uri('big/Dockerfile');
    const published = s.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === bigUri, 30_000);
    await s.open('big/Dockerfile', big, 'dockerfile');
    await s.open('api/package.json', readFileSync(join(s.folder, 'api/package.json'), 'utf8'), 'json');
    const hover = await within(5_000, 'hover on api/package.json', s.connection.sendRequest<Hover | null>('textDocument/hover', {
      textDocument: { uri: s.uri('api/package.json') }, position: { line: 1, character: 4 },
    }));
    assert.match(hoverText(hover), /\*\*api\*\* — nodejs/);

    const p = await published;
    assert.equal(p.version, 1);
    assert.equal(p.diagnostics.length, 1, JSON.stringify(p.diagnostics));
    const [d] = p.diagnostics;
    assert.equal(d.code, 'file-too-large');
    assert.match(d.message, /Dockerfile is too large to analyse \(30\.0 MB > 0\.5 MB cap\)/);
    assert.deepEqual(d.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
    assert.equal(await within(5_000, 'hover on the large file', s.connection.sendRequest<Hover | null>('textDocument/hover', {
      textDocument: { uri: bigUri }, position: { line: 0, character: 1 },
    })), null);

    // Back under the cap, the file is read again.
    const small = s.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (x) => x.uri === bigUri && x.version === 2, 10_000);
    await s.connection.sendNotification('textDocument/didChange', { textDocument: { uri: bigUri, version: 2 }, contentChanges: [{ text: 'FROM alpine:3.20\n' }] });
    assert.deepEqual((await small).diagnostics, []);
  });

  it('does not parse a compose file over the cap: one diagnostic, no YAML errors, no CodeLens', { timeout: 30_000 }, async () => {
    // 570 KB of compose services with a YAML error at the end: a parse would report it.
    const services = Array.from({ length: 20_000 }, (_, i) => `  s${i}:\n    image: busybox\n`).join('');
    const text = `services:\n${services}  broken: [\n`;
    assert.ok(text.length > 512 * 1024);
    const uri = s.uri('big/docker-compose.yml');
    const published = s.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === uri, 20_000);
    await s.open('big/docker-compose.yml', text, 'yaml');
    const p = await published;
    assert.deepEqual(p.diagnostics.map((d) => d.code), ['file-too-large']);
    assert.match(p.diagnostics[0].message, /docker-compose\.yml is too large to analyse \(0\.6 MB > 0\.5 MB cap\)/);
    const lenses = await within(5_000, 'CodeLens', s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } }));
    assert.deepEqual(lenses, []);
  });

  it('publishes the diagnostics of the latest version only: a newer edit replaces the older one\'s pending work', { timeout: 30_000 }, async () => {
    const uri = s.uri('docker-compose.yml');
    const compose = readFileSync(join(s.folder, 'docker-compose.yml'), 'utf8');
    const seen: (number | undefined)[] = [];
    const last = s.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => {
      if (p.uri === uri) seen.push(p.version);
      return p.uri === uri && p.version === 12;
    }, 20_000);
    await s.open('docker-compose.yml', compose, 'yaml');
    // Typing: eleven versions in a burst, each a valid compose file with a different unknown depends_on.
    for (let v = 2; v <= 12; v++) {
      await s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: v }, contentChanges: [{ text: compose.replace('- cahce', `- typo${v}`) }],
      });
    }
    const p = await last;
    // Each version published would be 12 publishes; the burst arrives well within the pause the server waits for.
    assert.ok(seen.length < 12, `versions published: ${seen.join(', ')}`);
    assert.equal(seen.at(-1), 12);
    const unknown = p.diagnostics.filter((d) => d.code === 'unknown-depends-on').map((d) => d.message);
    assert.equal(unknown.length, 1);
    assert.match(unknown[0], /depends on "typo12"/);
  });
});
