// `npm run bench [name...]`: builds once, then runs each benchmark in turn (all of them by default). Every
// benchmark prints its figures beside the reference it is compared to, measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const all = ['detect', 'code', 'lsp', 'webview', 'deploy', 'sync', 'share', 'context'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
const unknown = wanted.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${all.join(', ')}`);
  process.exit(2);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
let failed = 0;
for (const name of wanted) {
  const file = join(root, 'test', 'bench', `${name}.bench.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n━━━ bench:${name} ━━━`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
