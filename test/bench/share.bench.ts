// `npm run bench:share`: live co-editing latency and the host's cost, with 2 and with 10 participants in one room on
// loopback, through Kyozo's sync server (end-to-end encrypted: every edit sealed with AES-256-GCM and signed with
// Ed25519, stored durably, relayed) and, as the reference in the same run, through the stock y-websocket 2.x server
// (plain Yjs, in memory) with the same binding.
//
// Participants are Node processes (test/bench/share-participant.ts), not VS Code windows: each holds a real text
// document model (vscode-languageserver-textdocument) bound to the room's Y.Text by the extension's own binding code
// (extension/src/share/text-delta.ts, which text-binding.ts adapts to vscode.TextDocument). Participant 0 is the host:
// it fills the file, and its process CPU and RSS are read from /proc while everyone types. Each participant types 5
// keystrokes per second (a random gap of 100 to 300 ms) at the end of its own line. Latency is the time from a
// keystroke applied to its sender's document to the edit applied in the document of the LAST other participant to get
// it (the slowest of the room), over every keystroke after the first second.
//
// Flags: --quick (fewer keystrokes), --sizes 2,10, --servers kyozo,y-websocket, --seconds N (typing time, default 20).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { createIdentity, exportIdentity, newRoomKey, SyncApi, wrapRoomKey } from '../../sync-server/src/client';
import type { ParticipantConfig, ParticipantMessage } from './share-participant';

const root = join(__dirname, '..', '..');
const BUNDLE = join(root, 'dist', 'bench', 'share-participant.js');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const SIZES = (arg('--sizes') ?? '2,10').split(',').map(Number);
const SERVERS = (arg('--servers') ?? 'kyozo,y-websocket').split(',') as ('kyozo' | 'y-websocket')[];
const RATE = 5;
const BATCH_MS = arg('--batch-ms') === undefined ? undefined : Number(arg('--batch-ms'));
const SECONDS = Number(arg('--seconds') ?? (quick ? 8 : 20));
const WARMUP_KEYS = RATE; // the first second of each participant's typing is not measured
const TICK = 100; // Linux USER_HZ
const METRICS_TOKEN = 'bench-metrics-token-0123456789';

function procStats(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  return { cpu, rss };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function waitOutput(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
}

async function startServer(kind: 'kyozo' | 'y-websocket', dataDir: string) {
  const port = await freePort();
  const child =
    kind === 'kyozo'
      ? spawn(process.execPath, [join(root, 'dist/sync-server.js'), '--port', String(port), '--data-dir', dataDir], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, KYOZO_SYNC_LOG_LEVEL: 'info', KYOZO_SYNC_METRICS_TOKEN: METRICS_TOKEN },
        })
      : spawn(process.execPath, [join(root, 'node_modules/y-websocket/bin/server.cjs')], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
        });
  await waitOutput(child, kind === 'kyozo' ? /sync server listening/ : /running at/);
  return { child, port };
}

/** One account with a device per participant, a room, and its key (wrapped to the first device; shared in memory). */
async function prepareKyozo(url: string, participants: number) {
  const api = new SyncApi(url);
  await api.createAccount('bench', 'bench-password-123');
  const { token } = await api.login('bench', 'bench-password-123');
  const team = await api.createTeam('bench');
  const room = await api.createRoomRecord(team.id, 'workspace');
  const devices = Array.from({ length: participants }, () => createIdentity());
  for (const d of devices) await api.registerDevice(d);
  const key = newRoomKey();
  await api.uploadKeys(room.id, 1, [
    { recipient: devices[0].signPublicKey, wrapped: wrapRoomKey(room.id, 1, key, devices[0], devices[0]) },
  ]);
  return { token, roomId: room.id, key: key.toString('base64'), devices: devices.map(exportIdentity) };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;

interface Outcome {
  server: string;
  participants: number;
  keystrokes: number;
  p50: number;
  p99: number;
  max: number;
  hostCpuPct: number;
  hostRssMB: number;
  serverCpuPct: number;
  converged: boolean;
  missing: number;
}

async function runRoom(kind: 'kyozo' | 'y-websocket', participants: number): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyozo-bench-share-'));
  const { child: server, port } = await startServer(kind, dataDir);
  const workers: ChildProcess[] = [];
  try {
    const prep = kind === 'kyozo' ? await prepareKyozo(`http://127.0.0.1:${port}`, participants) : undefined;
    const keystrokes = SECONDS * RATE;
    const initialText = Array.from({ length: participants }, (_, i) => `participant ${i}: `).join('\n') + '\n';
    const inbox: ParticipantMessage[][] = [];
    const next = (i: number, type: ParticipantMessage['type']) =>
      new Promise<ParticipantMessage>((resolve, reject) => {
        const check = () => {
          const at = inbox[i].findIndex((m) => m.type === type || m.type === 'error');
          if (at < 0) return setTimeout(check, 10);
          const [m] = inbox[i].splice(at, 1);
          if (m.type === 'error') reject(new Error(`participant ${i}: ${m.message}`));
          else resolve(m);
        };
        check();
      });
    for (let i = 0; i < participants; i++) {
      const w = fork(BUNDLE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(w);
      inbox.push([]);
      w.on('message', (m: ParticipantMessage) => inbox[i].push(m));
      const cfg: ParticipantConfig = {
        kind,
        wsUrl: kind === 'kyozo' ? `ws://127.0.0.1:${port}` : `ws://127.0.0.1:${port}`,
        roomId: prep?.roomId ?? 'bench-share',
        index: i,
        participants,
        rate: RATE,
        keystrokes,
        token: prep?.token,
        identity: prep?.devices[i],
        roomKey: prep?.key,
        initialText,
        batchMs: BATCH_MS,
      };
      w.send(cfg);
      // The host first, so it fills the file; the others join a room that has it.
      if (i === 0) await next(0, 'ready');
    }
    for (let i = 1; i < participants; i++) await next(i, 'ready');
    const host = workers[0].pid!;
    const h0 = procStats(host);
    const s0 = procStats(server.pid!);
    const t0 = performance.now();
    let hostRss = h0.rss;
    const sampler = setInterval(() => {
      try {
        hostRss = Math.max(hostRss, procStats(host).rss);
      } catch {
        /* exited */
      }
    }, 250);
    for (const w of workers) w.send('go');
    const typed = (await Promise.all(workers.map((_, i) => next(i, 'typed')))) as { sent: number[] }[];
    const h1 = procStats(host);
    const s1 = procStats(server.pid!);
    const secs = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await new Promise((r) => setTimeout(r, 3000)); // the last keystrokes arrive
    for (const w of workers) w.send('report');
    const results = (await Promise.all(workers.map((_, i) => next(i, 'result')))) as {
      arrivals: number[][];
      text: string;
    }[];
    const latencies: number[] = [];
    let missing = 0;
    for (let s = 0; s < participants; s++) {
      for (let k = WARMUP_KEYS; k < keystrokes; k++) {
        let last = -Infinity;
        for (let r = 0; r < participants; r++) {
          if (r === s) continue;
          const at = results[r].arrivals[s][k];
          if (at === undefined) missing++;
          else last = Math.max(last, at);
        }
        if (Number.isFinite(last)) latencies.push(last - typed[s].sent[k]);
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      server: kind,
      participants,
      keystrokes: keystrokes * participants,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies[latencies.length - 1] ?? NaN,
      hostCpuPct: ((h1.cpu - h0.cpu) / secs) * 100,
      hostRssMB: hostRss,
      serverCpuPct: ((s1.cpu - s0.cpu) / secs) * 100,
      converged: results.every((r) => r.text === results[0].text),
      missing,
    };
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill();
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

async function main(): Promise<void> {
  const bundle = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' } as const;
  const server = {
    'sync-server': join(root, 'sync-server/src/main.ts'),
    'sync-sqlite-writer': join(root, 'sync-server/src/store/sqlite-writer-thread.ts'),
    'sync-frame-verifier': join(root, 'sync-server/src/frame-verifier-thread.ts'),
  };
  await esbuild.build({ ...bundle, entryPoints: server, outdir: join(root, 'dist'), external: ['better-sqlite3'] });
  await esbuild.build({ ...bundle, entryPoints: [join(__dirname, 'share-participant.ts')], outfile: BUNDLE });
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`bench:share: ${RATE} keystrokes/s per participant for ${SECONDS} s; load average before: ${load}`);
  const outcomes: Outcome[] = [];
  for (const n of SIZES) {
    for (const kind of SERVERS) {
      process.stdout.write(`  ${n} participants through ${kind}...\n`);
      outcomes.push(await runRoom(kind, n));
    }
  }
  console.log(
    '\nserver        participants  keystrokes  p50 ms  p99 ms  max ms  host CPU %  host RSS MB  server CPU %  converged',
  );
  for (const o of outcomes) {
    console.log(
      `${o.server.padEnd(13)} ${String(o.participants).padStart(12)}  ${String(o.keystrokes).padStart(10)}  ` +
        `${f1(o.p50).padStart(6)}  ${f1(o.p99).padStart(6)}  ${f1(o.max).padStart(6)}  ${f1(o.hostCpuPct).padStart(10)}  ` +
        `${f1(o.hostRssMB).padStart(11)}  ${f1(o.serverCpuPct).padStart(12)}  ${o.converged ? 'yes' : 'NO'}` +
        (o.missing ? ` (${o.missing} arrivals missing)` : ''),
    );
  }
  const ten = outcomes.find((o) => o.server === 'kyozo' && o.participants === 10);
  if (ten) console.log(`\ntarget: p99 under 50 ms at 10 participants through Kyozo: ${f1(ten.p99)} ms`);
  const load2 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average after: ${load2}`);
  if (outcomes.some((o) => !o.converged || o.missing)) process.exitCode = 1;
}

void main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
