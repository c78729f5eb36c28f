// The OCI annotations every image Kyozo builds carries (https://github.com/opencontainers/image-spec, annotations.md),
// so an image pulled from a registry says which folder, which content and which commit it was built from, and by
// which Kyozo. Only these: nothing of the environment or its secrets is ever written into an image.
import { execFileSync } from 'node:child_process';
import type { Service, Topology } from '../../protocol';
import { version } from '../../../../package.json';

export const ImageLabel = {
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  title: 'org.opencontainers.image.title',
  contentHash: 'dev.kyozo.content-hash',
  kyozoVersion: 'dev.kyozo.version',
} as const;

export const KYOZO_VERSION: string = version;

const commits = new Map<string, string | undefined>();

/** The workspace's git commit (HEAD), when it is a git repository with one; asked once per root and process. */
export function gitCommit(root: string): string | undefined {
  if (!commits.has(root)) {
    let commit: string | undefined;
    try {
      commit = execFileSync('git', ['-C', root, 'rev-parse', '--verify', '-q', 'HEAD'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim();
    } catch {
      commit = undefined; // not a repository, no commit yet, or no git: the label is left out
    }
    commits.set(root, /^[0-9a-f]{40,64}$/.test(commit ?? '') ? commit : undefined);
  }
  return commits.get(root);
}

export function imageLabels(topology: Topology, service: Service, contentHash: string): Record<string, string> {
  const commit = gitCommit(topology.root);
  return {
    [ImageLabel.source]: service.folder,
    [ImageLabel.title]: service.name,
    [ImageLabel.contentHash]: contentHash,
    [ImageLabel.kyozoVersion]: KYOZO_VERSION,
    ...(commit ? { [ImageLabel.revision]: commit } : {}),
  };
}
