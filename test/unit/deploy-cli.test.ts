// The deploy commands that need no engine: dockerfile, compose, and bad input (exit code 2).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';

const repo = join(import.meta.dirname, '..', '..');
const fixture = join(repo, 'test', 'fixtures', 'deploy-stack');

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1', KYOZO_STATE_DIR: mkdtempSync(join(tmpdir(), 'kyozo-cli-')) },
  });
}

describe('kyozo deploy commands without an engine', () => {
  test('kyozo dockerfile prints the generated Dockerfile with the chosen base image', () => {
    const res = cli(['dockerfile', 'api', '-d', fixture, '--base-image', 'node=registry.local/node:20']);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^FROM registry\.local\/node:20$/m);
    assert.match(res.stdout, /^USER 10001:10001$/m);
    assert.match(res.stdout, /^EXPOSE 3001$/m);
  });

  test('kyozo dockerfile on a service with its own Dockerfile prints that one and says so', () => {
    const res = cli(['dockerfile', 'files', '-d', fixture]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stderr, /has its own Dockerfile \(files\/Dockerfile\)/);
    assert.match(res.stdout, /^FROM kyozo-test\/busybox:1$/m);
  });

  test('kyozo compose -o writes the compose file and the generated Dockerfiles beside it, not in the folder', () => {
    const out = mkdtempSync(join(tmpdir(), 'kyozo-compose-'));
    const before = readdirSync(join(fixture, 'api')).sort();
    const res = cli(['compose', fixture, '-o', join(out, 'compose.yaml')]);
    assert.equal(res.status, 0, res.stderr);
    const doc = parse(readFileSync(join(out, 'compose.yaml'), 'utf8')) as {
      services: Record<string, { build: { dockerfile: string } }>;
    };
    assert.deepEqual(Object.keys(doc.services).sort(), ['api', 'files', 'web']);
    assert.ok(existsSync(join(out, '.kyozo/dockerfiles/api.Dockerfile')));
    assert.deepEqual(readdirSync(join(fixture, 'api')).sort(), before);
  });

  test('bad input exits 2 with what to do', () => {
    const scale = cli(['scale', 'api', '-d', fixture]);
    assert.equal(scale.status, 2);
    assert.match(scale.stderr, /scale expects <service>=<replicas>, e\.g\. api=3; got 'api'/);
    const base = cli(['dockerfile', 'api', '-d', fixture, '--base-image', 'cobol=x']);
    assert.equal(base.status, 2);
    assert.match(base.stderr, /--base-image expects <runtime>=<image>/);
    const unknown = cli(['dockerfile', 'nope', '-d', fixture]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no service 'nope'.*known: api, files, web/);
  });
});
