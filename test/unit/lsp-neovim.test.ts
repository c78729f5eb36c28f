// A real second editor: Neovim's built-in LSP client (nvim --headless, test/support/neovim-lsp-client.lua) starts the
// built server over --stdio, asks for CodeLens and watches diagnostics, as a Neovim user's editor does.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './lsp-harness';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const missing = nvim.error ? "nvim is not installed (.ci/machine-setup.sh installs Debian's neovim)" : false;

interface NeovimRun {
  client?: string;
  manifest?: string[];
  compose?: string[];
  before?: string[];
  after?: string[];
  watching?: boolean;
  messages?: string[];
  large?: string[];
  error?: string;
}

/** Runs the Lua client on a copy of the fixture; resolves with what it wrote, or rejects after `timeoutMs`. */
function runNeovim(timeoutMs = 90_000): Promise<NeovimRun> {
  const folder = mkdtempSync(join(tmpdir(), 'kyozo-nvim-'));
  const root = join(folder, 'workspace');
  cpSync(join(repoRoot, 'test/fixtures/lsp-workspace'), root, { recursive: true });
  const out = join(folder, 'out.json');
  const script = join(repoRoot, 'test/support/neovim-lsp-client.lua');
  const env = {
    ...process.env,
    KYOZO_ROOT: root,
    KYOZO_OUT: out,
    KYOZO_NODE: process.execPath,
    // The command docs/language-server.md gives editors (it loads dist/server.js).
    KYOZO_SERVER: process.env.KYOZO_LSP_SERVER ?? join(repoRoot, 'bin/kyozo-language-server.js'),
    // Neovim's own state (logs, shada) stays in the temporary folder.
    XDG_STATE_HOME: folder,
    XDG_DATA_HOME: folder,
    XDG_CACHE_HOME: folder,
    XDG_CONFIG_HOME: folder,
  };
  const child = spawn('nvim', ['--headless', '-n', '-i', 'NONE', '-u', 'NONE', '-c', `luafile ${script}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output = (output + d).slice(-4000);
  });
  child.stderr.on('data', (d) => {
    output = (output + d).slice(-4000);
  });
  return new Promise<NeovimRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nvim did not finish within ${timeoutMs} ms; its output: ${output}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(readFileSync(out, 'utf8')) as NeovimRun);
      } catch (e) {
        reject(new Error(`nvim exited with ${code} without a result (${(e as Error).message}); its output: ${output}`));
      }
    });
  }).finally(() => rmSync(folder, { recursive: true, force: true }));
}

describe("language server driven by Neovim's built-in LSP client", { skip: missing }, () => {
  it(
    'shows plain CodeLens titles, follows a Dockerfile changed on disk, says a failure without asking',
    {
      timeout: 120_000,
    },
    async () => {
      const run = await runNeovim();
      assert.equal(run.error, undefined, run.error);
      assert.equal(run.client, 'kyozo');
      assert.deepEqual(run.manifest, ['Deploy api']);
      assert.deepEqual(run.compose, ['Deploy api', 'Deploy web', 'Deploy db', 'Deploy cache']);
      assert.ok(run.before?.includes('missing-expose'), JSON.stringify(run.before));
      assert.equal(run.watching, true, 'the server said it watches the folder itself');
      assert.ok(run.after && !run.after.includes('missing-expose'), JSON.stringify(run.after));
      assert.equal(run.messages?.length, 1, JSON.stringify(run.messages));
      assert.match(run.messages?.[0] ?? '', /could not analyse .*workspace-missing.*does not exist/);
      assert.deepEqual(run.large, ['file-too-large']);
    },
  );
});
