// The kyozo.yaml highlighting names every key the schema accepts, so a key added to one is not forgotten in the other.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const repo = join(import.meta.dirname, '..', '..');
const read = (path: string) => JSON.parse(readFileSync(join(repo, path), 'utf8')) as Record<string, unknown>;

test('every top-level kyozo.yaml key of the schema is highlighted as a manifest key', () => {
  const schema = read('schemas/kyozo.schema.json') as { properties: Record<string, unknown> };
  const grammar = read('syntaxes/kyozo-yaml.injection.tmLanguage.json') as {
    repository: { 'manifest-key': { match: string } };
  };
  const keys = new RegExp(grammar.repository['manifest-key'].match);
  const missing = Object.keys(schema.properties).filter((key) => !keys.test(`${key}:`));
  assert.deepEqual(missing, [], `add these keys to manifest-key in syntaxes/kyozo-yaml.injection.tmLanguage.json`);
});
