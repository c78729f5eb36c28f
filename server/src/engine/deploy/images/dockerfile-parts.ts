// Pieces every generated Dockerfile shares. Design rules so one text works on both the official images and minimal
// ones (a scratch image with busybox and the runtime, as the tests build): numeric USER (no useradd, no /etc/passwd
// entry needed), only POSIX sh in RUN, and no environment values baked in (they are injected at run time).
// Caching comes from layer order (dependency manifests and lockfiles are copied and installed before the sources)
// and, when BuildKit builds the image, from cache mounts that keep each package manager's download cache between
// builds; the classic builder rejects `RUN --mount`, so a Dockerfile written for it has none.
import type { Service } from '../../../protocol';

export const USER = '10001:10001';

/** A runtime's images: `base` for the build (and for one-stage images), `run` for the run stage of multi-stage ones. */
export interface TemplateImages {
  base: string;
  run: string;
}

/** What the builder that runs the Dockerfile accepts beyond the classic syntax. */
export interface BuildFeatures {
  /** `RUN --mount=type=cache` (BuildKit). */
  cacheMounts: boolean;
}

export const CLASSIC: BuildFeatures = { cacheMounts: false };

/**
 * A package manager's cache, mounted at `target` while a step runs (never part of a layer). `env` names the variable
 * that points the tool at it, set for that step only; without one the target is the tool's own default path.
 * `locked` serialises builds that share it, for tools whose cache is not safe to write from two builds at once.
 */
export interface CacheDir {
  id: string;
  target: string;
  env?: string;
  sharing?: 'locked';
}

/** A RUN step, with cache mounts for `caches` when the builder takes them. */
export function run(command: string, caches: readonly CacheDir[], build: BuildFeatures): string {
  if (!build.cacheMounts || !caches.length) return `RUN ${command}`;
  const mounts = caches.map(
    (c) => `--mount=type=cache,id=${c.id},target=${c.target}${c.sharing ? `,sharing=${c.sharing}` : ''}`,
  );
  const env = caches.filter((c) => c.env).map((c) => `${c.env}=${c.target}`);
  return `RUN ${mounts.join(' ')} ${env.length ? `export ${env.join(' ')} && ` : ''}${command}`;
}

/** pip's cache: mounted under BuildKit, else turned off so it does not stay in a layer. */
export const PIP_CACHE: CacheDir = { id: 'kyozo-pip', target: '/root/.cache/pip', env: 'PIP_CACHE_DIR' };

export function pipNoCache(build: BuildFeatures): string {
  return build.cacheMounts ? '' : ' --no-cache-dir';
}

export interface ImageTemplate {
  /** The Dockerfile lines after the header comment. */
  lines(service: Service, images: TemplateImages, build: BuildFeatures): string[];
  /** Context paths this runtime's generated build never needs (rebuilt inside the image), beyond the common ones. */
  ignores?: string[];
}

/** A command as an exec-form argv when it needs no shell (run images without one, signals reach the process). */
export function commandArgv(command: string): string[] {
  const plain = /^[\w./:=@,+%-]+(?: +[\w./:=@,+%-]+)*$/.test(command.trim());
  return plain ? command.trim().split(/ +/) : ['sh', '-c', command];
}

export function cmd(service: Service, fallback: string[]): string {
  const start = service.start;
  let argv = fallback;
  if (start?.argv?.length) argv = start.argv;
  else if (start?.command) argv = ['sh', '-c', start.command];
  return `CMD ${JSON.stringify(argv)}`;
}

/**
 * The command of an image whose own program is fixed by the build (a compiled binary, a jar): the start command
 * only when the user wrote one in kyozo.yaml (detection's `go run .`, `cargo run` are development commands).
 */
export function programCmd(service: Service, program: string[]): string {
  const start = service.start;
  if (start?.source !== 'kyozo.yaml') return `CMD ${JSON.stringify(program)}`;
  return `CMD ${JSON.stringify(start.argv?.length ? start.argv : commandArgv(start.command))}`;
}

/** The build command kyozo.yaml `build:` sets, which replaces the template's own build step. */
export function userBuild(service: Service): string | undefined {
  return service.build?.command?.trim() || undefined;
}

export function expose(service: Service): string[] {
  const ports = [...new Set(service.ports.map((p) => `${p.container}${p.protocol === 'udp' ? '/udp' : ''}`))];
  return ports.length ? [`EXPOSE ${ports.join(' ')}`] : [];
}

export function labels(service: Service, runtime: string): string {
  return `LABEL org.opencontainers.image.title=${JSON.stringify(service.name)} dev.kyozo.generated="${runtime}"`;
}

/** The URL of the known HTTP health route, as the container itself reaches it. */
export function healthUrl(service: Service): string | undefined {
  const hc = service.healthCheck;
  const port = hc?.port ?? service.ports[0]?.container;
  if (hc?.kind !== 'http' || !hc.path || !port) return undefined;
  return `http://127.0.0.1:${port}${hc.path.startsWith('/') ? '' : '/'}${hc.path}`;
}

/**
 * The options of every generated HEALTHCHECK. Each check execs the runtime's interpreter in the container (tens of
 * MB and a CPU burst for node, python or java), so a 5 s interval over 100 services kept a 2-core machine above a
 * load of 100; every 30 s is 20 times fewer runs. Readiness during `kyozo up` does not wait for it: Kyozo probes the
 * published port from the host. The 60 s start period lets slow starters (JVM, first migrations) fail checks without
 * counting, and --start-interval (faster checks during it) needs Docker 25, which 20.10 engines lack.
 */
export const HEALTHCHECK_OPTIONS = '--interval=30s --timeout=5s --start-period=60s --retries=3';

/** A HEALTHCHECK running `probe(url)` (an argv using the runtime's own interpreter: run images carry no curl). */
export function healthcheck(service: Service, probe: (url: string) => string[]): string[] {
  const url = healthUrl(service);
  if (!url) return [];
  return [`HEALTHCHECK ${HEALTHCHECK_OPTIONS} CMD ${JSON.stringify(probe(url))}`];
}

/** Whether the service's folder holds `file` among the indicator files detection reported. */
export function has(service: Service, file: string): boolean {
  const prefix = service.folder === '.' ? '' : `${service.folder}/`;
  return service.indicators.some((i) => i === `${prefix}${file}` || i.endsWith(`/${file}`) || i === file);
}

/** A path detection reported (root-relative) as relative to the service's folder. */
export function inFolder(service: Service, path: string): string {
  const prefix = service.folder === '.' ? '' : `${service.folder}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
