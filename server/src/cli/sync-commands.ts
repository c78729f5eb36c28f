// `kyozo sync-server`: runs the end-to-end encrypted Yjs relay in the foreground until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { SYNC_SETTINGS, syncServerConfig } from '../../../sync-server/src/server-settings';
import { startSyncServer } from '../../../sync-server/src/server';

export function registerSyncCommands(program: Command): void {
  const cmd = program
    .command('sync-server')
    .description('Start the end-to-end encrypted sync server (relays and stores only ciphertext)');
  for (const s of SYNC_SETTINGS) cmd.option(`--${s.flag} <value>`, `${s.help}; env ${s.env}`);
  cmd.action(async (opts: Record<string, unknown>) => {
    const server = await startSyncServer(syncServerConfig(opts, process.env));
    await new Promise<void>((resolve) => {
      const stop = () => {
        void server.close().then(resolve, resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.exit(0); // everything acknowledged is durable now; do not wait for idle keep-alive sockets
  });
}
