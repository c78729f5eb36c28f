// `npm run test:desktop`: the same extensionTestsPath suite in desktop VS Code through @vscode/test-electron,
// for machines that can download VS Code (this one cannot; CI uses code-server instead).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ensureTestBaseImages, TEST_BASE_IMAGES } from '../../support/docker-base-images';
import { bundleSuite, repoRoot } from './harness';

async function main(): Promise<void> {
  await ensureTestBaseImages();
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-desktop-')));
  const folder = join(base, 'shop');
  const signals = join(base, 'signals');
  cpSync(join(repoRoot, 'test/fixtures/vscode-workspace'), folder, { recursive: true });
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  writeFileSync(
    join(folder, '.vscode/settings.json'),
    JSON.stringify({ 'kyozo.baseImages': { node: TEST_BASE_IMAGES.node, static: TEST_BASE_IMAGES.busybox } }),
  );
  mkdirSync(signals, { recursive: true });
  const suite = await bundleSuite(base);
  try {
    await runTests({
      // The lowest engine the manifest accepts, like rust-analyzer's suite.
      version: process.env.KYOZO_VSCODE_VERSION ?? '1.90.0',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suite,
      launchArgs: [
        folder,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
      ],
      extensionTestsEnv: { KYOZO_E2E_DIR: signals },
    });
    console.log(readFileSync(join(signals, 'results.json'), 'utf8'));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`test:desktop failed: ${(e as Error).message}`);
  process.exit(1);
});
