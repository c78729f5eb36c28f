// Local toolchain images for the generated Python, Go and Rust builds, since neither a registry, PyPI, the Go module
// proxy nor crates.io is reachable: assembled from the host's Debian packages (.ci/machine-setup.sh installs them) on
// top of kyozo-test/busybox. `kyozo-test/python:3.11-debian` is Debian's python3.11 with venv and pip, and Flask,
// gunicorn, FastAPI, uvicorn, Django and whitenoise on PYTHONPATH, where a virtual environment sees them too, so a
// generated `pip install -r requirements.txt` finds every requirement already satisfied (PIP_NO_INDEX keeps it off
// the network). `kyozo-test/go:1.19-debian` is Debian's Go toolchain with GOPROXY=off and a warm build cache for the
// standard library as a static build compiles it. `kyozo-test/rust:1.63-debian` is Debian's rustc and cargo with gcc
// to link, offline; `kyozo-test/glibc:12` is a run image for what it builds. Each is built once per engine; the host
// files are streamed by tar straight into the engine, never held in memory.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { ensureTestBaseImages } from './docker-base-images';
import { testDocker } from './docker-engine';

export const RUNTIME_TEST_IMAGES = {
  python: 'kyozo-test/python:3.11-debian',
  go: 'kyozo-test/go:1.19-debian',
  rust: 'kyozo-test/rust:1.63-debian',
  glibc: 'kyozo-test/glibc:12',
} as const;

const DIST_PACKAGES = '/usr/lib/python3/dist-packages';
/** Top-level names (modules and their metadata folders) of the frameworks and what they import. */
const PYTHON_PACKAGES = new RegExp(
  `^(${[
    'flask',
    'werkzeug',
    'jinja2',
    'markupsafe',
    'itsdangerous',
    'click',
    'blinker',
    'gunicorn',
    'uvicorn',
    'fastapi',
    'starlette',
    'pydantic',
    'anyio',
    'sniffio',
    'h11',
    'idna',
    'typing_extensions',
    'django',
    'asgiref',
    'sqlparse',
    'pytz',
    'whitenoise',
    'pkg_resources',
    'setuptools',
  ].join('|')})([-.]|$)`,
  'i',
);
const DEBIAN_PACKAGES =
  'python3.11 python3-venv tzdata python3-flask python3-gunicorn python3-uvicorn python3-fastapi ' +
  'python3-django python3-whitenoise golang-go cargo';
/** Debian packages whose files make the Rust toolchain image: rustc and cargo, and gcc with binutils to link. */
const RUST_PACKAGES = [
  'rustc',
  'cargo',
  'libstd-rust-1.63',
  'libstd-rust-dev',
  'gcc',
  'gcc-12',
  'cpp-12',
  'binutils',
  'binutils-x86-64-linux-gnu',
  'binutils-common',
  'libc6-dev',
  'libgcc-12-dev',
  'libcrypt-dev',
  'linux-libc-dev',
];

/** The path, and for a link each target in its chain, as archive members. */
function withLinkTargets(path: string, out: Set<string>): void {
  if (out.has(path) || !existsSync(path)) return;
  out.add(path);
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(path);
    withLinkTargets(target.startsWith('/') ? target : join(dirname(path), target), out);
  }
}

/** The shared libraries the given ELF files load (ldd), with their link chains. */
function librariesOf(files: string[], out: Set<string>): void {
  if (!files.length) return;
  // ldd exits non-zero when one of the files is static, yet lists the others' libraries.
  const text = spawnSync('ldd', files, { encoding: 'utf8', maxBuffer: 16 << 20 }).stdout ?? '';
  for (const m of text.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) withLinkTargets(m[1]!, out);
}

function sharedObjects(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile() && /\.so(\.\d+)*$/.test(name)) found.push(full);
    }
  };
  walk(dir);
  return found;
}

/**
 * Builds `tag` from a Dockerfile and small files written to a temporary folder plus host paths, which land under
 * rootfs/ in the context (so `COPY rootfs/ /` reproduces the host layout); `tar` streams them to the engine.
 */
async function buildFromHost(
  docker: Docker,
  tag: string,
  files: Record<string, { text: string; mode?: number }>,
  hostPaths: string[],
  excludes: string[] = [],
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kyozo-runtime-image-'));
  const cleanup = [dir];
  try {
    for (const [name, f] of Object.entries(files)) {
      const path = join(dir, name);
      execFileSync('mkdir', ['-p', dirname(path)]);
      writeFileSync(path, f.text, { mode: f.mode ?? 0o644 });
    }
    // The host paths go in a list file: a toolchain made of Debian packages is thousands of them.
    const list = join(tmpdir(), `kyozo-runtime-image-${process.pid}-${Date.now()}.list`);
    writeFileSync(list, `${hostPaths.map((p) => p.replace(/^\//, '')).join('\n')}\n`);
    cleanup.push(list);
    const args = [
      '-c',
      '-f',
      '-',
      ...excludes.map((e) => `--exclude=${e}`),
      // Host paths move under rootfs/ (link targets stay as written: they are paths inside the image).
      '--transform=s,^\\(usr\\|lib\\|lib64\\|etc\\)/,rootfs/&,S',
      '-C',
      dir,
      ...Object.keys(files)
        .map((n) => n.split('/')[0]!)
        .filter((n, i, a) => a.indexOf(n) === i),
      '-C',
      '/',
      '-T',
      list,
    ];
    const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tarErr = '';
    tar.stderr.on('data', (d) => (tarErr += d));
    const context = tar.stdout as unknown as NodeJS.ReadableStream;
    const stream = await docker.buildImage(context, { t: tag, rm: true, forcerm: true });
    const log: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const onEvent = (e: { stream?: string; error?: string }) => {
        if (e.stream) log.push(e.stream);
        if (e.error) reject(new Error(`building ${tag}: ${e.error}\n${log.slice(-20).join('')}\n${tarErr}`));
      };
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve()), onEvent);
    });
  } finally {
    for (const path of cleanup) rmSync(path, { recursive: true, force: true });
  }
}

function missingHostFiles(paths: string[], what: string): void {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(
      `${what} needs ${missing.join(', ')} on this machine; run .ci/machine-setup.sh ` +
        `(apt-get install ${DEBIAN_PACKAGES})`,
    );
  }
}

async function buildPython(docker: Docker, busybox: string): Promise<void> {
  const python = '/usr/bin/python3.11';
  missingHostFiles(
    [
      python,
      '/usr/lib/python3.11/ensurepip',
      '/usr/share/python-wheels',
      '/usr/share/zoneinfo',
      `${DIST_PACKAGES}/flask`,
      `${DIST_PACKAGES}/gunicorn`,
      `${DIST_PACKAGES}/uvicorn`,
      `${DIST_PACKAGES}/django`,
      `${DIST_PACKAGES}/whitenoise`,
    ],
    'the Python test image',
  );
  const packages = readdirSync(DIST_PACKAGES)
    .filter((n) => PYTHON_PACKAGES.test(n))
    .map((n) => join(DIST_PACKAGES, n));
  const paths = new Set<string>([python, '/usr/bin/python3', '/usr/lib/python3.11', '/usr/share/python-wheels']);
  if (existsSync('/etc/python3.11')) paths.add('/etc/python3.11');
  // Debian's pytz (which Django 3.2 imports) reads the system time zone database.
  paths.add('/usr/share/zoneinfo');
  for (const p of packages) paths.add(p);
  const elf = [
    python,
    ...sharedObjects('/usr/lib/python3.11/lib-dynload'),
    ...packages.flatMap((p) => (lstatSync(p).isDirectory() ? sharedObjects(p) : [])),
  ];
  librariesOf(elf, paths);
  const script = (body: string) => ({
    text: `#!/usr/bin/python3.11\nimport sys\n${body}\nsys.exit(main())\n`,
    mode: 0o755,
  });
  await buildFromHost(
    docker,
    RUNTIME_TEST_IMAGES.python,
    {
      'bin/gunicorn': script('from gunicorn.app.wsgiapp import run as main'),
      'bin/uvicorn': script('from uvicorn.main import main'),
      Dockerfile: {
        text: [
          `FROM ${busybox}`,
          'COPY rootfs/ /',
          'COPY bin/ /usr/local/bin/',
          'RUN ln -s /usr/bin/python3.11 /usr/local/bin/python && ln -s /usr/bin/python3.11 /usr/local/bin/python3',
          'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 ' +
            `PYTHONPATH=${DIST_PACKAGES} PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1`,
          // Debian's FastAPI 0.92 runs on its Starlette 0.26 but its metadata still asks for <0.26, which pip enforces.
          "RUN sed -i 's/^Requires-Dist: starlette.*/Requires-Dist: starlette>=0.25.0/' " +
            `${DIST_PACKAGES}/fastapi-*/METADATA`,
          'RUN python -c "import flask, gunicorn, uvicorn, fastapi, django, whitenoise" ' +
            '&& python -m venv /tmp/venv-check && rm -rf /tmp/venv-check',
          'CMD ["python3"]',
        ].join('\n'),
      },
    },
    [...paths],
    [
      'usr/lib/python3.11/test',
      'usr/lib/python3.11/idlelib',
      'usr/lib/python3.11/tkinter',
      'usr/lib/python3.11/turtledemo',
      'usr/lib/python3.11/lib2to3/tests',
    ],
  );
}

async function buildGo(docker: Docker, busybox: string): Promise<void> {
  const goroot = '/usr/lib/go-1.19';
  missingHostFiles([`${goroot}/bin/go`, '/usr/share/go-1.19/src'], 'the Go test image');
  // Debian links its go command against glibc (the compilers it runs are static).
  const paths = new Set<string>([goroot, '/usr/share/go-1.19']);
  librariesOf([`${goroot}/bin/go`, `${goroot}/bin/gofmt`], paths);
  await buildFromHost(
    docker,
    RUNTIME_TEST_IMAGES.go,
    {
      Dockerfile: {
        text: [
          `FROM ${busybox}`,
          'COPY rootfs/ /',
          `ENV PATH=${goroot}/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOPROXY=off GOPATH=/go ` +
            'GOCACHE=/root/.cache/go-build',
          // The standard library as generated images compile it (static, trimmed paths), so their builds reuse it.
          'RUN mkdir -p /root /go && CGO_ENABLED=0 go build -trimpath net/http encoding/json os/signal && go version',
        ].join('\n'),
      },
    },
    [...paths],
    [
      'usr/lib/go-1.19/pkg/linux_amd64',
      'usr/share/go-1.19/test',
      'usr/share/go-1.19/misc',
      'usr/share/go-1.19/api',
      'testdata',
      '*_test.go',
    ],
  );
}

/** The files and links (not folders: tar would take all they hold) that Debian packages installed. */
function packageFiles(packages: string[], out: Set<string>): void {
  const listed = spawnSync('dpkg', ['-L', ...packages], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (listed.status !== 0) {
    const why = listed.stderr.trim();
    throw new Error(`dpkg -L failed (${why}); run .ci/machine-setup.sh (apt-get install ${DEBIAN_PACKAGES})`);
  }
  for (const path of listed.stdout.split('\n')) {
    if (!path.startsWith('/') || !existsSync(path) || lstatSync(path).isDirectory()) continue;
    withLinkTargets(path, out);
  }
}

function isElf(path: string): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size < 4) return false;
    const head = Buffer.alloc(4);
    const fd = openSync(path, 'r');
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    return head.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

/** rustc and cargo, and gcc with binutils to link, from Debian's packages; offline (CARGO_NET_OFFLINE). */
async function buildRust(docker: Docker, busybox: string): Promise<void> {
  missingHostFiles(['/usr/bin/cargo', '/usr/bin/rustc', '/usr/bin/cc'], 'the Rust test image');
  const paths = new Set<string>();
  packageFiles(RUST_PACKAGES, paths);
  withLinkTargets('/usr/bin/cc', paths);
  librariesOf([...paths].filter(isElf), paths);
  await buildFromHost(
    docker,
    RUNTIME_TEST_IMAGES.rust,
    {
      Dockerfile: {
        text: [
          `FROM ${busybox}`,
          'COPY rootfs/ /',
          'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CARGO_HOME=/root/.cargo CARGO_NET_OFFLINE=true',
          'RUN mkdir -p /root && cargo --version && rustc --version && cc --version',
        ].join('\n'),
      },
    },
    [...paths],
    ['usr/share/doc', 'usr/share/man', 'usr/share/locale'],
  );
}

/** A glibc run image for dynamically linked programs (what debian:bookworm-slim is to a Rust build). */
async function buildGlibc(docker: Docker, busybox: string): Promise<void> {
  const paths = new Set<string>();
  packageFiles(['libc6', 'libgcc-s1'], paths);
  await buildFromHost(
    docker,
    RUNTIME_TEST_IMAGES.glibc,
    {
      Dockerfile: { text: [`FROM ${busybox}`, 'COPY rootfs/ /'].join('\n') },
    },
    [...paths].filter((p) => /\.so|ld-linux|\/lib64\//.test(p)),
    ['usr/share'],
  );
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

let pending: Promise<typeof RUNTIME_TEST_IMAGES> | undefined;

/** Builds (once per engine) and returns the Python and Go toolchain images. */
export function ensureRuntimeTestImages(docker: Docker = testDocker()): Promise<typeof RUNTIME_TEST_IMAGES> {
  pending ??= (async () => {
    const { busybox } = await ensureTestBaseImages(docker);
    if (!(await exists(docker, RUNTIME_TEST_IMAGES.python))) await buildPython(docker, busybox);
    if (!(await exists(docker, RUNTIME_TEST_IMAGES.go))) await buildGo(docker, busybox);
    if (!(await exists(docker, RUNTIME_TEST_IMAGES.rust))) await buildRust(docker, busybox);
    if (!(await exists(docker, RUNTIME_TEST_IMAGES.glibc))) await buildGlibc(docker, busybox);
    return RUNTIME_TEST_IMAGES;
  })();
  return pending;
}
