// The deploy use cases' pure parts, which the CLI, the language server and the extension share instead of each
// writing their own: service lookup, replica counts, progress text, and writing a compose export to disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { analyze } from '../../server/src/engine/index';
import { exportCompose, writeComposeExport } from '../../server/src/engine/compose/compose-export';
import {
  describeProgress,
  InvalidReplicasError,
  ServiceIndex,
  UnknownServiceError,
  validateReplicas,
  replicaCountProblem,
} from '../../server/src/engine/deploy/index';

const repo = join(import.meta.dirname, '..', '..');
const fixture = join(repo, 'test', 'fixtures', 'deploy-stack');

describe('deploy use cases', () => {
  test('ServiceIndex finds by id, then name, by file, and names the known services when it finds nothing', async () => {
    const t = await analyze(fixture);
    const ix = ServiceIndex.of(t);
    assert.equal(ServiceIndex.of(t), ix, 'one index per topology');
    assert.equal(ix.find('api')?.folder, 'api');
    assert.equal(ix.byName('API')?.name, 'api');
    assert.equal(ix.forFile('web/server.js')?.name, 'web');
    assert.equal(ix.forFile('files/Dockerfile')?.name, 'files');
    assert.throws(
      () => ix.require('nope'),
      (e: Error) =>
        e instanceof UnknownServiceError &&
        /no service 'nope' in .*deploy-stack; known: (api|files|web)(, (api|files|web)){2}$/.test(e.message),
    );
  });

  test('replica counts: whole numbers from 0 to 50, as numbers or digits; anything else says what it got', () => {
    assert.equal(validateReplicas(0), 0);
    assert.equal(validateReplicas('3'), 3);
    assert.equal(validateReplicas(' 50 '), 50);
    for (const bad of [51, -1, 2.5, 'many', '', '3x', null, undefined]) {
      assert.match(replicaCountProblem(bad) ?? '', /whole number from 0 to 50, got "/, String(bad));
    }
    assert.throws(
      () => validateReplicas(99, 'scale api'),
      (e: Error) =>
        e instanceof InvalidReplicasError &&
        e.message === 'scale api: replicas must be a whole number from 0 to 50, got "99".',
    );
  });

  test('progress reads as one line: service, state and the first line of the message', () => {
    assert.equal(describeProgress({ serviceId: 'api', state: 'building', elapsedMs: 10 }), 'api: building');
    const p = { serviceId: 'api', state: 'error' as const, elapsedMs: 10, message: 'exited with code 1\nlogs' };
    assert.equal(describeProgress(p, 'the api'), 'the api: error — exited with code 1');
  });

  test('writeComposeExport writes the compose file and every Dockerfile it references', async () => {
    const t = await analyze(fixture);
    const out = mkdtempSync(join(tmpdir(), 'kyozo-compose-write-'));
    const composeFile = join(out, 'deploy', 'compose.yaml');
    const written = writeComposeExport(exportCompose(t, { outputDir: join(out, 'deploy') }), composeFile);
    type Build = { context: string; dockerfile: string };
    const doc = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, { build?: Build }> };
    for (const name of ['api', 'web']) {
      const build = doc.services[name]!.build!;
      const file = resolve(join(out, 'deploy'), build.context, build.dockerfile);
      assert.ok(existsSync(file), `${name}: ${file}`);
      assert.ok(written.includes(file));
    }
  });

  test('kyozo scale with a count out of range exits 2 with what was wrong, not a stack trace', () => {
    const args = ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), 'scale', 'api=99', '-d', fixture];
    const res = spawnSync(process.execPath, args, {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1', KYOZO_STATE_DIR: mkdtempSync(join(tmpdir(), 'kyozo-cli-')) },
    });
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /^kyozo: scale api=99: replicas must be a whole number from 0 to 50, got "99"\.$/m);
    assert.doesNotMatch(res.stderr, /^\s+at /m);
  });
});
