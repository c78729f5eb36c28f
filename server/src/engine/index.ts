// The engine's public surface: everything outside server/src/engine imports from here.
export { createAnalyzer, analyze, AnalyzeInputError } from './analyzer';
export type { Analyzer, AnalyzerOptions, UpdateResult } from './analyzer';
export { DEFAULT_IGNORED_DIRS, DEFAULT_MAX_FILE_BYTES } from './scan/default-ignores';
export { WorkspaceFileError, WorkspaceFiles, utf8 } from './scan/workspace-files';
// The deploy stage's pure parts; the orchestrator itself (dockerode) is imported from './deploy' by the commands that
// deploy, so `kyozo analyze` and the analysis worker do not load the Docker client.
export type * from './deploy/orchestrator';
export {
  generateDockerfile,
  BASE_IMAGE_KEYS,
  DEFAULT_BASE_IMAGES,
  DEFAULT_RUN_IMAGES,
  isBaseImageKey,
  runtimeOf,
} from './deploy/dockerfile-generator';
export type { BaseImages } from './deploy/dockerfile-generator';
export { ServiceIndex, UnknownServiceError } from './deploy/service-index';
export { InvalidReplicasError, MAX_REPLICAS, replicaCountProblem, validateReplicas } from './deploy/replica-count';
export { describeProgress } from './deploy/deploy-progress';
export { ScalingManifestError, withScaling } from './deploy/scaling-manifest';
export { EnvironmentError, readWorkspaceConfig, topologyFor } from './deploy/environments';
export { parseRegistry, pushable, registryReference } from './deploy/registry';
export type { Builder } from './deploy/builder';
export { exportCompose, writeComposeExport } from './compose/compose-export';
export { exportKubernetes, KubernetesExportError, writeKubernetesExport } from './k8s';
export type { KubernetesExport, KubernetesExportOptions, KubernetesFile } from './k8s';
export { explain, formatExplanation } from './context/explain';
export { AgentInputError, compactTopology, findInWorkspace } from './context/agent-queries';
export type { FindQuery } from './context/agent-queries';
export { parseDockerfile } from './detect/dockerfile';
export { closest } from './detect/service-names';
export { stronglyConnected } from './topology/strongly-connected';
export { describeFolder, FolderDescriber, FolderNotFoundError } from './context/folder-describer';
export type { RedescribeResult } from './context/folder-describer';
export { FOLDER_PURPOSES } from './context/folder-description';
export type * from './context/folder-description';
export { DEFAULT_MAP_BUDGET, repoMap } from './context/repo-map';
export type { RepoMap, RepoMapOptions } from './context/repo-map';
