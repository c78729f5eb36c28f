// The workspace's Swarm network: an attachable overlay network, created as Swarm documents it (driver `overlay`,
// attachable so `docker run --network` can join it for debugging). Overlay networking between nodes needs the kernel's
// VXLAN; where the engine cannot create one, services still run, each on its host-mode published ports only, and
// the user is told what that costs.
import type Docker from 'dockerode';
import { Label } from '../labels';
import { STACK_NAMESPACE_LABEL } from './swarm-spec';

export interface SwarmNetwork {
  /** The network's name, or undefined when none could be created. */
  name?: string;
  /** Why there is none and what that means, when there is none. */
  warning?: string;
}

export function swarmNetworkName(project: string): string {
  // Not `<project>_default`: that is the bridge network `kyozo up` without --target creates for the same folder.
  return `${project}_swarm`;
}

export async function ensureSwarmNetwork(docker: Docker, project: string): Promise<SwarmNetwork> {
  const name = swarmNetworkName(project);
  const existing = (await docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
  if (existing) {
    if (existing.Driver === 'overlay') return { name };
    throw new Error(
      `a ${existing.Driver} network named ${name} is in the way of the workspace's overlay network; remove it ` +
        `(docker network rm ${name}) and deploy again`,
    );
  }
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'overlay',
      Attachable: true,
      CheckDuplicate: true,
      Labels: { [Label.workspace]: project, [STACK_NAMESPACE_LABEL]: project },
    });
    return { name };
  } catch (e) {
    const message = (e as Error).message;
    if (/already exists/.test(message)) return { name };
    return {
      warning:
        `the overlay network ${name} could not be created (${message.trim()}); this usually means the kernel lacks ` +
        'VXLAN. Services run without a shared network: each is reachable only on its host-mode published ports on ' +
        'its node, and dependency URLs by service name do not resolve. This is enough on a single node for services ' +
        'that do not call each other; for more, load the vxlan module (`modprobe vxlan`) and deploy again.',
    };
  }
}
