// Local base images, since no registry is reachable: `kyozo-test/busybox:1` (FROM scratch + Debian's
// static busybox) and `kyozo-test/node:20` (the machine's node binary, the libraries `ldd` lists,
// npm, busybox as /bin/sh, CA certificates). Built once per engine; later calls only inspect.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as tar from 'tar-stream';
import type Docker from 'dockerode';
import { testDocker } from './docker-engine';

export const TEST_BASE_IMAGES = { node: 'kyozo-test/node:20', busybox: 'kyozo-test/busybox:1' } as const;

const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:10001:10001:app:/tmp:/bin/sh\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\napp:x:10001:\n';

type Pack = ReturnType<typeof tar.pack>;

function addFile(pack: Pack, name: string, content: Buffer | string, mode = 0o644): void {
  pack.entry({ name, mode, mtime: new Date(0) }, typeof content === 'string' ? Buffer.from(content) : content);
}

async function buildFromTar(docker: Docker, tag: string, pack: Pack): Promise<void> {
  pack.finalize();
  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve()),
      (e: { error?: string }) => {
        if (e.error) reject(new Error(`building ${tag}: ${e.error}`));
      },
    );
  });
}

async function exists(docker: Docker, tag: string): Promise<boolean> {
  return docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

function busyboxPath(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  throw new Error('busybox-static is not installed (apt-get install busybox-static)');
}

async function buildBusybox(docker: Docker): Promise<void> {
  const pack = tar.pack();
  addFile(pack, 'busybox', readFileSync(busyboxPath()), 0o755);
  addFile(pack, 'passwd', PASSWD);
  addFile(pack, 'group', GROUP);
  addFile(
    pack,
    'Dockerfile',
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/usr/sbin", "/sbin"]',
      'RUN ["/bin/busybox", "--install", "-s"]',
      'COPY passwd group /etc/',
      'RUN mkdir -p /tmp /www && chmod 1777 /tmp',
      'CMD ["sh"]',
    ].join('\n'),
  );
  await buildFromTar(docker, TEST_BASE_IMAGES.busybox, pack);
}

async function buildNode(docker: Docker): Promise<void> {
  const nodeBin = realpathSync(process.execPath);
  const libs = execFileSync('ldd', [nodeBin], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.match(/(?:=>\s*)?(\/\S+)\s+\(0x/)?.[1])
    .filter((p): p is string => Boolean(p));
  const pack = tar.pack();
  const seen = new Set<string>();
  const root = 'rootfs';
  // Files go under rootfs/<absolute path>, so one COPY reproduces the host layout.
  for (const lib of libs) addHostPathUnder(pack, lib, root, seen);
  addFile(pack, `${root}/usr/local/bin/node`, readFileSync(nodeBin), 0o755);
  const npmRoot = (() => {
    try {
      return dirname(dirname(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())));
    } catch {
      return undefined;
    }
  })();
  if (npmRoot && existsSync(join(npmRoot, 'package.json'))) {
    addDirUnder(pack, npmRoot, `${root}/usr/local/lib/node_modules/npm`);
    pack.entry({
      name: `${root}/usr/local/bin/npm`,
      type: 'symlink',
      linkname: '../lib/node_modules/npm/bin/npm-cli.js',
      mode: 0o777,
      mtime: new Date(0),
    });
    pack.entry({
      name: `${root}/usr/local/bin/npx`,
      type: 'symlink',
      linkname: '../lib/node_modules/npm/bin/npx-cli.js',
      mode: 0o777,
      mtime: new Date(0),
    });
  }
  if (existsSync('/etc/ssl/certs/ca-certificates.crt'))
    addFile(pack, `${root}/etc/ssl/certs/ca-certificates.crt`, readFileSync('/etc/ssl/certs/ca-certificates.crt'));
  addFile(pack, `${root}/etc/passwd`, PASSWD);
  addFile(pack, `${root}/etc/group`, GROUP);
  addFile(
    pack,
    'Dockerfile',
    [
      `FROM ${TEST_BASE_IMAGES.busybox}`,
      'COPY rootfs/ /',
      'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
      'RUN node --version',
      'CMD ["node"]',
    ].join('\n'),
  );
  await buildFromTar(docker, TEST_BASE_IMAGES.node, pack);
}

function addHostPathUnder(pack: Pack, hostPath: string, prefix: string, seen: Set<string>): void {
  if (seen.has(hostPath)) return;
  seen.add(hostPath);
  const st = lstatSync(hostPath);
  const name = `${prefix}${hostPath}`;
  if (st.isSymbolicLink()) {
    const target = readlinkSync(hostPath);
    pack.entry({ name, type: 'symlink', linkname: target, mode: 0o777, mtime: new Date(0) });
    addHostPathUnder(pack, target.startsWith('/') ? target : join(dirname(hostPath), target), prefix, seen);
  } else if (st.isFile()) {
    addFile(pack, name, readFileSync(hostPath), st.mode & 0o777);
  }
}

function addDirUnder(pack: Pack, dir: string, prefix: string): void {
  const walk = (abs: string) => {
    for (const e of readdirSync(abs)) {
      const full = join(abs, e);
      const rel = relative(dir, full);
      const st = lstatSync(full);
      if (st.isSymbolicLink())
        pack.entry({
          name: `${prefix}/${rel}`,
          type: 'symlink',
          linkname: readlinkSync(full),
          mode: 0o777,
          mtime: new Date(0),
        });
      else if (st.isDirectory()) walk(full);
      else if (st.isFile()) addFile(pack, `${prefix}/${rel}`, readFileSync(full), statSync(full).mode & 0o777);
    }
  };
  walk(dir);
}

let pending: Promise<{ node: string; busybox: string }> | undefined;

/** Builds (once) and returns the local base images: `{ node: 'kyozo-test/node:20', busybox: 'kyozo-test/busybox:1' }`. */
export function ensureTestBaseImages(docker: Docker = testDocker()): Promise<{ node: string; busybox: string }> {
  pending ??= (async () => {
    if (!(await exists(docker, TEST_BASE_IMAGES.busybox))) await buildBusybox(docker);
    if (!(await exists(docker, TEST_BASE_IMAGES.node))) await buildNode(docker);
    return { ...TEST_BASE_IMAGES };
  })();
  return pending;
}
