// A local gateway image, since nginx:1.27-alpine cannot be pulled here: `kyozo-test/nginx:1.22-debian` is FROM
// scratch with Debian's nginx binary (.ci/machine-setup.sh installs the package), the libraries `ldd` lists, an
// /etc/passwd naming the gateway's uid 101 and a world-writable /tmp, which is all Kyozo's generated configuration
// needs. Built once per engine; later calls only inspect.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar-stream';
import type Docker from 'dockerode';
import { testDocker } from './docker-engine';

export const TEST_GATEWAY_IMAGE = 'kyozo-test/nginx:1.22-debian';

const NGINX = '/usr/sbin/nginx';

type Pack = ReturnType<typeof tar.pack>;

function addHostPath(pack: Pack, hostPath: string, seen: Set<string>): void {
  if (seen.has(hostPath)) return;
  seen.add(hostPath);
  const st = lstatSync(hostPath);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(hostPath);
    pack.entry({ name: `rootfs${hostPath}`, type: 'symlink', linkname: target, mode: 0o777, mtime: new Date(0) });
    addHostPath(pack, target.startsWith('/') ? target : join(dirname(hostPath), target), seen);
  } else if (st.isFile()) {
    pack.entry({ name: `rootfs${hostPath}`, mode: st.mode & 0o777, mtime: new Date(0) }, readFileSync(hostPath));
  }
}

async function build(docker: Docker): Promise<void> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing; run .ci/machine-setup.sh (apt-get install nginx)`);
  const libs = execFileSync('ldd', [NGINX], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.match(/(?:=>\s*)?(\/\S+)\s+\(0x/)?.[1])
    .filter((p): p is string => Boolean(p));
  const pack = tar.pack();
  const seen = new Set<string>();
  for (const path of [NGINX, ...libs]) addHostPath(pack, path, seen);
  const file = (name: string, text: string) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
  pack.entry({ name: 'rootfs/tmp/', type: 'directory', mode: 0o1777, mtime: new Date(0) });
  file('rootfs/etc/passwd', 'root:x:0:0:root:/root:/bin/false\nnginx:x:101:101:nginx:/tmp:/bin/false\n');
  file('rootfs/etc/group', 'root:x:0:\nnginx:x:101:\n');
  // The package's default configuration, so the image also runs by itself (`docker run kyozo-test/nginx:...`).
  file(
    'rootfs/etc/nginx/nginx.conf',
    'pid /tmp/nginx.pid;\nevents {}\nhttp { access_log off; server { listen 8080; return 200 "ok\\n"; } }\n',
  );
  file(
    'Dockerfile',
    [
      'FROM scratch',
      'COPY rootfs/ /',
      'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin',
      'USER 101:101',
      'CMD ["nginx", "-g", "daemon off;"]',
    ].join('\n'),
  );
  pack.finalize();
  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, {
    t: TEST_GATEWAY_IMAGE,
    rm: true,
    forcerm: true,
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve()),
      (e: { error?: string }) => {
        if (e.error) reject(new Error(`building ${TEST_GATEWAY_IMAGE}: ${e.error}`));
      },
    );
  });
}

let pending: Promise<string> | undefined;

/** Builds (once) and returns the local gateway image's tag. */
export function ensureTestGatewayImage(docker: Docker = testDocker()): Promise<string> {
  pending ??= (async () => {
    const present = await docker
      .getImage(TEST_GATEWAY_IMAGE)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (!present) await build(docker);
    return TEST_GATEWAY_IMAGE;
  })();
  return pending;
}
