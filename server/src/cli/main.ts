// The `kyozo` command line. Each area registers its commands; this file only assembles them.
// Deploy and sync pull in dockerode, express and friends: they are loaded only when a command needs them, so
// `kyozo analyze` starts as fast as the engine allows.
import { Command } from 'commander';
import { registerAnalyzeCommands } from './analyze-commands';

const ENGINE_ONLY = new Set(['analyze', 'explain']);

async function main(): Promise<void> {
  const program = new Command('kyozo')
    .description('Directory organization is deployment strategy: detect, explain and deploy the services in a folder tree.')
    .version('0.1.0')
    .showHelpAfterError();

  registerAnalyzeCommands(program);
  if (!ENGINE_ONLY.has(process.argv[2])) {
    (await import('./deploy-commands')).registerDeployCommands(program);
    (await import('./sync-commands')).registerSyncCommands(program);
  }
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  process.stderr.write(`kyozo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
