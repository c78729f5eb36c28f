// The deploy stage's public surface: the CLI and the language server import only from here.
import { DockerOrchestrator } from './docker-orchestrator';
import type { Orchestrator, OrchestratorOptions } from './orchestrator';

export type * from './orchestrator';
export {
  generateDockerfile,
  BASE_IMAGE_KEYS,
  DEFAULT_BASE_IMAGES,
  DEFAULT_RUN_IMAGES,
  isBaseImageKey,
  runtimeOf,
} from './dockerfile-generator';
export type { BaseImages } from './dockerfile-generator';
export { BUILDER_CHOICES, parseBuilderChoice } from './builder';
export type { Builder, BuilderChoice } from './builder';
export {
  DockerOrchestrator,
  DeploymentError,
  ServiceFailure,
  deployable,
  findService,
  selectServices,
} from './docker-orchestrator';
export { EngineUnreachableError, engineAddress } from './docker-client';
export { ServiceIndex, UnknownServiceError } from './service-index';
export { InvalidReplicasError, MAX_REPLICAS, replicaCountProblem, validateReplicas } from './replica-count';
export { describeProgress } from './deploy-progress';
export { SwarmDeployer, SwarmUnavailableError } from './swarm';
export type { SwarmOptions, SwarmUpOptions } from './swarm';
export { BuildError, ImageUnavailableError } from './image-builder';
export { Autoscaler, decideScale, policyOf } from './autoscaler';
export type { AutoscalerOptions, ScaleDecision, ScalingPolicy } from './autoscaler';
export { DEFAULT_GATEWAY_IMAGE, GatewayError } from './gateway';

export function createOrchestrator(options: OrchestratorOptions = {}): Orchestrator & DockerOrchestrator {
  return new DockerOrchestrator(options);
}
export {
  applyEnvironment,
  environmentNames,
  EnvironmentError,
  unknownEnvironment,
  needsConfirmation,
  readWorkspaceConfig,
  storeReferences,
  topologyFor,
  workspaceConfigName,
} from './environments';
export type { WorkspaceConfig } from './environments';
export {
  parseRegistry,
  pullServices,
  pushable,
  pushServices,
  registryImages,
  registryReference,
  RegistryError,
} from './registry';
export type { PushProgress, PushResult, RegistryContext, RegistryImage } from './registry';
export { promote, PromotionError } from './promote';
export {
  eraseSecret,
  listStoredSecrets,
  readStoredSecret,
  SecretStoreError,
  secretStoreHelper,
  storeSecret,
} from './secret-store';
export type { PromotionResult } from './promote';
export { ImageLabel, KYOZO_VERSION } from './image-labels';
