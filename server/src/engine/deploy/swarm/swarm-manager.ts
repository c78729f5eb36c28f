// Whether the engine DOCKER_HOST names can run Swarm services: only a manager can. Said plainly, with the command that
// fixes it, before anything is built.
import type Docker from 'dockerode';

export class SwarmUnavailableError extends Error {
  /** Same exit code as an unreachable engine: the service Kyozo needs is not there. */
  readonly exitCode = 69;
}

interface SwarmInfo {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Error?: string; Nodes?: number; NodeID?: string };
}

/** Undefined when the engine is a Swarm manager; otherwise what is wrong and what to do. */
export function swarmManagerProblem(info: SwarmInfo, host: string): string | undefined {
  const swarm = info.Swarm ?? {};
  const state = swarm.LocalNodeState || 'inactive';
  if (state === 'active' && swarm.ControlAvailable) return undefined;
  if (state === 'active')
    return (
      `The Docker engine at ${host} is a Swarm worker, not a manager: services are created on a manager. ` +
      'Point DOCKER_HOST (or --docker-host) at a manager (`docker node ls` on one lists them), or promote this node ' +
      'with `docker node promote <node>` on a manager.'
    );
  const detail = swarm.Error ? ` (${swarm.Error})` : '';
  return (
    `The Docker engine at ${host} is not part of a Swarm (state: ${state}${detail}), so it cannot run ` +
    '`kyozo up --target swarm`. Make it a single-node swarm with `docker swarm init` (on a machine with one ' +
    'address, `docker swarm init --advertise-addr 127.0.0.1`), join it to yours with `docker swarm join`, or point ' +
    'DOCKER_HOST at a manager. Without --target, `kyozo up` runs containers on this engine directly.'
  );
}

export async function requireSwarmManager(docker: Docker, host: string): Promise<{ nodes: number; nodeId: string }> {
  const info = (await docker.info()) as SwarmInfo;
  const problem = swarmManagerProblem(info, host);
  if (problem) throw new SwarmUnavailableError(problem);
  return { nodes: info.Swarm?.Nodes ?? 1, nodeId: info.Swarm?.NodeID ?? '' };
}
