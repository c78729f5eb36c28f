// `kyozo-test/node-build:20`: the local Node base image (docker-base-images.ts) plus what real projects' builds
// need from a full Node image: the rest of glibc (bundlers' native bindings load librt, libresolv, ...) and Node
// trusting the CA bundle the image carries (registry traffic may pass a TLS-inspecting proxy). Built once.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar-stream';
import type Docker from 'dockerode';
import { ensureTestBaseImages } from './docker-base-images';
import { testDocker } from './docker-engine';

export const NODE_BUILD_IMAGE = 'kyozo-test/node-build:20';

type Pack = ReturnType<typeof tar.pack>;

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
  pack.entry({ name: 'Dockerfile', mode: 0o644, mtime: new Date(0) }, [
    `FROM ${node}`,
    'COPY rootfs/ /',
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    'RUN node -e "require(\'node:dns\')" && npm --version',
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
