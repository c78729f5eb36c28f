// Makes the engine's state consistent after an interrupted run. It removes containers and appends events, so only
// `up`, `kyozo ps` and an explicit repair run it, never a status read.
import type Docker from 'dockerode';
import { openDeployments } from './deployment-record';
import { Label } from './labels';
import { mapLimited, type Limiter } from './limiter';
import { workspaceContainers, type Workspace } from './workspace';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Containers created but never started by a deployment whose process is gone are removed, the interrupted
 * deployment is recorded as failed, and (with `removeOrphans`, during `up`) containers of services no longer in
 * the topology are removed. Returns the names of the containers removed.
 */
export async function reconcile(
  docker: Docker,
  ws: Workspace,
  removeOrphans: boolean,
  limit: Limiter,
): Promise<string[]> {
  const removed: string[] = [];
  const open = openDeployments(ws.events.read());
  const dead = new Set<string>();
  for (const [dep, e] of open) {
    const pid = Number(e.details?.pid);
    if (!pid || !pidAlive(pid)) {
      dead.add(dep);
      ws.events.append('deployment_failed', {
        message: 'deployment interrupted (the process running it ended); reconciled',
        durationMs: Date.now() - Date.parse(e.at),
        details: { deployment: dep, interrupted: true },
      });
    }
  }
  const ids = new Set(ws.topology.services.map((s) => s.id));
  // Removed `limit` at a time (the orchestrator's parallelism), never one after another.
  await mapLimited(limit, await workspaceContainers(docker, ws), async (c) => {
    const dep = c.Labels[Label.deployment];
    const neverStarted = c.State === 'created' && (!dep || dead.has(dep) || !open.has(dep));
    // A gateway belongs to the service it fronts (gateway.ts).
    const orphan = removeOrphans && !ids.has(c.Labels[Label.service] ?? c.Labels[Label.gateway] ?? '');
    if (!neverStarted && !orphan) return;
    // A never-started container is removed without force: if a live deployment started it since the
    // listing above, the engine refuses (409) instead of killing the new replica.
    const gone = await docker
      .getContainer(c.Id)
      .remove({ force: orphan })
      .then(
        () => true,
        () => false,
      );
    if (gone) removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
  });
  return removed;
}
