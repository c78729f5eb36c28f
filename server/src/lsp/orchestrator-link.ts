// The one place the language server reaches the deploy engine: the orchestrator factory, the Dockerfile generator
// and the deploy use cases' pure parts (replica counts, progress text).
import type { Orchestrator, OrchestratorOptions } from '../engine';
import { createOrchestrator as createDockerOrchestrator } from '../engine/deploy';
export { describeProgress, generateDockerfile, replicaCountProblem, validateReplicas } from '../engine';

export type OrchestratorFactory = (options: OrchestratorOptions) => Orchestrator;

export const createOrchestrator: OrchestratorFactory = (options) => createDockerOrchestrator(options);
