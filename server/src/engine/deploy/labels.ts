// Labels on every container and network Kyozo creates: ours (dev.kyozo.*) to rebuild state from the
// engine, and the compose ones so `docker-compose -p <project> ps` (v1 and v2) lists the same containers.
import { createHash } from 'node:crypto';

export const Label = {
  workspace: 'dev.kyozo.workspace',
  root: 'dev.kyozo.root',
  service: 'dev.kyozo.service',
  folder: 'dev.kyozo.folder',
  replica: 'dev.kyozo.replica',
  deployment: 'dev.kyozo.deployment',
  probe: 'dev.kyozo.probe',
  /** On a load-balancing gateway (gateway.ts): the id of the service it fronts. Replicas carry `service` instead. */
  gateway: 'dev.kyozo.gateway',
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
  composeNumber: 'com.docker.compose.container-number',
  composeOneoff: 'com.docker.compose.oneoff',
  composeConfigHash: 'com.docker.compose.config-hash',
  composeVersion: 'com.docker.compose.version',
  composeWorkingDir: 'com.docker.compose.project.working_dir',
  composeNetwork: 'com.docker.compose.network',
} as const;

export function configHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Compose v1 normalises project names to [-_a-z0-9]; we use the same so both tools agree. */
export function projectName(name: string): string {
  return name.toLowerCase().replace(/[^-_a-z0-9]/g, '') || 'kyozo';
}
