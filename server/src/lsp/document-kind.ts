// Which Kyozo-relevant kind of file a path is, from its name alone.
import { posix } from 'node:path';

export type DocumentKind =
  | 'compose'
  | 'dockerfile'
  | 'package-json'
  | 'requirements'
  | 'pyproject'
  | 'go-mod'
  | 'cargo'
  | 'nginx'
  | 'kyozo-yaml'
  | 'procfile'
  | 'dotenv'
  | 'other';

export function documentKind(relPath: string): DocumentKind {
  const base = posix.basename(relPath);
  const lower = base.toLowerCase();
  if (/^(docker-)?compose(\.[\w-]+)*\.ya?ml$/.test(lower)) return 'compose';
  if (lower === 'dockerfile' || lower.startsWith('dockerfile.') || lower.endsWith('.dockerfile')) return 'dockerfile';
  if (lower === 'package.json') return 'package-json';
  if (/^requirements([-.\w]*)\.txt$/.test(lower)) return 'requirements';
  if (lower === 'pyproject.toml') return 'pyproject';
  if (lower === 'go.mod') return 'go-mod';
  if (lower === 'cargo.toml') return 'cargo';
  if (lower === 'nginx.conf' || (lower.endsWith('.conf') && relPath.includes('nginx'))) return 'nginx';
  if (lower === 'kyozo.yaml' || lower === 'kyozo.yml') return 'kyozo-yaml';
  if (lower === 'procfile') return 'procfile';
  if (lower === '.env' || lower.startsWith('.env.')) return 'dotenv';
  return 'other';
}

/** Files whose hover and CodeLens describe the service of their folder. */
export function isIndicatorKind(kind: DocumentKind): boolean {
  return kind !== 'other' && kind !== 'dotenv';
}
