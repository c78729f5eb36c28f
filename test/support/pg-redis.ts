// Private PostgreSQL and Redis servers for the tests and the sync benchmark: Debian's own binaries (packages postgresql
// and redis-server), each in a temporary folder on a free port of 127.0.0.1, stopped and removed afterwards. Nothing
// is shared with a system instance, so tests can run beside one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface Service {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function pgBin(name: string): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  for (const v of readdirSync(base).sort().reverse()) {
    const p = join(base, v, 'bin', name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** What is missing to run these tests, or null when PostgreSQL and Redis are installed. */
export function pgRedisMissing(): string | null {
  const missing = [];
  if (!pgBin('initdb') || !pgBin('postgres')) missing.push('PostgreSQL (apt-get install postgresql)');
  if (spawnSync('redis-server', ['--version']).status !== 0) missing.push('Redis (apt-get install redis-server)');
  if (missing.length === 0) return null;
  const line = `${missing.join(' and ')} not installed`;
  if (process.env.CI === 'true') throw new Error(`${line} (required when CI=true)`);
  return line;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// initdb and postgres refuse to run as root: as root, the server runs as Debian's postgres user.
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function waitExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

export async function startPostgres(): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-pg-'));
  const user = runAs();
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(pgBin('initdb')!, ['-D', data, '-U', 'kyozo', '--auth=trust', '--no-sync', '-E', 'UTF8'], {
    encoding: 'utf8',
    ...user,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const child = spawn(
    pgBin('postgres')!,
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...user },
  );
  const output: string[] = [];
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `postgres://kyozo@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`PostgreSQL did not start on port ${port}:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    pid: child.pid!,
    async stop() {
      child.kill('SIGINT'); // fast shutdown: rolls back open transactions, no wait for clients
      await waitExit(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startRedis(): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-redis-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not start:\n${output.join('')}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d.toString());
      if (output.join('').includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Redis exited with ${code}:\n${output.join('')}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await waitExit(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
