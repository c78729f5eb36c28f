// One deployed folder as the engine and the state folder know it: compose project, network, state and events.
import type Docker from 'dockerode';
import type { Topology } from '../../protocol';
import { EventLog } from './event-log';
import { Label, projectName } from './labels';
import { resolveStateDir, StateStore } from './state-store';

export interface Workspace {
  topology: Topology;
  /** The compose project: the workspace's name, then its environment's (`shop-staging`) when it has one. */
  project: string;
  /** The workspace's own project, shared by its environments: built images are named after it and reused. */
  imageProject: string;
  network: string;
  store: StateStore;
  events: EventLog;
}

export function openWorkspace(topology: Topology, options: { project?: string; stateDir?: string }): Workspace {
  const imageProject = projectName(options.project ?? topology.name);
  const project = topology.environment ? `${imageProject}-${topology.environment.name}` : imageProject;
  const dir = resolveStateDir(topology.root, project, options.stateDir);
  const network = `${project}_default`;
  return { topology, project, imageProject, network, store: new StateStore(dir), events: new EventLog(dir, project) };
}

/** The workspace's containers (of one service, when given), found by label and ordered by replica number. */
export async function workspaceContainers(
  docker: Docker,
  ws: Workspace,
  serviceId?: string,
): Promise<Docker.ContainerInfo[]> {
  const label = [`${Label.workspace}=${ws.project}`];
  if (serviceId) label.push(`${Label.service}=${serviceId}`);
  const list = await docker.listContainers({ all: true, filters: { label } });
  return list.sort((a, b) => Number(a.Labels[Label.replica] ?? 0) - Number(b.Labels[Label.replica] ?? 0));
}
