// `kyozo-test/node-build:20-corepack`: the local Node base image (docker-base-images.ts) plus what real projects'
// builds need from a full Node image: the rest of glibc (bundlers' native bindings load librt, libresolv, ...),
// corepack (pnpm and yarn), and Node trusting the CA bundle the image carries (registry traffic may pass a
// TLS-inspecting proxy). Built once; the tag names what it holds, so an older build is not reused.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar-stream';
import type Docker from 'dockerode';
import { ensureTestBaseImages } from './docker-base-images';
import { testDocker } from './docker-engine';

export const NODE_BUILD_IMAGE = 'kyozo-test/node-build:20-corepack';

type Pack = ReturnType<typeof tar.pack>;

function addTree(pack: Pack, dir: string, prefix: string): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = lstatSync(full);
    const entry = `${prefix}/${name}`;
    if (st.isSymbolicLink()) {
      pack.entry({ name: entry, type: 'symlink', linkname: readlinkSync(full), mode: 0o777, mtime: new Date(0) });
    } else if (st.isDirectory()) addTree(pack, full, entry);
    else if (st.isFile()) pack.entry({ name: entry, mode: st.mode & 0o777, mtime: new Date(0) }, readFileSync(full));
  }
}

/** The host's corepack (it ships with Node), found beside the node binary's global modules. */
function corepackDir(): string | undefined {
  try {
    const bin = realpathSync(execFileSync('sh', ['-c', 'command -v corepack'], { encoding: 'utf8' }).trim());
    const dir = dirname(dirname(bin));
    return existsSync(join(dir, 'package.json')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function addPath(pack: Pack, path: string, seen: Set<string>): void {
  if (seen.has(path) || !existsSync(path)) return;
  seen.add(path);
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(path);
    pack.entry({ name: `rootfs${path}`, type: 'symlink', linkname: target, mode: 0o777, mtime: new Date(0) });
    addPath(pack, target.startsWith('/') ? target : join(dirname(path), target), seen);
  } else if (st.isFile()) {
    pack.entry({ name: `rootfs${path}`, mode: st.mode & 0o777, mtime: new Date(0) }, readFileSync(path));
  }
}

/** The shared libraries of Debian's libc6 package (without locale converters and audit modules). */
function glibcLibraries(): string[] {
  return execFileSync('dpkg', ['-L', 'libc6'], { encoding: 'utf8' })
    .split('\n')
    .filter((p) => /\.so(\.\d+)*$/.test(p) && !/gconv|audit/.test(p));
}

export async function ensureNodeBuildImage(docker: Docker = testDocker()): Promise<string> {
  if (await docker.getImage(NODE_BUILD_IMAGE).inspect().then(() => true, () => false)) return NODE_BUILD_IMAGE;
  const { node } = await ensureTestBaseImages(docker);
  const pack = tar.pack();
  const seen = new Set<string>();
  for (const lib of glibcLibraries()) addPath(pack, lib, seen);
  const corepack = corepackDir();
  if (corepack) {
    addTree(pack, corepack, 'rootfs/usr/local/lib/node_modules/corepack');
    const link = { type: 'symlink' as const, mode: 0o777, mtime: new Date(0) };
    const target = '../lib/node_modules/corepack/dist/corepack.js';
    pack.entry({ ...link, name: 'rootfs/usr/local/bin/corepack', linkname: target });
  }
  pack.entry({ name: 'Dockerfile', mode: 0o644, mtime: new Date(0) }, [
    `FROM ${node}`,
    'COPY rootfs/ /',
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    'RUN node -e "require(\'node:dns\')" && npm --version && corepack --version',
  ].join('\n'));
  pack.finalize();
  const options = { t: NODE_BUILD_IMAGE, rm: true, forcerm: true };
  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, options);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve()), (e: { error?: string }) => {
      if (e.error) reject(new Error(`building ${NODE_BUILD_IMAGE}: ${e.error}`));
    });
  });
  return NODE_BUILD_IMAGE;
}
