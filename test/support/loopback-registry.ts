// A private container registry on 127.0.0.1 for one test: Debian's docker-registry (the CNCF distribution registry)
// with a temporary config and storage, optionally behind htpasswd basic auth. dockerd allows plain HTTP to
// 127.0.0.0/8 registries by default, so the engine pushes to and pulls from it as it would from a real one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopbackRegistry {
  /** host:port, as images name it. */
  address: string;
  stop(): Promise<void>;
}

export function registryAvailable(): string | undefined {
  for (const bin of ['docker-registry', 'htpasswd']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (apt-get install docker-registry apache2-utils; .ci/machine-setup.sh does)`;
    }
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(auth?: { user: string; password: string }): Promise<LoopbackRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-registry-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (auth) {
    // bcrypt, as the registry requires (-B); the password is the test's own, on a registry that lives for one test.
    const entry = execFileSync('htpasswd', ['-Bbn', auth.user, auth.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), entry);
    lines.push('auth:', '  htpasswd:', '    realm: kyozo-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answered = await fetch(`http://${address}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (answered) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`docker-registry did not start on ${address}: ${stderr.trim() || 'no answer within 15 s'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A DOCKER_CONFIG folder whose config.json holds one registry's `auths` entry, as `docker login` writes it. */
export function dockerConfigWith(registry: string, user: string, password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-docker-config-'));
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
  return dir;
}
