// Wires the store, the HTTP API and the WebSocket relay onto one HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ByteQuota } from './byte-quota';
import { defaultConfig, type SyncServerConfig } from './config';
import { createApi } from './http-api';
import { createLogger, type Logger } from './logger';
import type { Fanout } from './fanout/fanout';
import { createMetrics } from './metrics';
import { Relay } from './relay';
import { redactUrl } from './service-url';
import { checkPrivateDataDir } from './store/private-data-dir';
import { SqliteStore } from './store/sqlite-store';
import type { SyncStore } from './store/store';

export interface RunningSyncServer {
  url: string; // http://host:port
  wsUrl: string; // ws://host:port
  port: number;
  store: SyncStore;
  log: Logger;
  close(): Promise<void>;
}

export async function startSyncServer(
  overrides: Partial<SyncServerConfig> = {},
  logDestination?: NodeJS.WritableStream,
): Promise<RunningSyncServer> {
  const cfg = defaultConfig(overrides);
  const log = createLogger(cfg.logLevel, logDestination);
  const metrics = createMetrics();
  const onCommit = (n: number, ms: number) => {
    metrics.commitBatch.observe(n);
    metrics.commitSeconds.observe(ms / 1000);
  };
  let store: SyncStore;
  if (cfg.storeUrl) {
    // Loaded only when used: a server on SQLite alone never loads pg or ioredis.
    const { PostgresStore } = await import('./store/postgres-store');
    store = await PostgresStore.open({ url: cfg.storeUrl, commitWindowMs: cfg.commitWindowMs, onCommit });
  } else {
    checkPrivateDataDir(cfg.dataDir);
    store = new SqliteStore({
      dataDir: cfg.dataDir,
      commitWindowMs: cfg.commitWindowMs,
      synchronous: cfg.synchronous,
      onCommit,
      onCheckpointFailed: (message) =>
        log.warn({ err: message }, 'WAL checkpoint failed; retrying after the next commit'),
    });
  }
  const counted = performance.now();
  const quota = await ByteQuota.load(store, cfg.roomQuotaBytes, cfg.userQuotaBytes).catch(async (err: Error) => {
    await store.close();
    throw err;
  });
  const countMs = Math.round(performance.now() - counted);
  if (countMs > 1000) log.info({ ms: countMs }, 'counted the bytes every sender holds, for the quotas');
  const wss = new WebSocketServer({ noServer: true, maxPayload: cfg.maxFrameBytes, perMessageDeflate: false });
  // Ciphertext does not compress, so permessage-deflate would only cost CPU.
  let fanout: Fanout | null = null;
  if (cfg.redisUrl) {
    const { RedisFanout } = await import('./fanout/redis-fanout');
    fanout = new RedisFanout(cfg.redisUrl, (message) => log.warn({ err: message }, 'fan-out (Redis) error'));
  }
  const relay = new Relay(wss, store, cfg, log, metrics, quota, fanout);
  await relay.startFanout().catch(async (err: Error) => {
    await store.close();
    throw err;
  });
  const app = createApi(store, () => relay, cfg, log, metrics);
  // A client that sends its request slowly (slowloris) is cut off; node checks the deadlines every second here
  // instead of every 30 s.
  const http: Server = createServer(
    {
      headersTimeout: cfg.headersTimeoutMs,
      requestTimeout: cfg.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(cfg.port, cfg.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  log.info(
    {
      host: cfg.host,
      port,
      store: cfg.storeUrl ? redactUrl(cfg.storeUrl) : `sqlite:${cfg.dataDir}`,
      fanout: cfg.redisUrl ? redactUrl(cfg.redisUrl) : 'none',
      ...(fanout ? { instance: fanout.instanceId } : {}),
      maxFrameBytes: cfg.maxFrameBytes,
      commitWindowMs: cfg.commitWindowMs,
      roomQuotaBytes: cfg.roomQuotaBytes,
      userQuotaBytes: cfg.userQuotaBytes,
      maxPreAuthPerAddress: cfg.maxPreAuthPerAddress,
      metrics: cfg.metricsToken ? 'token' : 'off',
    },
    'sync server listening',
  );
  let closing: Promise<void> | null = null;
  return {
    url: `http://${cfg.host}:${port}`,
    wsUrl: `ws://${cfg.host}:${port}`,
    port,
    store,
    log,
    close() {
      closing ??= (async () => {
        http.close();
        await relay.shutdown();
        wss.close();
        await store.close();
        http.closeAllConnections();
        log.info('sync server stopped');
      })();
      return closing;
    },
  };
}
