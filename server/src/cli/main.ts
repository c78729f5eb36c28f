// The `kyozo` command line. Each area registers its commands; this file only assembles them.
import { Command } from 'commander';
import { registerAnalyzeCommands } from './analyze-commands';
import { registerDeployCommands } from './deploy-commands';
import { registerSyncCommands } from './sync-commands';

const program = new Command('kyozo')
  .description('Directory organization is deployment strategy: detect, explain and deploy the services in a folder tree.')
  .version('0.1.0')
  .showHelpAfterError();

registerAnalyzeCommands(program);
registerDeployCommands(program);
registerSyncCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`kyozo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
