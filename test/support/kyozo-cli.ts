// The `kyozo` CLI run from source as a user runs it, asynchronously, so the test runner keeps its timeouts while a
// build runs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const repo = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

export type CliResult = { status: number | null; stdout: string; stderr: string };

/** A CLI bound to one state folder (KYOZO_STATE_DIR), so a test's deployments never meet a user's. */
export function kyozoCli(stateDir: string): (args: string[], timeoutMs?: number, input?: string) => Promise<CliResult> {
  // `input` is written to the command's stdin, which is then closed.
  return (args, timeoutMs = 600_000, input) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'server/src/cli/main.ts'), ...args], {
        cwd: repo,
        env: { ...process.env, KYOZO_STATE_DIR: stateDir, NO_COLOR: '1' },
        timeout: timeoutMs,
      });
      if (input !== undefined) child.stdin.end(input);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
}
