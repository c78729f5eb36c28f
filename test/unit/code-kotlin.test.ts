// The Kotlin reader on real Ktor and Spring sources: listen port (with its env override), routes, env reads, URLs.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initCodeReaders, languageForFile, readCode } from '../../server/src/engine/code';
import { FIXTURES } from '../support/fixture-expect';

before(async () => {
  await initCodeReaders(['kotlin']);
});

test('a Ktor main: embeddedServer port, routing verbs, imports', () => {
  const file = join(FIXTURES, 'polyglot-runtimes/ktor-api/src/main/kotlin/com/acme/ktor/Application.kt');
  assert.equal(languageForFile(file), 'kotlin');
  const facts = readCode('kotlin', readFileSync(file, 'utf8'));
  assert.deepEqual(
    facts.ports.map((p) => [p.port, p.line]),
    [[8093, 10]],
  );
  const routes = facts.routes.map((r) => [r.method, r.path, r.line]);
  assert.deepEqual(routes, [
    ['GET', '/health', 15],
    ['GET', '/orders/{id}', 16],
  ]);
  const netty = facts.imports.find((i) => i.module === 'io.ktor.server.netty');
  assert.equal(netty?.line, 5, JSON.stringify(facts.imports));
});

test('System.getenv with an elvis default is the port and its variable; other reads and URLs are kept', () => {
  const source = [
    'import io.ktor.server.engine.embeddedServer',
    'fun main() {',
    '  val db = System.getenv("DATABASE_URL") ?: "postgres://db:5432/app"',
    '  embeddedServer(Netty, port = System.getenv("PORT")?.toInt() ?: 8085) {',
    '    routing { post("/orders") { } }',
    '  }.start(wait = true)',
    '}',
    '@RestController class Health { @GetMapping("/actuator/ping") fun ping() = "ok" }',
  ].join('\n');
  const facts = readCode('kotlin', source);
  assert.deepEqual(
    facts.ports.map((p) => [p.port, p.envVar, p.line]),
    [[8085, 'PORT', 4]],
  );
  assert.deepEqual(facts.envReads.map((e) => e.name).sort(), ['DATABASE_URL', 'PORT']);
  assert.deepEqual(
    facts.urls.map((u) => u.url),
    ['postgres://db:5432/app'],
  );
  assert.deepEqual(
    facts.routes.map((r) => [r.method, r.path]),
    [
      ['POST', '/orders'],
      ['GET', '/actuator/ping'],
    ],
  );
});

test('broken Kotlin gives what could be recovered and never throws', () => {
  for (const source of ['', 'fun main( {', 'embeddedServer(Netty, port = "x"', '"""'.repeat(999), '@GetMapping(']) {
    const facts = readCode('kotlin', source);
    assert.ok(Array.isArray(facts.ports) && facts.ports.every((p) => p.port === undefined || p.port > 0));
  }
});
