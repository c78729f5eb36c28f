// The layer boundaries are kept by lint, not by review: a probe file that crosses one, written where the crossing
// would happen, must fail ESLint with no-restricted-imports (and a probe that stays inside passes).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from './lsp-harness';

/** Side-effect imports only, so a probe left behind for a moment still type-checks for everyone else. */
const PROBES: { where: string; code: string; crosses: boolean }[] = [
  { where: 'server/src/engine', code: "import 'vscode';\n", crosses: true },
  { where: 'server/src/engine', code: "import 'vscode-languageserver/node';\n", crosses: true },
  { where: 'server/src/engine/detect', code: "import '../compose/compose-import';\n", crosses: true },
  { where: 'server/src/engine/compose', code: "import '../detect/dockerfile';\n", crosses: true },
  { where: 'server/src/lsp', code: "import '../engine/scan/workspace-files';\n", crosses: true },
  { where: 'server/src/cli', code: "import '../engine/topology/assemble';\n", crosses: true },
  { where: 'extension/src', code: "import '../../server/src/engine';\n", crosses: true },
  { where: 'webviews/topology', code: "import 'node:fs';\n", crosses: true },
  // What each layer may import.
  { where: 'server/src/engine', code: "import '../protocol';\n", crosses: false },
  { where: 'server/src/lsp', code: "import '../engine';\n", crosses: false },
  { where: 'extension/src', code: "import 'vscode';\nimport '../../server/src/protocol';\n", crosses: false },
];

test('lint refuses an import that crosses a layer boundary, where it is written', async () => {
  const eslint = new ESLint({ cwd: repoRoot });
  for (const [i, probe] of PROBES.entries()) {
    const file = join(repoRoot, probe.where, `lint-boundary-probe-${process.pid}-${i}.ts`);
    writeFileSync(file, probe.code);
    try {
      const [result] = await eslint.lintFiles([file]);
      const fired = result.messages.filter((m) => m.ruleId === 'no-restricted-imports');
      const what = `${probe.code.trim()} in ${probe.where}`;
      if (probe.crosses) assert.ok(fired.length > 0, `${what} must fail lint; got ${JSON.stringify(result.messages)}`);
      else assert.deepEqual(fired, [], `${what} is allowed`);
    } finally {
      rmSync(file, { force: true });
    }
  }
});
