import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolate, parseDotEnv } from '../../server/src/engine/compose/compose-import';
import { commandArgv, parseDockerfile } from '../../server/src/engine/detect/dockerfile';
import { portsInCommand } from '../../server/src/engine/detect/command-ports';
import { looksLikeSecretLiteral } from '../../server/src/engine/parse/secret-names';
import { closest, dnsName } from '../../server/src/engine/detect/service-names';
import { hostsInValue } from '../../server/src/engine/topology/link';
import { deploymentOrder } from '../../server/src/engine/topology/order';
import type { Edge, Service } from '../../server/src/protocol';

test('compose interpolation follows the compose-spec operators', () => {
  const vars = { SET: 'x', EMPTY: '' };
  assert.equal(interpolate('${SET}', vars), 'x');
  assert.equal(interpolate('${MISSING:-8080}:80', vars), '8080:80');
  assert.equal(interpolate('${EMPTY:-d}', vars), 'd');
  assert.equal(interpolate('${EMPTY-d}', vars), '');
  assert.equal(interpolate('${SET:+alt}', vars), 'alt');
  assert.equal(interpolate('$$HOME and $SET', vars), '$HOME and x');
  const missing: string[] = [];
  interpolate('${NEED:?set NEED}', vars, (n) => missing.push(n));
  assert.deepEqual(missing, ['NEED']);
});

test('.env parsing keeps quoted values and drops comments', () => {
  assert.deepEqual(parseDotEnv('A=1\n# c\nexport B="two words"\nC=3 # note\nbad line'), {
    A: '1',
    B: 'two words',
    C: '3',
  });
});

test('Dockerfile parser handles continuations, stages and reports unknown instructions with their line', () => {
  const m = parseDockerfile(
    'FROM node:20 AS build\nRUN npm ci \\\n  && npm run build\nFROM nginx:alpine\nEXPOSE 8080\nCOPYY . .\n',
    'Dockerfile',
  );
  assert.deepEqual(
    m.stages.map((s) => s.from),
    ['node:20', 'nginx:alpine'],
  );
  assert.equal(m.instructions.find((i) => i.keyword === 'RUN')!.args, 'npm ci  && npm run build');
  assert.equal(m.problems.length, 1);
  assert.equal(m.problems[0].code, 'dockerfile-parse');
  assert.equal(m.problems[0].line, 6);
  assert.deepEqual(commandArgv('["node", "server.js"]'), { argv: ['node', 'server.js'], command: 'node server.js' });
  assert.deepEqual(commandArgv('node server.js'), { command: 'node server.js' });
});

test('ports named in commands', () => {
  assert.deepEqual(
    portsInCommand('PORT=4000 node server.js').map((p) => p.port),
    [4000],
  );
  assert.deepEqual(
    portsInCommand('next start -p 3005').map((p) => p.port),
    [3005],
  );
  assert.deepEqual(
    portsInCommand('uvicorn main:app --host 0.0.0.0 --port 8080').map((p) => p.port),
    [8080],
  );
  assert.deepEqual(
    portsInCommand('gunicorn app:app --bind 0.0.0.0:8000').map((p) => p.port),
    [8000],
  );
  assert.deepEqual(
    portsInCommand('curl http://localhost:9999/x').map((p) => p.port),
    [],
  );
});

test('hosts in environment values', () => {
  assert.deepEqual(hostsInValue('DATABASE_URL', 'postgres://app:secret@db:5432/app'), ['db']);
  assert.deepEqual(hostsInValue('DB_HOST', 'db'), ['db']);
  assert.deepEqual(hostsInValue('CACHE', 'cache:6379'), ['cache']);
  assert.deepEqual(hostsInValue('GREETING', 'hello'), []);
});

test('secret literals, DNS names and suggestions', () => {
  assert.ok(looksLikeSecretLiteral('POSTGRES_PASSWORD', 'hunter22'));
  assert.ok(!looksLikeSecretLiteral('POSTGRES_PASSWORD', '${PG_PASS}'));
  assert.ok(!looksLikeSecretLiteral('PORT', '3000'));
  assert.equal(dnsName('@acme/Web_App'), 'web-app');
  assert.equal(closest('postgress', ['postgres', 'redis']), 'postgres');
  assert.equal(closest('zzz', ['postgres', 'redis']), undefined);
});

test('deployment waves and cycles', () => {
  const svc = (id: string) => ({ id, name: id, type: 'nodejs' }) as Service;
  const e = (from: string, to: string): Edge => ({
    from,
    to,
    kind: 'compose',
    evidence: [{ file: 'compose.yaml', line: 1, reason: '' }],
  });
  const ok = deploymentOrder([svc('web'), svc('api'), svc('db')], [e('web', 'api'), e('api', 'db')]);
  assert.deepEqual(ok.order, [['db'], ['api'], ['web']]);
  assert.equal(ok.problems.length, 0);
  const cyc = deploymentOrder([svc('a'), svc('b'), svc('c'), svc('d')], [e('a', 'b'), e('b', 'a'), e('c', 'a')]);
  assert.deepEqual(cyc.order, [['d'], ['a', 'b'], ['c']]);
  assert.equal(cyc.problems[0].code, 'dependency-cycle');
  assert.match(cyc.problems[0].message, /a → b → a/);
});
