// `kyozo sync-server`: runs the end-to-end encrypted Yjs relay in the foreground until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { port } from '../../../sync-server/src/args';
import { startSyncServer } from '../../../sync-server/src/server';

export function registerSyncCommands(program: Command): void {
  program
    .command('sync-server')
    .description('Start the end-to-end encrypted sync server (relays and stores only ciphertext)')
    .option('--port <port>', 'TCP port to listen on', process.env.KYOZO_SYNC_PORT ?? '4444')
    .option('--host <host>', 'address to bind (use 0.0.0.0 only behind TLS)', process.env.KYOZO_SYNC_HOST ?? '127.0.0.1')
    .option('--data-dir <dir>', 'where the SQLite database lives', process.env.KYOZO_SYNC_DATA_DIR ?? '.kyozo-sync')
    .option('--log-level <level>', 'pino log level', process.env.KYOZO_SYNC_LOG_LEVEL ?? 'info')
    .action(async (opts: { port: string; host: string; dataDir: string; logLevel: string }) => {
      const server = await startSyncServer({ port: port(opts.port, '--port'), host: opts.host, dataDir: opts.dataDir, logLevel: opts.logLevel });
      await new Promise<void>((resolve) => {
        const stop = () => { void server.close().then(resolve, resolve); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.exit(0); // everything acknowledged is durable now; do not wait for idle keep-alive sockets
    });
}
