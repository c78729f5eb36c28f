// "Set Autoscaling" writes a service's kyozo.yaml `scaling` block: the YAML document is edited in place (the yaml
// library keeps the user's comments, key order and other keys), not regenerated.
import { isMap, parseDocument } from 'yaml';
import { scalingProblem, type Scaling } from '../../protocol';

export class ScalingManifestError extends Error {}

/** `text` (a kyozo.yaml, or undefined for none yet) with its `scaling` set to `scaling`, or removed with null. */
export function withScaling(text: string | undefined, scaling: Scaling | null, file = 'kyozo.yaml'): string {
  if (scaling) {
    const problem = scalingProblem(scaling);
    if (problem) throw new ScalingManifestError(`${file}: ${problem}`);
  }
  const doc = parseDocument(text ?? '');
  if (doc.errors.length)
    throw new ScalingManifestError(
      `${file} is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix it, then retry`,
    );
  if (doc.contents !== null && !isMap(doc.contents))
    throw new ScalingManifestError(`${file} is not a mapping of keys; its scaling cannot be set`);
  if (!scaling) {
    doc.delete('scaling');
    return doc.toString();
  }
  const block: Record<string, number | string> = { min: scaling.min, max: scaling.max, target_cpu: scaling.targetCpu };
  if (scaling.cooldownSeconds !== undefined) block.cooldown = `${scaling.cooldownSeconds}s`;
  doc.set('scaling', doc.createNode(block));
  return doc.toString();
}
