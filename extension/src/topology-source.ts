// Adapts the client model to what the topology webview panel reads and the actions it asks for.
import * as vscode from 'vscode';
import {
  WebviewActionCommands,
  type DeploymentEvent,
  type ServiceStatus,
  type Topology,
  type WebviewAction,
} from '../../server/src/protocol';
import type { KyozoModel } from './kyozo-model';
import type { TopologyPanelSource } from './topology-panel';

export function topologySource(model: KyozoModel): TopologyPanelSource {
  /** The panel shows one folder: the one holding the active editor, else the first with services. */
  const folder = () => {
    const active = vscode.window.activeTextEditor?.document.uri;
    const wf = active ? vscode.workspace.getWorkspaceFolder(active)?.uri.toString() : undefined;
    return (
      (wf && model.folders.get(wf)) ||
      [...model.folders.values()].find((f) => f.topology.services.length) ||
      [...model.folders.values()][0]
    );
  };
  const topologyEmitter = new vscode.EventEmitter<Topology>();
  const statusEmitter = new vscode.EventEmitter<ServiceStatus[]>();
  model.onDidChangeTopology(() => {
    const f = folder();
    if (f) topologyEmitter.fire(f.topology);
  });
  model.onDidChangeStatus(() => {
    const f = folder();
    if (f) statusEmitter.fire([...f.statuses.values()]);
  });
  return {
    topology: (): Topology | undefined => folder()?.topology,
    statuses: (): ServiceStatus[] => [...(folder()?.statuses.values() ?? [])],
    events: (): DeploymentEvent[] => model.events.filter((e) => e.folderUri === folder()?.folderUri),
    onDidChangeTopology: topologyEmitter.event,
    onDidChangeStatus: statusEmitter.event,
    onDidAddEvent: model.onDidAddEvent,
    runAction: async (action: WebviewAction, serviceId: string): Promise<void> => {
      const f = folder();
      if (!f) return;
      await vscode.commands.executeCommand(WebviewActionCommands[action], f.folderUri, serviceId);
    },
  };
}
