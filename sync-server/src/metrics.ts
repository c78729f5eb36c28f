// Prometheus metrics (prom-client: the de-facto Node exporter) on a private registry so several servers can share
// a process in tests.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kyozo_sync_' });
  return {
    registry,
    connections: new Gauge({
      name: 'kyozo_sync_connections',
      help: 'Open authenticated WebSocket connections',
      registers: [registry],
    }),
    rooms: new Gauge({
      name: 'kyozo_sync_active_rooms',
      help: 'Rooms with at least one connection',
      registers: [registry],
    }),
    framesIn: new Counter({
      name: 'kyozo_sync_frames_in_total',
      help: 'Frames accepted from clients',
      labelNames: ['kind'],
      registers: [registry],
    }),
    outgoingBytes: new Gauge({
      name: 'kyozo_sync_outgoing_buffered_bytes',
      help: 'Bytes queued for all sockets, not yet taken by the kernel',
      registers: [registry],
    }),
    readingPaused: new Gauge({
      name: 'kyozo_sync_reading_paused',
      help: '1 while the relay reads no client because the outgoing queues are full',
      registers: [registry],
    }),
    framesOut: new Counter({
      name: 'kyozo_sync_frames_out_total',
      help: 'Frames relayed to clients',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'kyozo_sync_rejected_total',
      help: 'Frames or connections refused',
      labelNames: ['reason'],
      registers: [registry],
    }),
    commitBatch: new Histogram({
      name: 'kyozo_sync_commit_batch_size',
      help: 'Writes per group commit',
      buckets: [1, 4, 16, 64, 256, 1024],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'kyozo_sync_commit_seconds',
      help: 'Group commit time, from hand-off to the writer thread until durable',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
