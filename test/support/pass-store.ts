// A real secret store for tests: `pass` (the standard Unix password manager) with a new GnuPG key of its own, behind
// Debian's docker-credential-pass, the credential helper Docker users configure as credsStore. Everything lives in a
// temporary folder; the process environment points GnuPG, pass and Kyozo (KYOZO_SECRET_STORE) at it until cleanup.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CREDENTIAL_PASS = '/usr/bin/docker-credential-pass';

/** Why a pass store cannot be made here, or undefined when it can. */
export function passStoreMissing(): string | undefined {
  for (const bin of [CREDENTIAL_PASS, '/usr/bin/pass', '/usr/bin/gpg'])
    if (!existsSync(bin)) return `${bin} is not installed (bash .ci/machine-setup.sh installs it)`;
  return undefined;
}

export interface PassStore {
  dir: string;
  /** The variables set in process.env (children inherit them). */
  env: Record<string, string>;
  cleanup(): void;
}

export function createPassStore(): PassStore {
  const dir = mkdtempSync(join(tmpdir(), 'kz-pass-')); // short: gpg-agent's socket path has a length limit
  const env = { GNUPGHOME: join(dir, 'gnupg'), PASSWORD_STORE_DIR: join(dir, 'store'), KYOZO_SECRET_STORE: 'pass' };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  execFileSync('mkdir', ['-m', '700', env.GNUPGHOME]);
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  run('gpg', [
    '--batch',
    '--pinentry-mode',
    'loopback',
    '--passphrase',
    '',
    '--quick-gen-key',
    'Kyozo Test <test@kyozo.invalid>',
    'default',
    'default',
    'never',
  ]);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(run('gpg', ['--list-keys', '--with-colons']))![1]!;
  run('pass', ['init', fpr]);
  Object.assign(process.env, env);
  return {
    dir,
    env,
    cleanup() {
      try {
        run('gpgconf', ['--kill', 'gpg-agent']);
      } catch {
        /* no agent running */
      }
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
