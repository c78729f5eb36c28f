import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as tar from 'tar-stream';
import { collectContext, contextTar, GENERATED_CONTEXT_IGNORES } from '../../server/src/engine/deploy/build-context';

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-ctx-'));
  writeFileSync(join(dir, 'server.js'), 'console.log(1)\n');
  writeFileSync(join(dir, '.dockerignore'), '# comment\nsecrets/\n*.log\n!keep.log\n');
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'key.pem'), 'PRIVATE');
  writeFileSync(join(dir, 'debug.log'), 'noise');
  writeFileSync(join(dir, 'keep.log'), 'kept');
  mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), '');
  return dir;
}

async function tarNames(stream: NodeJS.ReadableStream): Promise<string[]> {
  const extract = tar.extract();
  const names: string[] = [];
  extract.on('entry', (header, s, next) => {
    names.push(header.name);
    s.resume();
    s.on('end', next);
  });
  const done = new Promise<void>((r) => extract.on('finish', () => r()));
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return names.sort();
}

describe('build context', () => {
  test('honours .dockerignore (with negation) and the generated-context ignores', async () => {
    const dir = folder();
    const ctx = collectContext(dir, { extraIgnores: GENERATED_CONTEXT_IGNORES });
    assert.deepEqual(ctx.files.map((f) => f.path).sort(), ['.dockerignore', 'keep.log', 'server.js']);
    assert.deepEqual(await tarNames(contextTar(ctx)), ['.dockerignore', 'keep.log', 'server.js']);
  });

  test('a generated Dockerfile goes into the tar only, never into the folder', async () => {
    const dir = folder();
    const before = readdirSync(dir).sort();
    const ctx = collectContext(dir, { dockerfile: { name: '.kyozo.Dockerfile', text: 'FROM scratch\n' } });
    assert.ok((await tarNames(contextTar(ctx))).includes('.kyozo.Dockerfile'));
    assert.deepEqual(readdirSync(dir).sort(), before);
  });

  test('the content hash is stable, ignores ignored files and changes with content or Dockerfile', () => {
    const dir = folder();
    const a = collectContext(dir).hash;
    assert.equal(collectContext(dir).hash, a);
    writeFileSync(join(dir, 'debug.log'), 'more noise');
    assert.equal(collectContext(dir).hash, a, 'ignored files do not change the hash');
    writeFileSync(join(dir, 'server.js'), 'console.log(2)\n');
    const b = collectContext(dir).hash;
    assert.notEqual(b, a);
    assert.notEqual(collectContext(dir, { dockerfile: { name: 'D', text: 'FROM x' } }).hash, b);
    assert.notEqual(collectContext(dir, { buildArgs: { A: '1' } }).hash, b);
  });

  test('a context over the size cap is refused with advice', () => {
    const dir = folder();
    assert.throws(() => collectContext(dir, { maxBytes: 4 }), /larger than .*add a \.dockerignore/);
  });
});
