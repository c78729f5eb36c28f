// Go: a static binary (CGO off, paths trimmed, symbols stripped) of the package detection named (`.`, or the
// `cmd/<name>` program of a module with several), built in the toolchain image and run alone on the smallest base
// from settings (distroless static by default; `go-run=scratch` works too, as the binary needs nothing).
import type { Service } from '../../../protocol';
import type { CacheDir, ImageTemplate } from './dockerfile-parts';
import { expose, labels, programCmd, run, USER, userBuild } from './dockerfile-parts';

/** Module downloads and compiled packages, kept between builds under BuildKit. */
const GO_CACHES: CacheDir[] = [
  { id: 'kyozo-go-mod', target: '/root/.cache/go-mod', env: 'GOMODCACHE' },
  { id: 'kyozo-go-build', target: '/root/.cache/go-build', env: 'GOCACHE' },
];

/** The package to build: the one `go run <pkg>` names, else the module's root. */
export function goPackage(service: Service): string {
  const pkg = /^go\s+run\s+(\.(?:\/[\w./-]*)?)\s*$/.exec(service.start?.command ?? '')?.[1];
  return pkg ?? '.';
}

export const goImage: ImageTemplate = {
  lines(service, { base, run: runImage }, features) {
    const own = userBuild(service);
    const build = own ?? `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ${goPackage(service)}`;
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      // Module downloads are their own layer, reused while go.mod and go.sum are unchanged; go.sum pins them. A module
      // that vendors its dependencies builds from vendor/ (go does so by itself) and must not need the network: the
      // bracket pattern copies vendor/modules.txt when it exists and nothing when it does not (go.mod keeps the COPY
      // from matching nothing, which the classic builder refuses).
      'COPY go.* ./',
      'COPY go.mod vendo[r]/modules.tx[t] /tmp/go-vendor/',
      run(
        'if [ -f /tmp/go-vendor/modules.txt ]; then echo "building from vendor/"; else go mod download; fi',
        GO_CACHES.slice(0, 1),
        features,
      ),
      'COPY . .',
      run(build, GO_CACHES, features),
      '',
      `FROM ${runImage}`,
      labels(service, 'go'),
      'COPY --from=build /out/app /app',
      `USER ${USER}`,
      ...expose(service),
      programCmd(service, ['/app']),
    ];
  },
};
