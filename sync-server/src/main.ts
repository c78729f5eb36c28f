// Entry of dist/sync-server.js: `node dist/sync-server.js [--port N] [--data-dir DIR] [--host H] ...`; every flag and
// its environment variable are in args.ts.
import { startSyncServer } from './server';
import { parseSyncServerArgs } from './server-settings';

async function main(): Promise<void> {
  const cfg = parseSyncServerArgs(process.argv.slice(2), process.env);
  const server = await startSyncServer(cfg);
  const stop = (signal: string) => {
    server.log.info({ signal }, 'shutting down: flushing acknowledged writes');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`kyozo sync-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
