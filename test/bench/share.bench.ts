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
// The row "kyozo, VS Code host" puts the host in a real VS Code window instead (code-server 4.100.3 with the extension,
// its window opened in Chromium; test/bench/share-host-suite.ts), sharing its folder with the extension's own commands,
// and the other participants join it as a guest's client does (account, team invite, the host verifying their
// fingerprints, the room key wrapped to each device). Its host CPU and RSS are those of VS Code's extension host
// process, where the extension runs; its keystrokes go through TextEditor.edit and the latencies it sees are taken
// from its change events.
//
// Flags: --quick (fewer keystrokes), --sizes 2,10, --servers kyozo,y-websocket, --seconds N (typing time, default 20),
// --vscode-host 10 (participants of the VS Code row; 0 leaves it out).
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { createIdentity, exportIdentity, newRoomKey, SyncApi, wrapRoomKey } from '../../sync-server/src/client';
import type { ParticipantConfig, ParticipantMessage, SharedRoom } from './share-participant';
import { procStats } from '../support/proc-stats';
import { spawnSyncServerFrom } from '../support/sync-process';
import {
  bundleSuite,
  CODE_SERVER,
  extensionHostPid,
  freePort,
  openBrowser,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
} from '../e2e/vscode/harness';

const root = join(__dirname, '..', '..');
const BUNDLE = join(root, 'dist', 'bench', 'share-participant.js');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const SIZES = (arg('--sizes') ?? '2,10')
  .split(',')
  .map(Number)
  .filter((n) => n > 1);
const SERVERS = (arg('--servers') ?? 'kyozo,y-websocket').split(',') as ('kyozo' | 'y-websocket')[];
const RATE = 5;
const BATCH_MS = arg('--batch-ms') === undefined ? undefined : Number(arg('--batch-ms'));
const SECONDS = Number(arg('--seconds') ?? (quick ? 8 : 20));
const VSCODE_HOST = (arg('--vscode-host') ?? '10')
  .split(',')
  .map(Number)
  .filter((n) => n > 1);
const WARMUP_KEYS = RATE; // the first second of each participant's typing is not measured
const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** y-websocket's server until it says it runs. */
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
  if (kind === 'kyozo') {
    const argv = [join(root, 'dist/sync-server.js'), '--port', '0', '--data-dir', dataDir];
    const { child, port } = await spawnSyncServerFrom(argv, {
      KYOZO_SYNC_LOG_LEVEL: 'info',
      KYOZO_SYNC_METRICS_TOKEN: METRICS_TOKEN,
    });
    return { child, port };
  }
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'node_modules/y-websocket/bin/server.cjs')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
  });
  await waitOutput(child, /running at/);
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

/** Participant processes (share-participant.ts) and the messages each has sent and no one has taken yet. */
class Fleet {
  readonly workers: ChildProcess[] = [];
  private readonly inbox: ParticipantMessage[][] = [];

  start(cfg: ParticipantConfig): number {
    const w = fork(BUNDLE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const i = this.workers.push(w) - 1;
    this.inbox.push([]);
    w.on('message', (m: ParticipantMessage) => this.inbox[i].push(m));
    w.send(cfg);
    return i;
  }

  /** The next message of that type from worker i; its error as a rejection. */
  next<T extends ParticipantMessage['type']>(i: number, type: T): Promise<Extract<ParticipantMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const at = this.inbox[i].findIndex((m) => m.type === type || m.type === 'error');
        if (at < 0) {
          if (this.workers[i].exitCode !== null) return reject(new Error(`participant ${i} exited`));
          return setTimeout(check, 10);
        }
        const [m] = this.inbox[i].splice(at, 1);
        if (m.type === 'error') reject(new Error(`participant ${i}: ${m.message}`));
        else resolve(m as Extract<ParticipantMessage, { type: T }>);
      };
      check();
    });
  }

  all<T extends ParticipantMessage['type']>(type: T) {
    return Promise.all(this.workers.map((_, i) => this.next(i, type)));
  }

  send(message: unknown): void {
    for (const w of this.workers) w.send(message as never);
  }

  stop(): void {
    for (const w of this.workers) if (w.exitCode === null) w.kill();
  }
}

/**
 * For every keystroke after each participant's first second: the time from its sender's document to the document of
 * the last other participant it reached. sent[s][k] is participant s's k-th keystroke, arrivals[r][s][k] its arrival
 * at participant r.
 */
function latencies(sent: number[][], arrivals: number[][][], keystrokes: number) {
  const out: number[] = [];
  let missing = 0;
  for (let s = 0; s < sent.length; s++) {
    for (let k = WARMUP_KEYS; k < keystrokes; k++) {
      let last = -Infinity;
      for (let r = 0; r < sent.length; r++) {
        if (r === s) continue;
        const at = arrivals[r][s][k];
        if (at === undefined) missing++;
        else last = Math.max(last, at);
      }
      if (Number.isFinite(last)) out.push(last - sent[s][k]);
    }
  }
  return { sorted: out.sort((a, b) => a - b), missing };
}

/** CPU seconds and peak RSS of a process while the room types: read once at start, sampled, read at the end. */
function watchProcess(pid: number) {
  const start = procStats(pid);
  const t0 = performance.now();
  let peak = start.rss;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStats(pid).rss);
    } catch {
      /* exited */
    }
  }, 250);
  return () => {
    clearInterval(timer);
    const end = procStats(pid);
    const secs = (performance.now() - t0) / 1000;
    return { cpuPct: ((end.cpu - start.cpu) / secs) * 100, rssMB: Math.max(peak, end.rss) };
  };
}

function outcome(
  server: string,
  participants: number,
  keystrokes: number,
  { sorted, missing }: ReturnType<typeof latencies>,
  host: { cpuPct: number; rssMB: number },
  syncServer: { cpuPct: number },
  converged: boolean,
): Outcome {
  return {
    server,
    participants,
    keystrokes: keystrokes * participants,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    hostCpuPct: host.cpuPct,
    hostRssMB: host.rssMB,
    serverCpuPct: syncServer.cpuPct,
    converged,
    missing,
  };
}

async function runRoom(kind: 'kyozo' | 'y-websocket', participants: number): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyozo-bench-share-'));
  const { child: server, port } = await startServer(kind, dataDir);
  const fleet = new Fleet();
  try {
    const prep = kind === 'kyozo' ? await prepareKyozo(`http://127.0.0.1:${port}`, participants) : undefined;
    const keystrokes = SECONDS * RATE;
    const initialText = Array.from({ length: participants }, (_, i) => `participant ${i}: `).join('\n') + '\n';
    for (let i = 0; i < participants; i++) {
      fleet.start({
        kind,
        wsUrl: `ws://127.0.0.1:${port}`,
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
      });
      // The host first, so it fills the file; the others join a room that has it.
      if (i === 0) await fleet.next(0, 'ready');
    }
    for (let i = 1; i < participants; i++) await fleet.next(i, 'ready');
    const host = watchProcess(fleet.workers[0].pid!);
    const srv = watchProcess(server.pid!);
    fleet.send('go');
    const typed = await fleet.all('typed');
    const h = host();
    const sv = srv();
    await new Promise((r) => setTimeout(r, 3000)); // the last keystrokes arrive
    fleet.send('report');
    const results = await fleet.all('result');
    const measured = latencies(
      typed.map((t) => t.sent),
      results.map((r) => r.arrivals),
      keystrokes,
    );
    const converged = results.every((r) => r.text === results[0].text);
    return outcome(kind, participants, keystrokes, measured, h, sv, converged);
  } finally {
    fleet.stop();
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The host in a real VS Code window (code-server with the extension; share-host-suite.ts runs in its extension host)
 * sharing its folder, and participants - 1 Node participants joining it through the team's invite and keys.
 */
async function runVsCodeRoom(participants: number): Promise<Outcome> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'kyozo-bench-share-vscode-')));
  const folder = join(base, 'project');
  const signals = join(base, 'signals');
  const dataDir = join(base, 'sync-data');
  for (const d of [folder, signals]) mkdirSync(d, { recursive: true });
  mkdirSync(dataDir, { mode: 0o700 });
  const keystrokes = SECONDS * RATE;
  const initialText = Array.from({ length: participants }, (_, i) => `participant ${i}: `).join('\n') + '\n';
  writeFileSync(join(folder, 'shared.txt'), initialText);
  const { child: server, port } = await startServer('kyozo', dataDir);
  const url = `http://127.0.0.1:${port}`;
  const password = 'bench-password-123';
  const fleet = new Fleet();
  let cs: CodeServer | undefined;
  let closeBrowser = async () => undefined as void;
  const signal = (name: string, body: unknown = {}) => {
    writeFileSync(join(signals, `${name}.tmp`), JSON.stringify(body));
    renameSync(join(signals, `${name}.tmp`), join(signals, name));
  };
  const fromHost = async <T>(step: string, ms: number): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const error = join(signals, 'host-error');
      if (existsSync(error)) throw new Error(`the VS Code host failed: ${readFileSync(error, 'utf8')}`);
      const f = join(signals, `host-${step}`);
      if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as T;
      if (Date.now() > end)
        throw new Error(`the VS Code host did not reach "${step}" within ${ms / 1000} s: ${cs?.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const suite = await bundleSuite(base, join(__dirname, 'share-host-suite.ts'));
    cs = await startCodeServer(folder, {
      KYOZO_BENCH_DIR: signals,
      KYOZO_BENCH_SERVER: url,
      KYOZO_BENCH_PASSWORD: password,
      KYOZO_BENCH_PARTICIPANTS: String(participants),
      KYOZO_BENCH_RATE: String(RATE),
      KYOZO_BENCH_KEYSTROKES: String(keystrokes),
    });
    const { browser, page } = await openBrowser();
    closeBrowser = () => browser.close();
    await page.goto(workbenchUrl(cs, folder, suite), { timeout: 180_000 });
    const { invites } = await fromHost<{ invites: string[] }>('invited', 240_000);
    for (let i = 1; i < participants; i++) {
      fleet.start({
        kind: 'kyozo',
        wsUrl: `ws://127.0.0.1:${port}`,
        roomId: '',
        index: i,
        participants,
        rate: RATE,
        keystrokes,
        initialText,
        join: { server: url, username: `participant-${i}`, password, invite: invites[i - 1] },
      });
    }
    const enrolled = await fleet.all('enrolled');
    signal('enrolled', { fingerprints: enrolled.map((e) => e.fingerprint) });
    const room = await fromHost<SharedRoom>('shared', 120_000);
    fleet.send(room);
    await fleet.all('ready');
    const extensionHost = extensionHostPid(cs);
    if (!extensionHost)
      throw new Error(`the extension host's pid is not in code-server's log: ${cs.output().slice(-2000)}`);
    const host = watchProcess(extensionHost);
    const srv = watchProcess(server.pid!);
    signal('go');
    fleet.send('go');
    const typed = await fleet.all('typed');
    const hostTyped = await fromHost<{ sent: number[]; refused: number; roundTrips: number[] }>(
      'typed',
      keystrokes * 1000,
    );
    const h = host();
    const sv = srv();
    await new Promise((r) => setTimeout(r, 3000)); // the last keystrokes arrive
    signal('report');
    fleet.send('report');
    const results = await fleet.all('result');
    const hostResult = await fromHost<{ arrivals: number[][]; text: string }>('result', 30_000);
    const sent = [hostTyped.sent, ...typed.map((t) => t.sent)];
    const arrivals = [hostResult.arrivals, ...results.map((r) => r.arrivals)];
    const { sorted, missing } = latencies(sent, arrivals, keystrokes);
    // Where the time goes: each participant's keystrokes into the host's document alone, and the host's into the
    // slowest participant's.
    const toHost: number[] = [];
    for (let s = 1; s < participants; s++)
      for (let k = WARMUP_KEYS; k < keystrokes; k++)
        if (arrivals[0][s][k] !== undefined) toHost.push(arrivals[0][s][k] - sent[s][k]);
    const outOfHost: number[] = [];
    for (let k = WARMUP_KEYS; k < keystrokes; k++)
      outOfHost.push(Math.max(...arrivals.slice(1).map((a) => a[0][k] ?? NaN)) - sent[0][k]);
    const byTime = (a: number[]) => a.filter(Number.isFinite).sort((x, y) => x - y);
    const pp = (a: number[]) => `${f1(quantile(byTime(a), 0.5))}/${f1(quantile(byTime(a), 0.99))}`;
    console.log(
      `    p50/p99 ms: into the host's document ${pp(toHost)}, from the host to the slowest other ${pp(outOfHost)}, ` +
        `VS Code's own round trip for an extension's edit (TextEditor.edit to its change event) ${pp(hostTyped.roundTrips)}; ` +
        `the host's keystrokes: ${hostTyped.refused} typed again after a remote edit came first`,
    );
    const converged = results.every((r) => r.text === hostResult.text);
    return outcome('kyozo, VS Code host', participants, keystrokes, { sorted, missing }, h, sv, converged);
  } finally {
    fleet.stop();
    await closeBrowser().catch(() => undefined);
    await cs?.stop();
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(base, { recursive: true, force: true });
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
  if (VSCODE_HOST.length && !existsSync(CODE_SERVER)) {
    console.log(`  [not run] the VS Code host rows: no code-server at ${CODE_SERVER} (bash .ci/machine-setup.sh)`);
  } else if (VSCODE_HOST.length) {
    execFileSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'ignore' }); // the extension
    for (const n of VSCODE_HOST) {
      process.stdout.write(`  ${n} participants through kyozo, the host in VS Code...\n`);
      outcomes.push(await runVsCodeRoom(n));
    }
  }
  console.log(
    '\nserver               participants  keystrokes  p50 ms  p99 ms  max ms  host CPU %  host RSS MB  server CPU %  converged',
  );
  for (const o of outcomes) {
    console.log(
      `${o.server.padEnd(20)} ${String(o.participants).padStart(12)}  ${String(o.keystrokes).padStart(10)}  ` +
        `${f1(o.p50).padStart(6)}  ${f1(o.p99).padStart(6)}  ${f1(o.max).padStart(6)}  ${f1(o.hostCpuPct).padStart(10)}  ` +
        `${f1(o.hostRssMB).padStart(11)}  ${f1(o.serverCpuPct).padStart(12)}  ${o.converged ? 'yes' : 'NO'}` +
        (o.missing ? ` (${o.missing} arrivals missing)` : ''),
    );
  }
  const ten = outcomes.find((o) => o.server === 'kyozo' && o.participants === 10);
  if (ten) console.log(`\ntarget: p99 under 50 ms at 10 participants through Kyozo: ${f1(ten.p99)} ms`);
  const inVsCode = outcomes.find((o) => o.server === 'kyozo, VS Code host' && o.participants === 10);
  if (inVsCode)
    console.log(
      `  with the host in VS Code: ${f1(inVsCode.p99)} ms; its extension host ${f1(inVsCode.hostCpuPct)} % of a core, ` +
        `${f1(inVsCode.hostRssMB)} MB RSS`,
    );
  const load2 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average after: ${load2}`);
  if (outcomes.some((o) => !o.converged || o.missing)) process.exitCode = 1;
}

void main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
