// The sync server's command-line and environment settings: one table for dist/sync-server.js (read with node's own
// util.parseArgs, so the bundled server needs no argument library) and `kyozo sync-server` (commander, like every
// other kyozo command). A flag wins over its environment variable; anything unset keeps config.ts's default.
import { parseArgs } from 'node:util';
import type { SyncServerConfig } from './config';

type Setter = (cfg: Partial<SyncServerConfig>, value: string, what: string) => void;

export interface SyncSetting {
  flag: string;
  env: string;
  help: string;
  set: Setter;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const SYNC_SETTINGS: readonly SyncSetting[] = [
  {
    flag: 'port',
    env: 'KYOZO_SYNC_PORT',
    help: 'TCP port to listen on (default 4444)',
    set: (c, v, w) => {
      c.port = port(v, w);
    },
  },
  {
    flag: 'host',
    env: 'KYOZO_SYNC_HOST',
    help: 'address to bind (default 127.0.0.1; use 0.0.0.0 only behind TLS)',
    set: (c, v) => {
      c.host = v;
    },
  },
  {
    flag: 'data-dir',
    env: 'KYOZO_SYNC_DATA_DIR',
    help: 'where the SQLite database lives (default .kyozo-sync)',
    set: (c, v) => {
      c.dataDir = v;
    },
  },
  {
    flag: 'log-level',
    env: 'KYOZO_SYNC_LOG_LEVEL',
    help: `pino log level: ${LOG_LEVELS.join(', ')} (default info)`,
    set: (c, v, w) => {
      if (!LOG_LEVELS.includes(v)) throw new Error(`${w} must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
      c.logLevel = v;
    },
  },
  {
    flag: 'commit-window-ms',
    env: 'KYOZO_SYNC_COMMIT_WINDOW_MS',
    help: 'at most one group commit per this many ms (default 4)',
    set: (c, v, w) => {
      c.commitWindowMs = number(v, w, 0, 1000);
    },
  },
  {
    flag: 'max-frame-bytes',
    env: 'KYOZO_SYNC_MAX_FRAME_BYTES',
    help: 'largest frame accepted, snapshots included (default 8388608)',
    set: (c, v, w) => {
      c.maxFrameBytes = number(v, w, 64 * 1024, 256 * 1024 * 1024, true);
    },
  },
  {
    flag: 'room-quota-bytes',
    env: 'KYOZO_SYNC_ROOM_QUOTA_BYTES',
    help: 'bytes one room may hold, log and snapshot (default 67108864)',
    set: (c, v, w) => {
      c.roomQuotaBytes = number(v, w, 64 * 1024, Number.MAX_SAFE_INTEGER, true);
    },
  },
  {
    flag: 'user-quota-bytes',
    env: 'KYOZO_SYNC_USER_QUOTA_BYTES',
    help: "bytes of one user's updates across all rooms (default 268435456)",
    set: (c, v, w) => {
      c.userQuotaBytes = number(v, w, 64 * 1024, Number.MAX_SAFE_INTEGER, true);
    },
  },
  {
    flag: 'max-pre-auth-per-address',
    env: 'KYOZO_SYNC_MAX_PRE_AUTH_PER_ADDRESS',
    help: 'sockets one address may have authenticating at once (default 128)',
    set: (c, v, w) => {
      c.maxPreAuthPerAddress = number(v, w, 1, 100_000, true);
    },
  },
  {
    // Prefer the environment variable: a flag's value is visible to every local user in the process list.
    flag: 'metrics-token',
    env: 'KYOZO_SYNC_METRICS_TOKEN',
    help: 'bearer token for GET /metrics, 16+ characters (default: /metrics off)',
    set: (c, v, w) => {
      if (v.length < 16) throw new Error(`${w} must be at least 16 characters (a random secret for the scraper)`);
      c.metricsToken = v;
    },
  },
  {
    // Prefer the environment variable when the URL holds a password: a flag shows in the process list.
    flag: 'store',
    env: 'KYOZO_SYNC_STORE',
    help: 'postgres://user:password@host/db for a database several instances share (default: SQLite in --data-dir)',
    set: (c, v, w) => {
      if (v === 'sqlite') c.storeUrl = '';
      else if (/^postgres(ql)?:\/\/./.test(v)) c.storeUrl = v;
      else throw new Error(`${w} must be sqlite or a postgres://user:password@host:port/database URL`);
    },
  },
  {
    flag: 'redis',
    env: 'KYOZO_SYNC_REDIS',
    help: 'redis://host:port for the fan-out between instances sharing a --store (default: none, one instance)',
    set: (c, v, w) => {
      if (!/^rediss?:\/\/./.test(v)) throw new Error(`${w} must be a redis://host:port (or rediss://) URL`);
      c.redisUrl = v;
    },
  },
];

/** Settings from flag values (keyed by flag name or its camelCase, as commander gives them) and the environment. */
export function syncServerConfig(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Partial<SyncServerConfig> {
  const cfg: Partial<SyncServerConfig> = {};
  for (const s of SYNC_SETTINGS) {
    const flag = values[s.flag] ?? values[s.flag.replace(/-(\w)/g, (_, ch: string) => ch.toUpperCase())];
    if (typeof flag === 'string') s.set(cfg, flag, `--${s.flag}`);
    else if (env[s.env] !== undefined && env[s.env] !== '') s.set(cfg, env[s.env]!, s.env);
  }
  if (cfg.redisUrl && !cfg.storeUrl)
    throw new Error(
      '--redis fans frames out between instances that share one database: give --store postgres://... as well',
    );
  return cfg;
}

/** dist/sync-server.js's command line. */
export function parseSyncServerArgs(argv: string[], env: NodeJS.ProcessEnv): Partial<SyncServerConfig> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(SYNC_SETTINGS.map((s) => [s.flag, { type: 'string' as const }])),
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}; options: ${SYNC_SETTINGS.map((s) => `--${s.flag}`).join(', ')}`, {
      cause: err,
    });
  }
  return syncServerConfig(values, env);
}

function port(v: string, what: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${what} must be a port number 0-65535, got "${v}"`);
  return n;
}

function number(v: string, what: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`${what} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${v}"`);
  }
  return n;
}
