// Server settings with their defaults. Every limit is here so operators see them in one place.
export interface SyncServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Largest WebSocket frame accepted (snapshots included). */
  maxFrameBytes: number;
  /** Frames per second per connection (token bucket refill) and the burst allowed. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Updates of one connection awaiting durability before the relay stops reading that socket (resumes at half). */
  maxInflightPerConnection: number;
  /** Bytes queued for one socket before it is closed (1013) as too slow; it reconnects and catches up from the log. */
  maxBufferedPerConnection: number;
  /** Bytes queued for all sockets together before the relay stops reading every client (resumes at half). */
  maxBufferedTotal: number;
  /** A socket that has not authenticated by then is closed with 4408. */
  authTimeoutMs: number;
  /** Bytes a client may send before authentication completes. */
  preAuthBufferBytes: number;
  maxRoomsPerTeam: number;
  heartbeatMs: number;
  commitWindowMs: number;
  tokenTtlDays: number;
  synchronous: 'FULL' | 'NORMAL';
  logLevel: string;
}

export function defaultConfig(overrides: Partial<SyncServerConfig> = {}): SyncServerConfig {
  return {
    host: '127.0.0.1',
    port: 4444,
    dataDir: '.kyozo-sync',
    maxFrameBytes: 8 * 1024 * 1024,
    rateLimitPerSecond: 200,
    rateLimitBurst: 400,
    maxInflightPerConnection: 256,
    maxBufferedPerConnection: 8 * 1024 * 1024,
    maxBufferedTotal: 128 * 1024 * 1024,
    authTimeoutMs: 5000,
    preAuthBufferBytes: 64 * 1024,
    maxRoomsPerTeam: 1000,
    heartbeatMs: 30_000,
    commitWindowMs: 4,
    tokenTtlDays: 90,
    synchronous: 'FULL',
    logLevel: 'info',
    ...overrides,
  };
}
