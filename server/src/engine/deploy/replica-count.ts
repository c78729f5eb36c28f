// The replica counts a scale accepts, checked once for the CLI, the language server, the extension's input box
// and the orchestrator itself. The rule is part of the scale command's contract, so it lives in the protocol, where
// the extension (which must not import the engine) reads it too.
import { replicaCountProblem } from '../../protocol';

export { MAX_REPLICAS, replicaCountProblem } from '../../protocol';

export class InvalidReplicasError extends Error {}

/** The replica count in `value` (a number or its digits); `what` names the scale in the error. */
export function validateReplicas(value: unknown, what?: string): number {
  const problem = replicaCountProblem(value);
  if (problem) throw new InvalidReplicasError(what ? `${what}: ${problem}.` : `${problem}.`);
  return typeof value === 'string' ? Number(value.trim()) : (value as number);
}
