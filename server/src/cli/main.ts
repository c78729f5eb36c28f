// The `kyozo` command line. Each area registers its commands; this file only assembles them.
// Deploy and sync pull in dockerode, express and friends: they are separate bundles (dist/cli-deploy.js,
// dist/cli-sync.js) loaded only when a command needs them, so `kyozo analyze` starts as fast as the engine allows.
import { join } from 'node:path';
import type { Command } from 'commander';
import { Command as CommandClass } from 'commander';
import { registerAnalyzeCommands } from './analyze-commands';
import { registerContextCommands } from './context-commands';
import { registerK8sCommands } from './k8s-commands';

declare const KYOZO_SPLIT_CLI: boolean | undefined;
const ENGINE_ONLY = new Set(['analyze', 'explain', 'describe', 'context', 'mcp', 'k8s']);

type Registrar = (program: Command) => void;

async function loadCommands(family: 'deploy' | 'sync'): Promise<Registrar> {
  const exportName = family === 'deploy' ? 'registerDeployCommands' : 'registerSyncCommands';
  // A specifier the bundler cannot follow: from source (tsx) the module is imported, in the build its bundle is required.
  const mod =
    typeof KYOZO_SPLIT_CLI !== 'undefined'
      ? (require(join(__dirname, `cli-${family}.js`)) as Record<string, Registrar>) // eslint-disable-line @typescript-eslint/no-require-imports -- a run-time path, on purpose
      : ((await import(['.', `${family}-commands`].join('/'))) as Record<string, Registrar>);
  return mod[exportName];
}

async function main(): Promise<void> {
  const program = new CommandClass('kyozo')
    .description(
      'Directory organization is deployment strategy: detect, explain and deploy the services in a folder tree.',
    )
    .version('0.1.0')
    .showHelpAfterError();

  registerAnalyzeCommands(program);
  registerContextCommands(program);
  registerK8sCommands(program);
  if (!ENGINE_ONLY.has(process.argv[2])) {
    (await loadCommands('deploy'))(program);
    (await loadCommands('sync'))(program);
  }
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  process.stderr.write(`kyozo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
