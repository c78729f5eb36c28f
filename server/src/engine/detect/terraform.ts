// Terraform: a folder of .tf files is infrastructure, shown with its providers and never deployed as a service.
import { ev } from '../parse/evidence';
import type { Finding, FolderView } from './types';

export function detectTerraform(folder: FolderView): Finding | undefined {
  const tf = folder.files.filter((f) => f.endsWith('.tf') && folder.has(f));
  if (tf.length === 0) return undefined;
  const providers = new Set<string>();
  let resources = 0;
  for (const f of tf) {
    const text = folder.read(f) ?? '';
    for (const m of text.matchAll(/^\s*provider\s+"([\w-]+)"/gm)) providers.add(m[1]);
    for (const m of text.matchAll(/^\s*resource\s+"([\w]+?)_/gm)) providers.add(m[1]);
    resources += (text.match(/^\s*resource\s+"/gm) ?? []).length;
  }
  return {
    detector: 'terraform',
    type: 'infrastructure',
    rank: 2,
    language: 'hcl',
    frameworks: ['terraform'],
    confidence: 0.8,
    runnable: false,
    evidence: [
      ev(
        folder.rel(tf[0]),
        `Terraform configuration: ${resources} resources${providers.size ? ` (${[...providers].join(', ')})` : ''}`,
      ),
    ],
    indicators: tf.map((f) => folder.rel(f)),
  };
}
