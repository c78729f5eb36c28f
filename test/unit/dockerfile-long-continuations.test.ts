// Dockerfiles with very long `\` continuations: both parsers (the engine's and the language server's) must join them
// in time linear in the file. Each parse runs in a worker thread, so the test-level timeout can stop a parser that
// never returns instead of waiting for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { DockerfileModel } from '../../server/src/engine/detect/dockerfile';
import type { DockerfileFacts } from '../../server/src/lsp/dockerfile-document';

const root = new URL('../..', import.meta.url).pathname;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
require('tsx/cjs/api').register();
const mod = require(workerData.module);
parentPort.postMessage(mod[workerData.fn](...workerData.args));
`;

function inWorker<T>(module: string, fn: string, args: unknown[], signal: AbortSignal): Promise<T> {
  const worker = new Worker(WORKER, { eval: true, workerData: { module: root + module, fn, args } });
  const stop = () => void worker.terminate();
  signal.addEventListener('abort', stop, { once: true });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => {
      resolve(m);
      stop();
    });
    worker.once('error', reject);
  }).finally(() => signal.removeEventListener('abort', stop));
}

/** `FROM`, then `RUN \` on each of `lines` lines (6 bytes each), the command's last word, and an EXPOSE after it. */
function continued(lines: number): string {
  return 'FROM alpine:3.20\n' + 'RUN \\\n'.repeat(lines) + 'true\nEXPOSE 8080\n';
}

test(
  'the language server reads an 80,000-line RUN continuation (480 KB) as one instruction',
  { timeout: 20_000 },
  async (t) => {
    const text = continued(80_000);
    assert.ok(text.length > 480_000);
    const facts = await inWorker<DockerfileFacts>(
      'server/src/lsp/dockerfile-document.ts',
      'readDockerfile',
      [text],
      t.signal,
    );
    assert.deepEqual(
      facts.instructions.map((i) => [i.keyword, i.line]),
      [
        ['FROM', 0],
        ['RUN', 1],
        ['EXPOSE', 80_002],
      ],
    );
    const words = facts.instructions[1].args.split(/\s+/);
    assert.equal(words.length, 80_000, 'the 79,999 continued RUN words and the last line');
    assert.equal(words.at(-1), 'true');
    assert.deepEqual(facts.exposed, [8080]);
    assert.equal(facts.lastFrom, 0);
  },
);

test(
  'the engine parses a 400,000-line RUN continuation (2.4 MB, as a caller without a size cap could pass)',
  { timeout: 20_000 },
  async (t) => {
    const text = continued(400_000);
    const model = await inWorker<DockerfileModel>(
      'server/src/engine/detect/dockerfile.ts',
      'parseDockerfile',
      [text, 'Dockerfile'],
      t.signal,
    );
    assert.deepEqual(model.problems, []);
    assert.deepEqual(
      model.instructions.map((i) => [i.keyword, i.line]),
      [
        ['FROM', 1],
        ['RUN', 2],
        ['EXPOSE', 400_003],
      ],
    );
    const words = model.instructions[1].args.split(/\s+/);
    assert.equal(words.length, 400_000);
    assert.deepEqual([words[0], words.at(-2), words.at(-1)], ['RUN', 'RUN', 'true']);
    assert.deepEqual(model.stages, [{ from: 'alpine:3.20', alias: undefined, line: 1 }]);
  },
);
