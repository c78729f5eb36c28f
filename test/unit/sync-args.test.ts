// The sync server's settings: one table read by dist/sync-server.js (util.parseArgs) and `kyozo sync-server`
// (commander); flags win over the environment, and every bad value is refused with what was expected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSyncServerArgs, syncServerConfig } from '../../sync-server/src/server-settings';

test('flags win over environment variables, the environment fills the rest, and nothing set keeps the defaults', () => {
  assert.deepEqual(parseSyncServerArgs([], {}), {});
  assert.deepEqual(
    parseSyncServerArgs(['--port', '5000', '--data-dir', '/srv/sync', '--max-frame-bytes', '1048576'], {
      KYOZO_SYNC_PORT: '6000',
      KYOZO_SYNC_HOST: '0.0.0.0',
      KYOZO_SYNC_COMMIT_WINDOW_MS: '2.5',
      KYOZO_SYNC_LOG_LEVEL: '',
    }),
    { port: 5000, host: '0.0.0.0', dataDir: '/srv/sync', commitWindowMs: 2.5, maxFrameBytes: 1048576 },
  );
  assert.deepEqual(parseSyncServerArgs(['--log-level=debug'], {}), { logLevel: 'debug' });
  // commander hands over camelCase keys
  assert.deepEqual(syncServerConfig({ dataDir: 'd', maxFrameBytes: '65536', logLevel: 'warn' }, {}), {
    dataDir: 'd',
    maxFrameBytes: 65536,
    logLevel: 'warn',
  });
});

test('bad values and unknown options are refused, naming the setting and what it takes', () => {
  const refused = (argv: string[], env: NodeJS.ProcessEnv, message: RegExp) =>
    assert.throws(() => parseSyncServerArgs(argv, env), message);
  refused(['--port', '70000'], {}, /--port must be a port number 0-65535, got "70000"/);
  refused([], { KYOZO_SYNC_PORT: 'http' }, /KYOZO_SYNC_PORT must be a port number/);
  refused(
    ['--max-frame-bytes', '1000'],
    {},
    /--max-frame-bytes must be a whole number from 65536 to 268435456, got "1000"/,
  );
  refused(['--max-frame-bytes', '65536.5'], {}, /whole number/);
  refused([], { KYOZO_SYNC_COMMIT_WINDOW_MS: '-1' }, /KYOZO_SYNC_COMMIT_WINDOW_MS must be a number from 0 to 1000/);
  refused(['--log-level', 'loud'], {}, /--log-level must be one of fatal, error, warn, info, debug, trace, silent/);
  refused(
    ['--prot', '1'],
    {},
    /Unknown option '--prot'.*options: --port, --host, --data-dir, --log-level, --commit-window-ms, --max-frame-bytes/,
  );
  refused(['--port'], {}, /--port/);
  refused(['serve'], {}, /serve/);
});

test('quotas, the metrics token and the per-address cap are settings like the others, each checked', () => {
  assert.deepEqual(
    parseSyncServerArgs(['--room-quota-bytes', '1048576', '--max-pre-auth-per-address', '16'], {
      KYOZO_SYNC_USER_QUOTA_BYTES: '8388608',
      KYOZO_SYNC_METRICS_TOKEN: 'scrape-token-0123456789',
    }),
    {
      roomQuotaBytes: 1048576,
      userQuotaBytes: 8388608,
      maxPreAuthPerAddress: 16,
      metricsToken: 'scrape-token-0123456789',
    },
  );
  const refused = (argv: string[], env: NodeJS.ProcessEnv, message: RegExp) => {
    assert.throws(() => parseSyncServerArgs(argv, env), message);
  };
  refused(['--room-quota-bytes', '1000'], {}, /--room-quota-bytes must be a whole number from 65536 to \d+, got "1000/);
  refused([], { KYOZO_SYNC_USER_QUOTA_BYTES: '1e99' }, /KYOZO_SYNC_USER_QUOTA_BYTES must be a whole number/);
  refused(['--metrics-token', 'short'], {}, /--metrics-token must be at least 16 characters/);
  refused(['--max-pre-auth-per-address', '0'], {}, /--max-pre-auth-per-address must be a whole number from 1 to 1/);
});

test('--store and --redis (or their variables) name a shared PostgreSQL database and the fan-out; bad ones are refused', () => {
  assert.deepEqual(
    parseSyncServerArgs(['--store', 'postgres://kyozo:pw@db:5432/sync', '--redis', 'redis://cache:6379'], {}),
    { storeUrl: 'postgres://kyozo:pw@db:5432/sync', redisUrl: 'redis://cache:6379' },
  );
  assert.deepEqual(
    parseSyncServerArgs([], { KYOZO_SYNC_STORE: 'postgresql://db/sync', KYOZO_SYNC_REDIS: 'rediss://cache' }),
    { storeUrl: 'postgresql://db/sync', redisUrl: 'rediss://cache' },
  );
  assert.deepEqual(parseSyncServerArgs(['--store', 'sqlite'], {}), { storeUrl: '' });
  assert.throws(() => parseSyncServerArgs(['--store', 'mysql://db/sync'], {}), /--store must be sqlite or a postgres:/);
  assert.throws(() => parseSyncServerArgs(['--redis', 'cache:6379', '--store', 'postgres://db/s'], {}), /redis:\/\//);
  assert.throws(
    () => parseSyncServerArgs(['--redis', 'redis://cache'], {}),
    /--redis fans frames out between instances that share one database: give --store postgres/,
  );
});
