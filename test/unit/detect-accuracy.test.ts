// Detection accuracy over the labelled single-app repositories of test/bench/detect-accuracy.ts, held to the goals
// of issue 14 (language 97%+, port 90%+), and the misses the labels found, each fixed once.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../server/src/engine';
import { describeAccuracy, LABELS, measureAccuracy } from '../bench/detect-accuracy';
import { FIXTURES } from '../support/fixture-expect';

test('language and port accuracy over the labelled single-app repositories meet their goals', async () => {
  const acc = await measureAccuracy();
  console.log(describeAccuracy(acc).join('\n'));
  assert.ok(acc.repositories >= 90, `only ${acc.repositories} repositories`);
  assert.ok(acc.languageRight / acc.repositories >= 0.97, describeAccuracy(acc).join('\n'));
  assert.ok(acc.portRight / acc.withPort >= 0.9, describeAccuracy(acc).join('\n'));
  assert.equal(acc.noPortRight, acc.withoutPort, describeAccuracy(acc).join('\n'));
});

test('every labelled repository exists and is labelled once', () => {
  const repos = LABELS.map((l) => l.repo);
  assert.equal(new Set(repos).size, repos.length);
  assert.deepEqual(
    repos.filter((r) => !existsSync(join(FIXTURES, '..', r))),
    [],
  );
});

test('a Gradle build written in the Kotlin DSL does not make Java code Kotlin', async () => {
  const topology = await analyze(join(FIXTURES, 'java-spring'));
  assert.equal(topology.services.find((s) => s.id === 'inventory')?.language, 'java');
  const ktor = await analyze(join(FIXTURES, 'polyglot-runtimes', 'ktor-api'));
  assert.equal(ktor.services[0]?.language, 'kotlin', 'Kotlin sources under src/main/kotlin still are');
});

test('a repository that is one shell script is written in shell; a script starting a Python app is not', async () => {
  const loop = await analyze(join(FIXTURES, 'runnable-programs', 'sync-loop'));
  assert.equal(loop.services[0]?.language, 'shell');
  const app = await analyze(join(FIXTURES, 'polyglot-runtimes', 'shell-app'));
  assert.equal(app.services[0]?.language, 'python');
});
