// The one place the language server reaches the deploy engine: the orchestrator factory and the Dockerfile generator.
import type { Orchestrator, OrchestratorOptions } from '../engine/deploy';
import { createOrchestrator as createDockerOrchestrator } from '../engine/deploy';
export { generateDockerfile } from '../engine/deploy';

export type OrchestratorFactory = (options: OrchestratorOptions) => Orchestrator;

export const createOrchestrator: OrchestratorFactory = (options) => createDockerOrchestrator(options);
