// Runs the sync server as a separate process (TypeScript through tsx), for crash tests and benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  output: string[];
}

export function spawnSyncServer(
  dataDir: string,
  port = 0,
  extraEnv: NodeJS.ProcessEnv = {},
  startTimeoutMs = 20_000,
): Promise<ServerProcess> {
  const main = join(repoRoot, 'sync-server/src/main.ts');
  const argv = ['--import', 'tsx', main, '--port', String(port), '--data-dir', dataDir];
  return spawnSyncServerFrom(argv, extraEnv, startTimeoutMs);
}

/** Runs `node <argv>` (a bundle such as dist/sync-server.js and its flags) until the server says it listens. */
export function spawnSyncServerFrom(
  argv: string[],
  extraEnv: NodeJS.ProcessEnv = {},
  startTimeoutMs = 20_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, argv, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv },
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sync server did not start within ${startTimeoutMs / 1000} s:\n${output.join('')}`));
    }, startTimeoutMs);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d.toString());
      buf += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"sync server listening"/.exec(buf);
      if (m) {
        clearTimeout(timer);
        buf = '';
        const p = Number(m[1]);
        resolve({ child, port: p, url: `http://127.0.0.1:${p}`, wsUrl: `ws://127.0.0.1:${p}`, output });
      }
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sync server exited with ${code} before listening:\n${output.join('')}`));
    });
  });
}

export function killHard(p: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}
