// `promote staging production`: production runs exactly the images staging runs (the engine's image ids, with their
// registry digests when they have one), never a rebuild; staging must be healthy first. The deployment is recorded in
// the target environment's events, naming both environments and the images moved; the source's log records it too.
import type { ServiceStatus, Topology } from '../../protocol';
import type { DockerOrchestrator } from './docker-orchestrator';
import { applyEnvironment, EnvironmentError, type WorkspaceConfig } from './environments';
import { Label } from './labels';
import type { DeployProgress } from './orchestrator';
import { selectServices } from './service-selection';
import { workspaceContainers } from './workspace';

export class PromotionError extends Error {}

export interface PromotedImage {
  serviceId: string;
  image: string;
  /** `<repository>@sha256:...` when the image came from (or went to) a registry. */
  digest?: string;
}

export interface PromotionResult {
  from: string;
  to: string;
  images: PromotedImage[];
  statuses: ServiceStatus[];
}

export interface PromoteOptions {
  services?: string[];
  onProgress?: (p: DeployProgress) => void;
  signal?: AbortSignal;
}

/** Why a source service cannot be promoted, or undefined when it runs healthy. */
function unhealthy(s: ServiceStatus): string | undefined {
  if (s.state === 'not-deployed') return `${s.name} is not deployed`;
  if (s.state !== 'running') return `${s.name} is ${s.state}${s.message ? ` (${s.message.split('\n')[0]})` : ''}`;
  if (s.health === 'unhealthy' || s.health === 'starting') return `${s.name} is ${s.health}`;
  if (s.replicas.running < s.replicas.desired) return `${s.name} runs ${s.replicas.running}/${s.replicas.desired}`;
  return undefined;
}

export async function promote(
  orchestrator: DockerOrchestrator,
  topology: Topology,
  config: WorkspaceConfig,
  from: string,
  to: string,
  options: PromoteOptions = {},
): Promise<PromotionResult> {
  if (from === to) throw new EnvironmentError(`promote needs two different environments; got ${from} twice`);
  const source = applyEnvironment(topology, config, from);
  const target = applyEnvironment(topology, config, to);
  const statuses = await orchestrator.status(source, { stats: false });
  const deployed = statuses.filter((s) => s.state !== 'not-deployed').map((s) => s.serviceId);
  const wanted = options.services?.length ? options.services : deployed;
  if (!wanted.length) throw new PromotionError(`${from} runs no services; deploy it first (kyozo up --env ${from})`);
  // Dependencies go along: production must not build what staging ran from an image.
  const selected = selectServices(source, wanted);
  const problems = selected.map((s) => unhealthy(statuses.find((x) => x.serviceId === s.id)!)).filter(Boolean);
  if (problems.length)
    throw new PromotionError(
      `${from} is not healthy, so nothing was promoted to ${to}: ${problems.join('; ')}. ` +
        `Fix ${from} (kyozo ps --env ${from}) or promote only healthy services`,
    );
  const ws = orchestrator.workspace(source);
  const containers = await workspaceContainers(orchestrator.docker, ws);
  const images: PromotedImage[] = [];
  for (const service of selected) {
    const ids = new Set(containers.filter((c) => c.Labels[Label.service] === service.id).map((c) => c.ImageID));
    if (ids.size !== 1)
      throw new PromotionError(
        `${service.name} in ${from} runs ${ids.size} different images (a deployment in progress?); promote once it settles`,
      );
    const image = [...ids][0]!;
    const info = await orchestrator.docker.getImage(image).inspect();
    images.push({ serviceId: service.id, image, digest: info.RepoDigests?.[0] });
  }
  const promotion = { from, to, images: Object.fromEntries(images.map((i) => [i.serviceId, i.digest ?? i.image])) };
  const result = await orchestrator.up(target, {
    services: selected.map((s) => s.id),
    images: Object.fromEntries(images.map((i) => [i.serviceId, i.image])),
    details: { promotion },
    message: `promoted from ${from} to ${to}`,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  ws.events.append('deployment_completed', {
    message: `promoted to ${to}`,
    details: { promotion, services: selected.map((s) => s.id) },
  });
  return { from, to, images, statuses: result };
}
