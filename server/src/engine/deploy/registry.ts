// The workspace's container registry: images tagged `<registry>/<project>/<service>:<content hash>`, pushed with
// progress and pulled instead of built. Credentials are the user's Docker ones (~/.docker/config.json, its credential
// helpers); Kyozo keeps none, and they never reach a log, an event or an error message.
import type Docker from 'dockerode';
import type { Service, Topology } from '../../protocol';
import type { Builder } from './builder';
import { dockerCredentials, registryHost } from './registry-credentials';
import type { BaseImages } from './dockerfile-generator';
import { contentTag, ensureServiceImage, serviceContext } from './image-builder';
import { projectName } from './labels';
import { deployable } from './service-selection';

export class RegistryError extends Error {}

/** A registry reference as typed in kyozo.yaml, `--registry` or the setting: host[:port][/path], no scheme. */
export function parseRegistry(text: string | undefined, where: string): string | undefined {
  const value = text?.trim().replace(/\/+$/, '');
  if (!value) return undefined;
  const bare = value.replace(/^https?:\/\//, '');
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9._-]+)*$/.test(bare))
    throw new RegistryError(
      `${where} expects a registry such as registry.example.com or 127.0.0.1:5000/team (lowercase, no tag); got '${text}'`,
    );
  return bare;
}

/** Services with an image of their own to push: built from a folder (image-only services run someone else's). */
export function pushable(service: Service): boolean {
  return deployable(service) && Boolean(service.build || !service.image);
}

export function registryRepository(registry: string, project: string, service: Service): string {
  return `${registry}/${projectName(project)}/${service.name}`.toLowerCase();
}

export interface RegistryContext {
  docker: Docker;
  registry: string;
  /** The workspace's own project (environments share it): the middle part of every reference. */
  project: string;
  baseImages: BaseImages;
  builder: Builder;
}

/**
 * The reference a service's current content has in the registry (computed from the folder, nothing built, no engine
 * needed: `kyozo k8s` names images with it too).
 */
export function registryReference(ctx: Omit<RegistryContext, 'docker'>, topology: Topology, service: Service): string {
  const hash = serviceContext(topology, service, ctx.baseImages, ctx.builder).hash;
  return `${registryRepository(ctx.registry, ctx.project, service)}:${contentTag(hash)}`;
}

export interface PushProgress {
  serviceId: string;
  state: 'building' | 'pushing' | 'pushed' | 'error';
  message?: string;
  /** Bytes sent of the layers being pushed, when the engine says. */
  current?: number;
  total?: number;
}

export interface PushResult {
  serviceId: string;
  reference: string;
  digest: string;
  built: boolean;
}

/** The engine's push or pull error as what to do: wrong credentials, no registry there, or the registry's refusal. */
export function registryFailure(action: 'push' | 'pull', ref: string, message: string): RegistryError {
  const host = registryHost(ref);
  const said = message.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
  // Unreachable first: an address's port may contain 401 or 403, and the engine's dial errors name the address.
  if (
    /connection refused|no such host|i\/o timeout|dial tcp|server gave HTTP response|\bEOF\b|network is unreachable/i.test(
      said,
    )
  )
    return new RegistryError(
      `${action} of ${ref} failed: the registry ${host} cannot be reached (${said}); check the address and that it runs`,
    );
  if (
    /unauthorized|authentication required|no basic auth credentials|denied|\b40[13] (?:Unauthorized|Forbidden)\b/i.test(
      said,
    )
  )
    return new RegistryError(
      `${action} of ${ref} was refused by ${host}: ${said}. Check the credentials for ${host} (docker login ${host}; ` +
        'Kyozo uses those of ~/.docker/config.json and its credential helpers)',
    );
  if (/manifest unknown|not found/i.test(said) && action === 'pull')
    return new RegistryError(
      `${ref} is not in the registry (${said}); push it first (kyozo push) or deploy by building (without --from-registry)`,
    );
  return new RegistryError(`${action} of ${ref} failed: ${said}`);
}

type StreamEvent = {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
};

function follow(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (e: StreamEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err || failed ? reject(new Error(failed ?? err!.message)) : resolve()),
      (e: StreamEvent) => {
        if (e.error) failed ??= e.errorDetail?.message ?? e.error;
        else onEvent(e);
      },
    );
  });
}

/** Builds (when its content changed) and pushes each service; the digest the registry answered, per service. */
export async function pushServices(
  ctx: RegistryContext,
  topology: Topology,
  services: Service[],
  onProgress: (p: PushProgress) => void = () => undefined,
  signal?: AbortSignal,
): Promise<PushResult[]> {
  const auth = dockerCredentials(ctx.registry);
  const out: PushResult[] = [];
  for (const service of services) {
    if (signal?.aborted) throw new Error('interrupted');
    onProgress({ serviceId: service.id, state: 'building' });
    const img = await ensureServiceImage(
      ctx.docker,
      topology,
      ctx.project,
      service,
      ctx.baseImages,
      (line) => onProgress({ serviceId: service.id, state: 'building', message: line }),
      signal,
      ctx.builder,
    );
    const tag = img.image.slice(img.image.lastIndexOf(':') + 1);
    const repo = registryRepository(ctx.registry, ctx.project, service);
    const reference = `${repo}:${tag}`;
    await ctx.docker.getImage(img.image).tag({ repo, tag });
    onProgress({ serviceId: service.id, state: 'pushing', message: reference });
    let digest: string | undefined;
    const layers = new Map<string, { current: number; total: number }>();
    try {
      const stream = (await ctx.docker
        .getImage(repo)
        .push({ tag, authconfig: auth ?? {}, abortSignal: signal } as never)) as unknown as NodeJS.ReadableStream;
      await follow(ctx.docker, stream, (e) => {
        if (e.aux?.Digest) digest = e.aux.Digest;
        if (e.id && e.progressDetail?.total)
          layers.set(e.id, { current: e.progressDetail.current ?? 0, total: e.progressDetail.total });
        const current = [...layers.values()].reduce((n, l) => n + l.current, 0);
        const total = [...layers.values()].reduce((n, l) => n + l.total, 0);
        if (e.status)
          onProgress({
            serviceId: service.id,
            state: 'pushing',
            message: e.id ? `${e.id}: ${e.status}` : e.status,
            ...(total ? { current, total } : {}),
          });
      });
    } catch (err) {
      const failure = registryFailure('push', reference, (err as Error).message);
      onProgress({ serviceId: service.id, state: 'error', message: failure.message });
      throw failure;
    }
    if (!digest) throw new RegistryError(`push of ${reference} ended without a digest from ${registryHost(reference)}`);
    onProgress({ serviceId: service.id, state: 'pushed', message: `${reference}@${digest}` });
    out.push({ serviceId: service.id, reference, digest, built: img.built });
  }
  return out;
}

/** Pulls one reference (tag or digest) with the user's credentials; returns the local image id. */
export async function pullReference(
  docker: Docker,
  reference: string,
  onLine: (line: string) => void = () => undefined,
): Promise<string> {
  const auth = dockerCredentials(registryHost(reference));
  try {
    const stream = (await docker.pull(reference, { authconfig: auth ?? {} })) as NodeJS.ReadableStream;
    await follow(docker, stream, (e) => {
      if (e.status) onLine(e.id ? `${e.id}: ${e.status}` : e.status);
    });
  } catch (err) {
    throw registryFailure('pull', reference, (err as Error).message);
  }
  return (await docker.getImage(reference).inspect()).Id;
}

/**
 * Pulls what `up --from-registry` runs: per service, the registry image of its folder's current content. Every pull
 * happens before anything is started or removed, so a refused or unreachable registry leaves running services as
 * they were. Returns image ids by service id, for `up`'s `images`.
 */
export async function pullServices(
  ctx: RegistryContext,
  topology: Topology,
  services: Service[],
  onLine: (serviceId: string, line: string) => void = () => undefined,
): Promise<Record<string, string>> {
  const images: Record<string, string> = {};
  for (const service of services) {
    if (!pushable(service)) continue;
    const reference = registryReference(ctx, topology, service);
    images[service.id] = await pullReference(ctx.docker, reference, (line) => onLine(service.id, line));
  }
  return images;
}

export interface RegistryImage {
  serviceId: string;
  /** The local image of the folder's current content, when built. */
  localImage?: string;
  /** The reference it has (or would have) in the registry. */
  reference: string;
  /** The digest the registry gave it, when it was pushed (or pulled) from this engine. */
  digest?: string;
}

/** Per service: its local image, registry tag and digest, read from the engine (for the Services view's Registry). */
export async function registryImages(ctx: RegistryContext, topology: Topology): Promise<RegistryImage[]> {
  const out: RegistryImage[] = [];
  for (const service of topology.services.filter(pushable)) {
    let reference: string;
    try {
      reference = registryReference(ctx, topology, service);
    } catch {
      continue; // a folder that cannot be read has no image to show
    }
    const info = await ctx.docker
      .getImage(reference)
      .inspect()
      .catch(() => undefined);
    const repo = reference.slice(0, reference.lastIndexOf(':'));
    const digest = info?.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1);
    out.push({ serviceId: service.id, localImage: info?.Id, reference, digest });
  }
  return out;
}
