// Command-line and environment settings of the sync server, shared by dist/sync-server.js and `kyozo sync-server`.
import type { SyncServerConfig } from './config';

export function parseSyncServerArgs(argv: string[], env: NodeJS.ProcessEnv): Partial<SyncServerConfig> {
  const cfg: Partial<SyncServerConfig> = {};
  if (env.KYOZO_SYNC_PORT) cfg.port = port(env.KYOZO_SYNC_PORT, 'KYOZO_SYNC_PORT');
  if (env.KYOZO_SYNC_DATA_DIR) cfg.dataDir = env.KYOZO_SYNC_DATA_DIR;
  if (env.KYOZO_SYNC_HOST) cfg.host = env.KYOZO_SYNC_HOST;
  if (env.KYOZO_SYNC_LOG_LEVEL) cfg.logLevel = env.KYOZO_SYNC_LOG_LEVEL;
  if (env.KYOZO_SYNC_COMMIT_WINDOW_MS) {
    cfg.commitWindowMs = Number(env.KYOZO_SYNC_COMMIT_WINDOW_MS);
    if (!(cfg.commitWindowMs >= 0)) throw new Error(`KYOZO_SYNC_COMMIT_WINDOW_MS must be a number of milliseconds, got "${env.KYOZO_SYNC_COMMIT_WINDOW_MS}"`);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--port') cfg.port = port(value(), '--port');
    else if (a === '--data-dir') cfg.dataDir = value();
    else if (a === '--host') cfg.host = value();
    else if (a === '--log-level') cfg.logLevel = value();
    else throw new Error(`unknown option ${a}: use --port, --data-dir, --host or --log-level`);
  }
  return cfg;
}

export function port(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${what} must be a port number 0-65535, got "${v}"`);
  return n;
}
