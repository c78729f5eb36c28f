// The one place the language server reaches the deploy engine: the orchestrator factory and the Dockerfile generator.
import type { Orchestrator, OrchestratorOptions } from '../engine/deploy/orchestrator';
export { generateDockerfile } from '../engine/deploy/dockerfile-generator';

export type OrchestratorFactory = (options: OrchestratorOptions) => Orchestrator;

/** Undefined until the deploy engine exports `createOrchestrator`; deploy commands then explain that clearly. */
export const createOrchestrator: OrchestratorFactory | undefined = undefined;
