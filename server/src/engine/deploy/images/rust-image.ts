// Rust: `cargo build --release` from Cargo.lock (--locked) in the toolchain image; the binary of the target detection
// named (src/main.rs, src/bin/<name>.rs or a [[bin]] path) is found in cargo's own report of what it built, so a
// [[bin]] renamed in Cargo.toml is still the one copied, alone, into the run image.
import type { Service } from '../../../protocol';
import type { CacheDir, ImageTemplate } from './dockerfile-parts';
import { expose, inFolder, labels, programCmd, run, USER, userBuild } from './dockerfile-parts';

/**
 * The crates.io index and downloaded crates (at the rust image's CARGO_HOME and at rustup's default one: CARGO_HOME is
 * left alone, as a base image may keep a registry mirror in its config), and the service's own target/ folder, whose
 * compiled dependencies make the next build incremental.
 */
function cargoCaches(service: Service): CacheDir[] {
  const key = service.id.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return [
    { id: 'kyozo-cargo-registry', target: '/usr/local/cargo/registry' },
    { id: 'kyozo-cargo-home-registry', target: '/root/.cargo/registry' },
    { id: `kyozo-cargo-target-${key}`, target: '/src/target', sharing: 'locked' },
  ];
}

/** The source file of the binary target to ship, relative to the crate, when detection named one. */
function binSource(service: Service): string | undefined {
  const file = service.start?.evidence.file;
  return file && file.endsWith('.rs') ? inFolder(service, file) : undefined;
}

export const rustImage: ImageTemplate = {
  lines(service, { base, run: runImage }, features) {
    const caches = cargoCaches(service);
    const source = binSource(service);
    const executables = `sed -n 's/.*"executable":"\\([^"]*\\)".*/\\1/p'`;
    const find = source
      ? `grep -F '"src_path":"/src/${source}"' /tmp/cargo.json | ${executables}`
      : `${executables} /tmp/cargo.json`;
    const own = userBuild(service);
    const build = own
      ? [run(own, caches, features)]
      : [
          run(
            'if [ -f Cargo.lock ]; then locked=--locked; fi; ' +
              'cargo build --release $locked --message-format=json-render-diagnostics > /tmp/cargo.json',
            caches,
            features,
          ),
          // The binary lies in target/, which under BuildKit is the cache mount.
          run(
            `mkdir -p /out && bin="$(${find} | tail -n 1)" && if [ -z "$bin" ]; then ` +
              `echo 'cargo built no binary${source ? ` from ${source}` : ''}; ` +
              "declare it with [[bin]] in Cargo.toml' >&2; " +
              'exit 1; fi && cp "$bin" /out/app',
            caches.slice(2),
            features,
          ),
        ];
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY . .',
      ...build,
      '',
      `FROM ${runImage}`,
      labels(service, 'rust'),
      'COPY --from=build /out/app /usr/local/bin/app',
      `USER ${USER}`,
      ...expose(service),
      programCmd(service, ['/usr/local/bin/app']),
    ];
  },
};
