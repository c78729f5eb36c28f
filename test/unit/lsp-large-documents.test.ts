// Documents the language server must not try to read whole: over the engine's file cap they get one diagnostic
// saying so and nothing else, and no open document (large, slow to check, or busy) holds up a request about another
// file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeLens, Hover, MarkupContent, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { startSession, type LspSession } from './lsp-harness';

const PUBLISH = 'textDocument/publishDiagnostics';
const hoverText = (h: Hover | null) => (h ? (h.contents as MarkupContent).value : '');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A compose file of `count` services, each depending on a service that does not exist and has no close name. */
function unknownDependencies(count: number, prefix = 's'): string {
  const entry = (i: number) => `  ${prefix}${i}:\n    image: busybox\n    depends_on: [zz${i}x]\n`;
  return `services:\n${Array.from({ length: count }, (_, i) => entry(i)).join('')}`;
}

describe('large and busy documents in the language server', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace');
  });
  after(async () => {
    await s?.close();
  });

  const hoverApi = () =>
    s.connection.sendRequest<Hover | null>('textDocument/hover', {
      textDocument: { uri: s.uri('api/package.json') },
      position: { line: 1, character: 4 },
    });

  it(
    'answers a hover on another file while a 30 MB Dockerfile is open, which gets one too-large diagnostic',
    {
      timeout: 60_000,
    },
    async () => {
      // 5,000,000 `RUN \` continuation lines: what once stalled the server for minutes.
      const big = 'FROM alpine:3.20\n' + 'RUN \\\n'.repeat(5_000_000) + 'true\n';
      assert.ok(big.length >= 30_000_000);
      const bigUri = s.uri('big/Dockerfile');
      const published = s.next<PublishDiagnosticsParams>(PUBLISH, (p) => p.uri === bigUri, 30_000);
      await s.open('big/Dockerfile', big, 'dockerfile');
      await s.open('api/package.json', readFileSync(join(s.folder, 'api/package.json'), 'utf8'), 'json');
      assert.match(hoverText(await within(5_000, 'hover on api/package.json', hoverApi())), /\*\*api\*\* — nodejs/);

      const p = await published;
      assert.equal(p.version, 1);
      assert.equal(p.diagnostics.length, 1, JSON.stringify(p.diagnostics));
      const [d] = p.diagnostics;
      assert.equal(d.code, 'file-too-large');
      assert.match(d.message, /Dockerfile is too large to analyse \(30\.0 MB > 0\.5 MB cap\)/);
      assert.deepEqual(d.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
      const bigHover = s.connection.sendRequest<Hover | null>('textDocument/hover', {
        textDocument: { uri: bigUri },
        position: { line: 0, character: 1 },
      });
      assert.equal(await within(5_000, 'hover on the large file', bigHover), null);

      // Back under the cap, the file is read again.
      const small = s.next<PublishDiagnosticsParams>(PUBLISH, (x) => x.uri === bigUri && x.version === 2, 10_000);
      await s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri: bigUri, version: 2 },
        contentChanges: [{ text: 'FROM alpine:3.20\n' }],
      });
      assert.deepEqual((await small).diagnostics, []);
    },
  );

  it(
    'does not parse a compose file over the cap: one diagnostic, no YAML errors, no CodeLens',
    {
      timeout: 30_000,
    },
    async () => {
      // 570 KB of compose services with a YAML error at the end: a parse would report it.
      const services = Array.from({ length: 20_000 }, (_, i) => `  s${i}:\n    image: busybox\n`).join('');
      const text = `services:\n${services}  broken: [\n`;
      assert.ok(text.length > 512 * 1024);
      const uri = s.uri('big/docker-compose.yml');
      const published = s.next<PublishDiagnosticsParams>(PUBLISH, (p) => p.uri === uri, 20_000);
      await s.open('big/docker-compose.yml', text, 'yaml');
      const p = await published;
      assert.deepEqual(
        p.diagnostics.map((d) => d.code),
        ['file-too-large'],
      );
      assert.match(p.diagnostics[0].message, /docker-compose\.yml is too large to analyse \(0\.6 MB > 0\.5 MB cap\)/);
      const lenses = s.connection.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
      assert.deepEqual(await within(5_000, 'CodeLens', lenses), []);
    },
  );

  it(
    'reports the cycles of a small compose file whose 10 services all depend on each other',
    {
      timeout: 30_000,
    },
    async () => {
      // 90 depends_on entries, millions of elementary cycles: enumerating them all took hours.
      const names = Array.from({ length: 10 }, (_, i) => `s${i}`);
      const others = (n: string) => names.filter((x) => x !== n).join(', ');
      const entry = (n: string) => `  ${n}:\n    image: busybox\n    depends_on: [${others(n)}]\n`;
      const text = `services:\n${names.map(entry).join('')}`;
      const uri = s.uri('mesh/compose.yaml');
      const published = s.next<PublishDiagnosticsParams>(PUBLISH, (p) => p.uri === uri, 10_000);
      await s.open('mesh/compose.yaml', text, 'yaml');
      const cycles = (await published).diagnostics.filter((d) => d.code === 'dependency-cycle');
      assert.ok(cycles.length >= 2 && cycles.length <= 90, `${cycles.length} cycle diagnostics`);
      assert.match(cycles[0].message, /^Dependency cycle: s0 → s\d → s0\./);
    },
  );

  it('gives each of 9,000 unknown depends_on entries (480 KB) one short diagnostic', { timeout: 60_000 }, async () => {
    // No name is close to the missing ones, so each message once listed all 9,000 services (and took minutes).
    const text = unknownDependencies(9_000);
    assert.ok(text.length < 512 * 1024);
    const uri = s.uri('many/compose.yaml');
    const published = s.next<PublishDiagnosticsParams>(PUBLISH, (p) => p.uri === uri, 30_000);
    await s.open('many/compose.yaml', text, 'yaml');
    const unknown = (await published).diagnostics.filter((d) => d.code === 'unknown-depends-on');
    assert.equal(unknown.length, 9_000);
    assert.equal(
      unknown[0].message,
      'Service "s0" depends on "zz0x", which is not a service in this file ' +
        '(services: s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 and 8,990 more)',
    );
    assert.ok(
      unknown.every((d) => d.message.length < 300),
      'messages stay short',
    );
  });

  it(
    'keeps answering hovers on another file while a compose file near the cap is analysed',
    {
      timeout: 60_000,
    },
    async () => {
      // 9,500 services (500 KB): reading and checking it takes a second or more, which a hover must not wait for.
      const text = unknownDependencies(9_500);
      assert.ok(text.length < 512 * 1024);
      const uri = s.uri('near-cap/compose.yaml');
      let analysed = false;
      const published = s
        .next<PublishDiagnosticsParams>(PUBLISH, (p) => p.uri === uri, 30_000)
        .finally(() => {
          analysed = true;
        });
      await s.open('near-cap/compose.yaml', text, 'yaml');
      let answered = 0;
      while (!analysed) {
        const hover = await within(1_000, `hover ${answered + 1} during the analysis`, hoverApi());
        assert.match(hoverText(hover), /\*\*api\*\*/);
        answered++;
        await pause(50);
      }
      assert.equal((await published).diagnostics.length, 9_500);
      assert.ok(answered >= 3, `${answered} hovers answered while the file was analysed`);
    },
  );

  it(
    'keeps answering hovers on another file while CodeLens are computed for a compose file near the cap',
    {
      timeout: 60_000,
    },
    async () => {
      // A compose file's lenses need its parse, which for 500 KB takes about a second.
      const text = unknownDependencies(9_500, 'l');
      const uri = s.uri('lenses/compose.yaml');
      await s.open('lenses/compose.yaml', text, 'yaml');
      let done = false;
      const lenses = s.connection
        .sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } })
        .finally(() => {
          done = true;
        });
      let answered = 0;
      while (!done) {
        const hover = await within(500, `hover ${answered + 1} while the lenses are computed`, hoverApi());
        assert.match(hoverText(hover), /\*\*api\*\*/);
        answered++;
        await pause(20);
      }
      // Its services are not services of this workspace's topology: no lens, but an answer.
      assert.deepEqual(await lenses, []);
      assert.ok(answered >= 2, `${answered} hovers answered while the lenses were computed`);
    },
  );

  it(
    'drops the analysis of a version replaced while it runs, and publishes the newer one',
    {
      timeout: 60_000,
    },
    async () => {
      // Names of its own, so no parse of the previous tests is reused.
      const slow = unknownDependencies(9_500, 'r');
      const uri = s.uri('replaced/compose.yaml');
      const seen: (number | undefined)[] = [];
      const second = s.next<PublishDiagnosticsParams>(
        PUBLISH,
        (p) => {
          if (p.uri === uri) seen.push(p.version);
          return p.uri === uri && p.version === 2;
        },
        30_000,
      );
      await s.open('replaced/compose.yaml', slow, 'yaml');
      // Past the pause the server waits for, so the first version is being analysed when the second arrives.
      await pause(400);
      const fixed = 'services:\n  a:\n    image: busybox\n    depends_on: [b]\n';
      await s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ text: fixed }],
      });
      const p = await second;
      assert.deepEqual(seen, [2], 'the first version was never published');
      assert.deepEqual(
        p.diagnostics.map((d) => d.message),
        ['Service "a" depends on "b", which is not a service in this file (services: a)'],
      );
    },
  );

  it(
    "publishes the diagnostics of the latest version only: a newer edit replaces the older one's pending work",
    {
      timeout: 30_000,
    },
    async () => {
      const uri = s.uri('docker-compose.yml');
      const compose = readFileSync(join(s.folder, 'docker-compose.yml'), 'utf8');
      const seen: (number | undefined)[] = [];
      const last = s.next<PublishDiagnosticsParams>(
        PUBLISH,
        (p) => {
          if (p.uri === uri) seen.push(p.version);
          return p.uri === uri && p.version === 12;
        },
        20_000,
      );
      await s.open('docker-compose.yml', compose, 'yaml');
      // Typing: eleven versions in a burst, each a valid compose file with a different unknown depends_on.
      for (let v = 2; v <= 12; v++) {
        await s.connection.sendNotification('textDocument/didChange', {
          textDocument: { uri, version: v },
          contentChanges: [{ text: compose.replace('- cahce', `- typo${v}`) }],
        });
      }
      const p = await last;
      // Each version published would be 12 publishes; the burst arrives well within the pause the server waits for.
      assert.ok(seen.length < 12, `versions published: ${seen.join(', ')}`);
      assert.equal(seen.at(-1), 12);
      const unknown = p.diagnostics.filter((d) => d.code === 'unknown-depends-on').map((d) => d.message);
      assert.equal(unknown.length, 1);
      assert.match(unknown[0], /depends on "typo12"/);
    },
  );
});
