// The replica counts a scale accepts, checked once for the CLI, the language server, the extension's input box
// and the orchestrator itself. Pure (no Node.js imports) so the extension can bundle it.

/** More replicas than this on one engine is almost always a typo, and each one holds host ports. */
export const MAX_REPLICAS = 50;

export class InvalidReplicasError extends Error {}

/** Why `value` is not a replica count (to show as typed), or undefined when it is one. */
export function replicaCountProblem(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value.trim() : undefined;
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_REPLICAS) return undefined;
  return `replicas must be a whole number from 0 to ${MAX_REPLICAS}, got "${String(value)}"`;
}

/** The replica count in `value` (a number or its digits); `what` names the scale in the error. */
export function validateReplicas(value: unknown, what?: string): number {
  const problem = replicaCountProblem(value);
  if (problem) throw new InvalidReplicasError(what ? `${what}: ${problem}.` : `${problem}.`);
  return typeof value === 'string' ? Number(value.trim()) : (value as number);
}
