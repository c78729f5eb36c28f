// Writes a Kubernetes export into a folder: only files Kyozo wrote before are replaced (or removed when their service
// is gone), unless `force` is given; nothing is written when any file would be refused.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_MARK, KubernetesExportError, type KubernetesExport } from './k8s-export';

export interface KubernetesWriteResult {
  written: string[];
  /** Files of an earlier export whose service is no longer in the topology. */
  removed: string[];
}

function ours(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').startsWith(GENERATED_MARK);
  } catch {
    return false;
  }
}

export function writeKubernetesExport(
  out: KubernetesExport,
  dir: string,
  options: { force?: boolean } = {},
): KubernetesWriteResult {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new KubernetesExportError(`${dir} is a file, not a folder; give -o a folder to write the manifests into`);
  const refused = out.files
    .map((f) => join(dir, f.name))
    .filter((path) => existsSync(path) && (statSync(path).isDirectory() || !ours(path)));
  if (refused.length && !options.force)
    throw new KubernetesExportError(
      `not overwriting ${refused.join(', ')}: Kyozo did not write ${refused.length === 1 ? 'it' : 'them'}; move ${refused.length === 1 ? 'it' : 'them'} away, choose another folder, or pass --force`,
    );
  mkdirSync(dir, { recursive: true });
  const names = new Set(out.files.map((f) => f.name));
  const removed: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (names.has(name) || !/\.ya?ml$/.test(name) || !statSync(path).isFile() || !ours(path)) continue;
    unlinkSync(path);
    removed.push(path);
  }
  const written = out.files.map((f) => {
    const path = join(dir, f.name);
    writeFileSync(path, f.yaml);
    return path;
  });
  return { written, removed };
}
