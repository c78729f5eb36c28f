// Makes sure a service has an image: build the folder (its Dockerfile, or a generated one), tagged by
// the content hash of the context so an unchanged folder is not rebuilt; or pull an image-only
// service's image when it is not present.
import { isAbsolute, join, relative, sep } from 'node:path';
import type Docker from 'dockerode';
import type { Service, Topology } from '../../protocol';
import { DEFAULT_MAX_FILE_BYTES } from '../scan/default-ignores';
import { WorkspaceFiles } from '../scan/workspace-files';
import { collectContext, contextTar, DEFAULT_DOCKERIGNORE, GENERATED_CONTEXT_IGNORES } from './build-context';
import type { Builder } from './builder';
import { BuildkitProgress, decodeTrace, isTraceEvent } from './buildkit-trace';
import { generateDockerfile, runtimeContextIgnores } from './dockerfile-generator';
import type { BaseImages } from './dockerfile-generator';
import { RUNTIME_BUILD_FAILURE_HINTS } from './images/runtime-build-hints';
import { imageLabels } from './image-labels';
import { Label } from './labels';

/** Causes a build's output makes plain, with what to do about each; the first that matches is named. */
const BUILD_FAILURE_HINTS: [RegExp, string | ((m: RegExpExecArray) => string)][] = [
  [
    // BuildKit fetches the frontend a `# syntax=` line names before it reads the Dockerfile; the classic builder
    // ignores the line.
    /frontend gateway\.v0: .*(?:no such host|pull access denied|not found|manifest unknown|i\/o timeout|refused)/,
    "the Dockerfile's `# syntax=` line names a BuildKit frontend image the engine cannot pull; remove the line (the " +
      "engine's own frontend reads the Dockerfile), make that image reachable, or build with --builder classic",
  ],
  [
    /fonts\.(googleapis|gstatic)\.com|Failed to fetch (font|`[^`]+` from Google Fonts)/i,
    'this Next.js app fetches Google Fonts at build time and the build has no network access to that host; ' +
      'self-host the font with next/font/local, or build where fonts.googleapis.com is reachable',
  ],
  [
    /package\.json and package-lock\.json[^\n]* in sync|ERR_PNPM_OUTDATED_LOCKFILE|lockfile needs to be updated|YN0028/i,
    'the lockfile does not match package.json; run the install locally (npm install, pnpm install or yarn install) ' +
      'and commit the updated lockfile',
  ],
  [
    /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|unable to verify the first certificate/,
    "the package registry's TLS certificate is not trusted inside the build (a TLS-inspecting proxy?); use a base " +
      'image that trusts its CA (ENV NODE_EXTRA_CA_CERTS=...) with --base-image node=<image>',
  ],
  [
    /\b(ENOTFOUND|EAI_AGAIN)\b[^\n]*registry|registry[^\n]*\b(ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED)\b/i,
    "the build cannot reach the package registry; check the Docker engine's network or DNS, or point .npmrc at a " +
      'registry mirror it can reach',
  ],
  [
    /\bEBADENGINE\b|requires? (?:a )?(?:minimum )?Node(?:\.js)? (?:version )?(?:of )?v?\d+/i,
    'the project (or a package it installs) needs a newer Node than the base image has; choose an image with that ' +
      'Node: --base-image node-<major>=<image> (used when package.json engines.node accepts that major) or ' +
      'node=<image>, or base_image in kyozo.yaml',
  ],
  [
    /No compatible signature found|Corepack cannot download/,
    "corepack refused to download the package manager (its signing keys are older than the registry's); pin it " +
      'with a packageManager field in package.json (pnpm@9.15.9, yarn@4.x), or use a base image with a newer corepack',
  ],
  [
    /\b(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT)\b:?\s+([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i,
    (m) =>
      `the build fetches ${m[1]} at build time, which the build cannot reach; fetch it at run time instead ` +
      '(a server-side request, not a build-time one), or build where that host is reachable',
  ],
  [
    /gyp ERR!|node-gyp[^\n]*(?:not found|failed)/,
    'a native module is compiled during the install and the base image lacks its toolchain (Python, make and a C++ ' +
      'compiler); choose a fuller Node image (node:24 rather than node:24-slim) with --base-image',
  ],
  [
    /JavaScript heap out of memory|Reached heap limit/,
    'the build ran out of memory; give the Docker engine more memory, or set a larger heap for the build with ' +
      'NODE_OPTIONS=--max-old-space-size=4096 in a committed Dockerfile',
  ],
  ...RUNTIME_BUILD_FAILURE_HINTS,
  [
    /(?:sh|\/bin\/sh): (?:\d+: )?([\w.@/-]+): not found/,
    'a command the build runs is not installed at that step; if it comes from a dev dependency, keep it in ' +
      'devDependencies and make sure the lockfile lists it',
  ],
];

/** What to do about a failed step, and the line of its output that says why (it may lie before the shown tail). */
export function buildFailureHint(output: string[]): { hint: string; line: string } | undefined {
  for (const [pattern, hint] of BUILD_FAILURE_HINTS) {
    // eslint-disable-next-line no-control-regex -- build output carries the engine's colour codes
    const line = output.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim()).find((l) => pattern.test(l));
    if (!line) continue;
    const text = typeof hint === 'string' ? hint : hint(pattern.exec(line)!);
    return { hint: text, line: line.length > 300 ? `${line.slice(0, 300)}...` : line };
  }
  return undefined;
}

export class BuildError extends Error {
  /** `ownDockerfile`: the service's own Dockerfile (root-relative), whose FROM line only its author can change. */
  /** `stepOutput`: everything the failing step printed, searched for a known cause (the tail may not show it). */
  constructor(
    readonly serviceId: string,
    readonly step: string | undefined,
    readonly logTail: string[],
    reason: string,
    ownDockerfile?: string,
    stepOutput: string[] = logTail,
  ) {
    // The classic builder fails at `Step 1/9 : FROM ...`, BuildKit at `[internal] load metadata for ...`.
    const baseImageMissing =
      /^(?:Step \d+\/\d+ : FROM |\[internal\] load metadata for |\[[^\]]+\] FROM )/i.test(step ?? '') &&
      /pull access denied|not found|no such host|manifest unknown|repository does not exist/i.test(reason);
    const hint = ownDockerfile
      ? ` (the base image is neither present nor pullable: load it with \`docker load\` or \`docker pull\`, or change the FROM line of ${ownDockerfile})`
      : ' (the base image is neither present nor pullable: load it, or choose one that exists with --base-image <runtime>=<image> or base_image in kyozo.yaml)';
    const cause = baseImageMissing ? undefined : buildFailureHint([...stepOutput, reason]);
    const what = cause ? `. ${cause.hint[0]!.toUpperCase()}${cause.hint.slice(1)} (the build said: ${cause.line})` : '';
    super(`build of ${serviceId} failed${step ? ` at ${step}` : ''}: ${reason}${baseImageMissing ? hint : ''}${what}`);
  }
}

export class ImageUnavailableError extends Error {
  constructor(
    readonly image: string,
    readonly reason: string,
  ) {
    super(
      `image ${image} is not present locally and could not be pulled: ${reason}. ` +
        `Build or load it (\`docker build -t ${image} .\`, \`docker load\`), check the name, or check registry access.`,
    );
  }
}

/**
 * BuildKit when the engine has it: Linux engines from Docker 19.03 (API 1.40; 18.09's first BuildKit is left to the
 * classic builder); Windows engines have the classic builder only.
 */
export function engineHasBuildkit(version: { Os?: string; ApiVersion?: string }): boolean {
  const [major = 0, minor = 0] = (version.ApiVersion ?? '').split('.').map(Number);
  return (version.Os ?? '').toLowerCase() === 'linux' && (major > 1 || (major === 1 && minor >= 40));
}

export interface ImageResult {
  image: string;
  built: boolean;
  durationMs: number;
}

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

export function imageRepository(project: string, service: Service): string {
  return `kyozo-${project}/${service.name}`.toLowerCase();
}

/** Rethrows a missing path as what the user can act on; refusals and other errors pass through. */
function missing<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${what} does not exist; fix the path or create it`, { cause: err });
    }
    throw err;
  }
}

/**
 * The build inputs of a service: context folder (its real path, inside the workspace), Dockerfile text (generated
 * when the folder has none). Everything the engine is sent is checked here, before any tar is made.
 */
export function buildInputs(
  topology: Topology,
  service: Service,
  baseImages: BaseImages,
  builder: Builder = 'classic',
) {
  const contextRel = service.build?.context ?? (service.folder === '.' ? '' : service.folder);
  const written = join(topology.root, contextRel);
  const rel = relative(topology.root, written);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`build context of ${service.id} (${written}) is outside the workspace ${topology.root}`);
  }
  const workspace = new WorkspaceFiles(topology.root);
  const contextLabel = `build context ${contextRel || '.'} of ${service.id}`;
  const contextDir = missing(contextLabel, () => workspace.folder(written, contextLabel));
  if (service.build?.dockerfile) {
    const label = `Dockerfile ${service.build.dockerfile} of ${service.id}`;
    const text = missing(label, () => workspace.readWhole(service.build!.dockerfile!, DEFAULT_MAX_FILE_BYTES, label));
    // Named by its real path: a Dockerfile linked to another file of the context is that file in the tar.
    const inside = relative(contextDir, workspace.resolve(service.build.dockerfile, label));
    if (!inside.startsWith('..') && !isAbsolute(inside)) {
      return { contextDir, dockerfileName: inside.split(sep).join('/'), generated: undefined };
    }
    return { contextDir, dockerfileName: '.kyozo.Dockerfile', generated: text };
  }
  return {
    contextDir,
    dockerfileName: '.kyozo.Dockerfile',
    generated: generateDockerfile(service, baseImages, { builder }),
  };
}

/** The build context of a service as the engine is sent it; its hash names the image. */
export function serviceContext(topology: Topology, service: Service, baseImages: BaseImages, builder: Builder) {
  const inputs = buildInputs(topology, service, baseImages, builder);
  return collectContext(inputs.contextDir, {
    root: topology.root,
    dockerfile: inputs.generated !== undefined ? { name: inputs.dockerfileName, text: inputs.generated } : undefined,
    extraIgnores: service.build?.dockerfile ? [] : [...GENERATED_CONTEXT_IGNORES, ...runtimeContextIgnores(service)],
    // The folder's own Dockerfile gets its .dockerignore, or a default that keeps secrets and .git out.
    defaultIgnores: DEFAULT_DOCKERIGNORE,
    buildArgs: { ...service.build?.args, target: service.build?.target ?? '' },
  });
}

/** The tag of an image built from a context: the first 16 hex digits of its content hash. */
export function contentTag(hash: string): string {
  return hash.slice(0, 16);
}

export async function ensureServiceImage(
  docker: Docker,
  topology: Topology,
  project: string,
  service: Service,
  baseImages: BaseImages,
  onLine: (line: string) => void,
  signal?: AbortSignal,
  builder: Builder = 'classic',
): Promise<ImageResult> {
  const t0 = Date.now();
  if (!service.build && service.image) {
    if (await imageExists(docker, service.image))
      return { image: service.image, built: false, durationMs: Date.now() - t0 };
    onLine(`pulling ${service.image}`);
    await pullImage(docker, service.image, onLine);
    return { image: service.image, built: true, durationMs: Date.now() - t0 };
  }
  // A compose build the analysis refused (its context leaves the workspace) must not fall back to building the
  // compose folder instead, nor fail with a misleading "cannot generate a Dockerfile".
  const refused = topology.problems.find((p) => p.code === 'compose-build-outside' && p.serviceId === service.id);
  if (refused) throw new Error(`not built: ${refused.message}`);
  const ctx = serviceContext(topology, service, baseImages, builder);
  const tag = `${imageRepository(project, service)}:${contentTag(ctx.hash)}`;
  if (await imageExists(docker, tag)) return { image: tag, built: false, durationMs: Date.now() - t0 };
  onLine(`building ${tag}${builder === 'buildkit' ? ' with BuildKit' : ''}`);
  // BuildKit takes the context from the request body as the classic builder does (no client session needed).
  const stream = await docker.buildImage(contextTar(ctx), {
    version: builder === 'buildkit' ? '2' : '1',
    t: tag,
    dockerfile: ctx.dockerfileName,
    buildargs: service.build?.args,
    target: service.build?.target,
    labels: { ...imageLabels(topology, service, ctx.hash), [Label.workspace]: project, [Label.service]: service.id },
    rm: true,
    forcerm: true,
  } as Docker.ImageBuildOptions);
  const lines: string[] = [];
  let step: string | undefined;
  let stepStart = 0;
  const trace = new BuildkitProgress((line) => {
    lines.push(line);
    onLine(line);
  });
  let traceUnreadable = false;
  // The failing step, its output and the last lines shown: from the trace under BuildKit, the stream otherwise.
  const failure = (reason: string) => {
    const own = service.build?.dockerfile;
    const failed = trace.failedStep();
    if (failed) return new BuildError(service.id, failed.name, lines.slice(-50), reason, own, failed.output);
    return new BuildError(
      service.id,
      step ?? trace.currentStep(),
      lines.slice(-50),
      reason,
      own,
      lines.slice(stepStart),
    );
  };
  await new Promise<void>((resolve, reject) => {
    const abort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new Error(`build of ${service.id} interrupted`));
    };
    signal?.addEventListener('abort', abort, { once: true });
    docker.modem.followProgress(
      stream,
      (err) => {
        signal?.removeEventListener('abort', abort);
        if (err) reject(failure(err.message));
        else resolve();
      },
      (event: { id?: string; aux?: unknown; stream?: string; error?: string; errorDetail?: { message?: string } }) => {
        if (isTraceEvent(event)) {
          try {
            trace.update(decodeTrace(event.aux));
          } catch (e) {
            // Progress only: the build goes on, and its result and errors still arrive as JSON.
            if (!traceUnreadable) onLine((e as Error).message);
            traceUnreadable = true;
          }
        }
        if (event.stream) {
          for (const raw of event.stream.split('\n')) {
            const line = raw.trimEnd();
            if (!line) continue;
            if (/^Step \d+\/\d+ :/.test(line)) {
              step = line;
              stepStart = lines.length;
            }
            lines.push(line);
            onLine(line);
          }
        }
        if (event.error) {
          lines.push(event.error.trimEnd());
          reject(failure(event.errorDetail?.message ?? event.error));
        }
      },
    );
  });
  if (!(await imageExists(docker, tag))) throw failure('the engine reported no error but produced no image');
  return { image: tag, built: true, durationMs: Date.now() - t0 };
}

export async function pullImage(
  docker: Docker,
  image: string,
  onLine: (line: string) => void,
  timeoutMs = 120_000,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new ImageUnavailableError(image, `no progress within ${timeoutMs / 1000} s (registry unreachable?)`)),
      timeoutMs,
    );
    docker.pull(image, {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
      if (err || !stream) {
        clearTimeout(timer);
        reject(
          new ImageUnavailableError(
            image,
            (err?.message ?? 'no response').replace(/^\(HTTP code \d+\) [a-z ]+ - /, ''),
          ),
        );
        return;
      }
      docker.modem.followProgress(
        stream,
        (e: Error | null) => {
          clearTimeout(timer);
          if (e) reject(new ImageUnavailableError(image, e.message));
          else resolve();
        },
        (ev: { status?: string; error?: string }) => {
          if (ev.error) {
            clearTimeout(timer);
            reject(new ImageUnavailableError(image, ev.error));
          } else if (ev.status) onLine(ev.status);
        },
      );
    });
  });
}
