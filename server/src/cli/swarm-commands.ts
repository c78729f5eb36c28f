// `kyozo up|down|ps --target swarm`: the same topology as Docker Swarm services on the manager DOCKER_HOST names.
// deploy-commands.ts parses the flags and hands over here; this file only runs the Swarm deployer and prints.
import type { ServiceStatus, Topology } from '../protocol';
import { SwarmDeployer, type DeployProgress, type SwarmOptions } from '../engine/deploy';

export const DEPLOY_TARGETS = ['docker', 'swarm'] as const;
export type DeployTarget = (typeof DEPLOY_TARGETS)[number];

/** `--target`: docker (containers on the engine, the default) or swarm; anything else is refused with the choices. */
export function parseTarget(value: string | undefined): DeployTarget | Error {
  const v = (value ?? 'docker').trim().toLowerCase();
  if ((DEPLOY_TARGETS as readonly string[]).includes(v)) return v as DeployTarget;
  return new Error(`--target expects one of ${DEPLOY_TARGETS.join(', ')}; got '${value}'`);
}

export interface SwarmRun {
  options: SwarmOptions;
  json?: boolean;
  onProgress?: (p: DeployProgress) => void;
  format: (statuses: ServiceStatus[]) => string;
}

export async function swarmUp(topology: Topology, services: string[], run: SwarmRun): Promise<void> {
  const deployer = new SwarmDeployer(run.options);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const statuses = await deployer.up(topology, {
      services,
      onProgress: run.onProgress,
      signal: abort.signal,
      onWarning: (m) => process.stderr.write(`kyozo: warning: ${m}\n`),
    });
    process.stdout.write(run.json ? `${JSON.stringify(statuses, null, 2)}\n` : `\n${run.format(statuses)}\n`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function swarmDown(topology: Topology, run: SwarmRun): Promise<void> {
  const removed = await new SwarmDeployer(run.options).down(topology);
  process.stdout.write(
    removed.length
      ? `removed the Swarm services ${removed.join(', ')} and the overlay network of ${topology.name}\n`
      : `no Swarm services of ${topology.name} to remove\n`,
  );
}

export async function swarmPs(topology: Topology, run: SwarmRun): Promise<void> {
  const statuses = await new SwarmDeployer(run.options).status(topology);
  process.stdout.write(run.json ? `${JSON.stringify(statuses, null, 2)}\n` : `${run.format(statuses)}\n`);
}
