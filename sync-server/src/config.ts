// Server settings with their defaults. Every limit is here so operators see them in one place.
export interface SyncServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** '' for the embedded SQLite database in dataDir, or postgres://... for a database several instances share. */
  storeUrl: string;
  /** '' for none (one instance), or redis://... for the pub/sub that fans frames out between instances. */
  redisUrl: string;
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
  /** Bytes a client may send before authentication completes, counted as they arrive (partial frames included). */
  preAuthBufferBytes: number;
  /** Sockets from one address still authenticating at once; more are closed with 4429. */
  maxPreAuthPerAddress: number;
  /** Bytes one room may hold (its log and snapshot); an update past it is refused with quota-exceeded. */
  roomQuotaBytes: number;
  /** Bytes of updates one user's devices may hold across every room's log. */
  userQuotaBytes: number;
  /** Failed logins allowed per account, and per client address, before each further one waits (doubling from 1 s). */
  loginFreeFailuresPerAccount: number;
  loginFreeFailuresPerAddress: number;
  /** The bearer token GET /metrics requires; without one /metrics is off. */
  metricsToken: string;
  /** An HTTP request must send its headers within this, and all of itself within requestTimeoutMs (else 408). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
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
    storeUrl: '',
    redisUrl: '',
    maxFrameBytes: 8 * 1024 * 1024,
    rateLimitPerSecond: 200,
    rateLimitBurst: 400,
    maxInflightPerConnection: 256,
    maxBufferedPerConnection: 8 * 1024 * 1024,
    maxBufferedTotal: 128 * 1024 * 1024,
    authTimeoutMs: 5000,
    preAuthBufferBytes: 8 * 1024,
    maxPreAuthPerAddress: 128,
    roomQuotaBytes: 64 * 1024 * 1024,
    userQuotaBytes: 256 * 1024 * 1024,
    loginFreeFailuresPerAccount: 5,
    loginFreeFailuresPerAddress: 20,
    metricsToken: '',
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    maxRoomsPerTeam: 1000,
    heartbeatMs: 30_000,
    commitWindowMs: 4,
    tokenTtlDays: 90,
    synchronous: 'FULL',
    logLevel: 'info',
    ...overrides,
  };
}
