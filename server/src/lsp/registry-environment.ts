// The active environment (`kyozo.environment`) and the registry (`kyozo.registry`, else the root kyozo.yaml's) for the
// language server's deploy commands: the engine does the work (environments.ts, registry.ts); this maps settings in
// and plain results out.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DockerOrchestrator,
  environmentNames,
  needsConfirmation,
  parseRegistry,
  pushable,
  pushServices,
  readStoredSecret,
  readWorkspaceConfig,
  registryImages,
  SecretStoreError,
  secretStoreHelper,
  storeReferences,
  storeSecret,
  topologyFor,
  unknownEnvironment,
  workspaceConfigName,
  type Orchestrator,
  type PushProgress,
  type RegistryContext,
} from '../engine/deploy';
import type {
  EnvironmentInfo,
  KyozoSettings,
  PushedImage,
  RegistryImageInfo,
  StoreSecretsListing,
  Topology,
} from '../protocol';
import { openSealed } from './sealed-secrets';
import { serviceById } from './service-lookup';

/** The topology commands act on: the active environment's, or the workspace's own when none is set. Throws. */
export function activeTopology(topology: Topology, settings: KyozoSettings): Topology {
  return topologyFor(topology, settings.environment?.trim() || undefined);
}

/**
 * What the active environment's topology depends on besides the analysis: the kyozo.environment setting and the
 * root kyozo.yaml (its name, modification time and size). Equal keys, same topology, secrets apart.
 */
export function environmentKey(root: string, settings: KyozoSettings): string {
  const file = workspaceConfigName(root);
  const st = file ? statSync(join(root, file), { throwIfNoEntry: false }) : undefined;
  return JSON.stringify([settings.environment?.trim() ?? '', file, st?.mtimeMs, st?.size]);
}

export function environmentInfo(topology: Topology, settings: KyozoSettings): EnvironmentInfo {
  const active = settings.environment?.trim() || undefined;
  try {
    const config = readWorkspaceConfig(topology.root);
    const info: EnvironmentInfo = {
      active,
      environments: environmentNames(config),
      confirm: active ? needsConfirmation(config, active) : false,
      registry: registryFor(topology, settings),
    };
    if (active) activeTopology(topology, settings); // says now, not at the first deploy, what is wrong with it
    return info;
  } catch (e) {
    return { active, environments: [], confirm: active === 'production', error: (e as Error).message };
  }
}

function registryFor(topology: Topology, settings: KyozoSettings): string | undefined {
  return (
    parseRegistry(settings.registry, 'the kyozo.registry setting') ??
    parseRegistry(readWorkspaceConfig(topology.root).registry, 'registry: in kyozo.yaml')
  );
}

async function context(o: Orchestrator, topology: Topology, settings: KyozoSettings): Promise<RegistryContext> {
  if (!(o instanceof DockerOrchestrator)) throw new Error('pushing needs the Docker orchestrator');
  const registry = registryFor(topology, settings);
  if (!registry)
    throw new Error(
      'no registry is set: set kyozo.registry (e.g. registry.example.com/team), or add registry: to the kyozo.yaml at ' +
        'the workspace root',
    );
  return {
    docker: o.docker,
    registry,
    project: o.workspace(topology).imageProject,
    baseImages: settings.baseImages,
    builder: await o.builder(),
  };
}

/** Builds what changed and pushes one service, or every service Kyozo builds; the pushed references and digests. */
export async function pushFromServer(
  o: Orchestrator,
  topology: Topology,
  settings: KyozoSettings,
  serviceId: string | undefined,
  report: (p: PushProgress) => void,
  signal: AbortSignal,
): Promise<PushedImage[]> {
  const ctx = await context(o, topology, settings);
  const services = serviceId ? [serviceById(topology, serviceId)!] : topology.services.filter(pushable);
  const refused = services.filter((s) => !pushable(s));
  if (refused.length)
    throw new Error(`${refused[0]!.name} runs the image ${refused[0]!.image}; Kyozo builds nothing for it`);
  const results = await pushServices(ctx, topology, services, report, signal);
  return results.map(({ serviceId: id, reference, digest }) => ({ serviceId: id, reference, digest }));
}

export async function registryImagesFromServer(
  o: Orchestrator,
  topology: Topology,
  settings: KyozoSettings,
): Promise<RegistryImageInfo[]> {
  const ctx = await context(o, topology, settings);
  return registryImages(ctx, topology);
}

/** The secret-store entries the root kyozo.yaml names, each with whether the store holds it (never its value). */
export function storeSecretsInfo(root: string): StoreSecretsListing {
  const refs = storeReferences(readWorkspaceConfig(root));
  let store: string | undefined;
  try {
    store = refs.length ? secretStoreHelper() : undefined;
    const secrets = refs.map((r) => ({ ...r, stored: readStoredSecret(root, r.environment, r.name) !== undefined }));
    return { store, secrets };
  } catch (e) {
    const secrets = refs.map((r) => ({ ...r, stored: false }));
    const unusable = e instanceof SecretStoreError && e.unusable;
    return { store, secrets, error: (e as Error).message, ...(unusable ? { unusable } : {}) };
  }
}

/**
 * Stores a secret of one of the root kyozo.yaml's environments; the value arrives sealed (sealed-secrets.ts) and goes
 * to the store's helper only.
 */
export function setStoreSecret(
  root: string,
  environment: unknown,
  name: unknown,
  sealed: unknown,
): { environment: string; name: string; store: string } {
  if (typeof environment !== 'string' || typeof name !== 'string')
    throw new Error('setSecret takes the environment, the name and the sealed value');
  const config = readWorkspaceConfig(root);
  if (!config.environments[environment]) throw unknownEnvironment(config, environment);
  storeSecret(root, environment, name, openSealed(sealed));
  return { environment, name, store: secretStoreHelper() };
}
