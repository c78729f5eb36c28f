// Load generator for `npm run bench:sync` (what it sends and measures: see the header of sync.bench.ts), run as a
// separate process so the server's CPU and RSS are its own. Each process owns whole rooms, so a frame's send time and
// its receipt by the room's other clients are measured on the same clock. All frames are prepared before the timed
// phase (sealing and signing are the clients' cost, not the relay's); receivers only parse routing bytes.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { importIdentity, type ExportedIdentity } from '../../sync-server/src/client/identity';
import { sealData } from '../../sync-server/src/client/room-crypto';
import { signBytes } from '../../sync-server/src/client/identity';
import { FrameKind, authSignedBytes, encodeAuth } from '../../sync-server/src/wire';

export interface WorkerConfig {
  kind: 'kyozo' | 'y-websocket';
  wsUrl: string;
  /** Several instances of one server: client n connects to wsUrls[n % length] (so a room's clients are spread). */
  wsUrls?: string[];
  token: string;
  roomKey: string; // base64, kyozo only
  rooms: { id: string; devices: ExportedIdentity[] }[]; // y-websocket: devices only give the count
  ratePerClient: number;
  warmupMs: number;
  measureMs: number;
}

interface Client {
  idx: number;
  ws: WebSocket;
  frames: Buffer[];
  sendTimes: Float64Array;
  next: number; // index of the next frame
  due: number; // time the next frame is due
  base: number; // clock before the first frame
}

const send = (m: unknown) => process.send!(m);
// The event-loop monitor's timer: it records each interval, so the delay is what exceeds this.
const LAG_RESOLUTION_MS = 10;

/** The first 48 bits of a sender key as a number: a Map key read without allocating a string per received frame. */
const senderKey = (b: Buffer, at: number) => b.readUIntBE(at, 6);

/** The `~client.n~` marker inside a Yjs update, read from the bytes (no string copy of the message). */
function readMarker(data: Buffer): [number, number] | null {
  // A '~' byte can also occur in the update's varint header, so try each one.
  for (let start = data.indexOf(0x7e); start >= 0; start = data.indexOf(0x7e, start + 1)) {
    const m = markerAt(data, start + 1);
    if (m) return m;
  }
  return null;
}

function markerAt(data: Buffer, from: number): [number, number] | null {
  const out: [number, number] = [0, 0];
  let part = 0;
  let digits = 0;
  for (let i = from; i < data.length; i++) {
    const b = data[i];
    if (b >= 0x30 && b <= 0x39) {
      out[part] = out[part] * 10 + (b - 0x30);
      digits++;
    } else if (b === 0x2e && part === 0 && digits > 0) {
      part = 1;
      digits = 0;
    } // '.'
    else return b === 0x7e && part === 1 && digits > 0 ? out : null;
  }
  return null;
}

async function run(cfg: WorkerConfig): Promise<void> {
  const clients: Client[] = [];
  const bySender = new Map<number, Client>(); // by senderKey
  const perClient = Math.ceil((cfg.ratePerClient * (cfg.warmupMs + cfg.measureMs)) / 1000) + 2;
  let measuring = false;
  let windowStart = 0;
  let windowEnd = Infinity;
  const latencies: number[] = [];
  const slow: string[] = [];
  let framesOut = 0; // frames received by clients in the window (relays, echoes, acks)
  let framesIn = 0; // frames sent by clients in the window
  let relayed = 0;
  let idx = 0;

  const onMessage = (c: Client, data: Buffer) => {
    const now = performance.now();
    if (now >= windowStart && now < windowEnd && measuring) framesOut++;
    let from: Client | undefined;
    let n: number;
    if (cfg.kind === 'kyozo') {
      if (data[0] !== FrameKind.Update) return;
      from = bySender.get(senderKey(data, 1));
      n = data.readUInt32BE(41) - (from?.base ?? 0) - 1;
    } else {
      const m = readMarker(data);
      if (!m) return;
      from = clients[m[0]];
      n = m[1];
    }
    if (!from || from === c || n < 0) return;
    const sent = from.sendTimes[n];
    if (sent >= windowStart && sent < windowEnd && measuring) {
      latencies.push(now - sent);
      if (process.env.BENCH_DEBUG && now - sent > 50)
        slow.push(`${((sent - windowStart) / 1000).toFixed(2)}s:${Math.round(now - sent)}`);
      relayed++;
    }
  };

  // Prepare every client's frames first (sealing and signing block the loop), then connect a few dozen at a time.
  // Fresh device keys start at clock 0, which HELLO confirms.
  const key = Buffer.from(cfg.roomKey, 'base64');
  const plan: { room: string; id: ReturnType<typeof importIdentity> | null; c: Client }[] = [];
  for (const room of cfg.rooms) {
    for (const dev of room.devices) {
      const i = idx++;
      const id = cfg.kind === 'kyozo' ? importIdentity(dev) : null;
      const c: Client = {
        idx: i,
        ws: null as unknown as WebSocket,
        frames: [],
        sendTimes: new Float64Array(perClient).fill(-1),
        next: 0,
        due: 0,
        base: 0,
      };
      clients[i] = c;
      if (id) {
        const k = senderKey(id.signPublicKey, 0);
        if (bySender.has(k)) throw new Error('two bench devices share a 48-bit key prefix: run again');
        bySender.set(k, c);
      }
      // Real Yjs updates of a typist, sealed and signed (kyozo) or framed as the y-websocket sync protocol expects.
      const doc = new Y.Doc();
      const text = doc.getText('t');
      let last: Uint8Array = new Uint8Array();
      doc.on('update', (u: Uint8Array) => {
        last = u;
      });
      for (let n = 0; n < perClient; n++) {
        text.insert(text.length, `~${i}.${n}~`);
        if (id) c.frames.push(sealData(FrameKind.Update, room.id, id, 1, key, n + 1, last));
        else {
          const e = encoding.createEncoder();
          encoding.writeVarUint(e, 0); // messageSync
          encoding.writeVarUint(e, 2); // messageYjsUpdate
          encoding.writeVarUint8Array(e, last);
          c.frames.push(Buffer.from(encoding.toUint8Array(e)));
        }
      }
      plan.push({ room: room.id, id, c });
    }
  }
  const connect = async ({ room, id, c }: (typeof plan)[number]) => {
    const base = cfg.wsUrls?.length ? cfg.wsUrls[c.idx % cfg.wsUrls.length] : cfg.wsUrl;
    const url = cfg.kind === 'kyozo' ? `${base}/v1/rooms/${room}/sync` : `${base}/${room}`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    c.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('close', (code) => reject(new Error(`client ${c.idx} closed with ${code} while connecting`)));
      if (!id) ws.on('open', () => resolve());
      ws.on('message', (data: Buffer) => {
        if (id && data[0] === FrameKind.Challenge)
          ws.send(encodeAuth(id.signPublicKey, signBytes(id, authSignedBytes(data.subarray(1), room)), cfg.token));
        else if (
          id &&
          data[0] === FrameKind.Hello &&
          (JSON.parse(data.subarray(1).toString()) as { lastClock: number }).lastClock !== 0
        )
          reject(new Error('bench devices must be fresh'));
        else if (id && data[0] === FrameKind.Synced) resolve();
      });
    });
    ws.removeAllListeners('message');
    ws.removeAllListeners('close');
    ws.removeAllListeners('error');
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => onMessage(c, data));
  };
  for (let i = 0; i < plan.length; i += 50) await Promise.all(plan.slice(i, i + 50).map(connect));
  send({ type: 'ready', clients: clients.length });

  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const period = 1000 / cfg.ratePerClient;
  const t0 = performance.now();
  // Clients are spread evenly over one period and served in phase order: each tick only touches the due ones.
  const order = clients.map((c, i) => {
    c.due = t0 + (i / clients.length) * period;
    return c;
  });
  windowStart = t0 + cfg.warmupMs;
  windowEnd = windowStart + cfg.measureMs;
  measuring = true;
  // This process's own event-loop delay during the window: time a received frame waited here, not in the server.
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  setTimeout(() => lag.enable(), cfg.warmupMs);
  let ptr = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= windowEnd) return resolve();
      for (let guard = 0; guard < order.length * 4; guard++) {
        const c = order[ptr];
        if (c.due > now || c.next >= c.frames.length) break;
        c.sendTimes[c.next] = now;
        c.ws.send(c.frames[c.next++]);
        c.due += period;
        if (now >= windowStart) framesIn++;
        ptr = (ptr + 1) % order.length;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  lag.disable();
  await new Promise((r) => setTimeout(r, 300)); // let the last relays of the window arrive
  measuring = false;
  latencies.sort((a, b) => a - b);
  if (process.env.BENCH_DEBUG)
    console.error(`slow (${slow.length}):`, slow.filter((_, i) => i % Math.ceil(slow.length / 40) === 0).join(' '));
  const q = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN;
  send({
    type: 'result',
    framesIn,
    framesOut,
    relayed,
    p50: q(0.5),
    p99: q(0.99),
    samples: latencies.length,
    measureMs: cfg.measureMs,
    lagP99Ms: lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS,
    lagMaxMs: lag.max / 1e6 - LAG_RESOLUTION_MS,
  });
  for (const c of clients) c.ws.terminate();
  setTimeout(() => process.exit(0), 100);
}

process.once('message', (m: { type: string; cfg: WorkerConfig }) => {
  run(m.cfg).catch((err: unknown) => {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    setTimeout(() => process.exit(1), 100);
  });
});
