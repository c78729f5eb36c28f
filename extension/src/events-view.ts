// The Deployment Events view: newest first, from the server's event stream and the orchestrator's durable log.
import * as vscode from 'vscode';
import type { DeploymentEvent } from '../../server/src/protocol';
import type { KyozoModel } from './kyozo-model';

export const EVENTS_VIEW = 'kyozo.events';

const ICONS: Record<DeploymentEvent['type'], [string, string?]> = {
  deployment_started: ['rocket'],
  deployment_completed: ['pass', 'charts.green'],
  deployment_failed: ['error', 'charts.red'],
  service_started: ['play', 'charts.green'],
  service_stopped: ['debug-stop'],
  service_scaled: ['layers'],
  health_check_failed: ['warning', 'charts.yellow'],
  health_changed: ['heart'],
  remote_action: ['remote', 'charts.purple'],
};

class EventsTree implements vscode.TreeDataProvider<DeploymentEvent & { folderUri: string }> {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  constructor(private readonly model: KyozoModel) {}
  refresh(): void {
    this.changed.fire(undefined);
  }
  getChildren(node?: DeploymentEvent): (DeploymentEvent & { folderUri: string })[] {
    return node ? [] : this.model.events;
  }
  getTreeItem(e: DeploymentEvent & { folderUri: string }): vscode.TreeItem {
    const service = e.serviceId
      ? (this.model.find(e.folderUri, e.serviceId)?.service.name ?? e.serviceId)
      : e.workspace;
    // A remote action's message says what was asked, by whom, and what came of it.
    const what = e.type === 'remote_action' && e.message ? e.message : e.type.replace(/_/g, ' ');
    const item = new vscode.TreeItem(`${service}: ${what}`);
    const [icon, color] = ICONS[e.type] ?? ['circle'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.description = `${new Date(e.at).toLocaleTimeString()}${e.durationMs !== undefined ? ` · ${(e.durationMs / 1000).toFixed(1)}s` : ''}`;
    item.tooltip = [e.at, e.message, e.details ? JSON.stringify(e.details, null, 2) : ''].filter(Boolean).join('\n');
    item.id = e.id;
    return item;
  }
}

export function registerEventsView(context: vscode.ExtensionContext, model: KyozoModel): vscode.TreeView<unknown> {
  const tree = new EventsTree(model);
  const view = vscode.window.createTreeView(EVENTS_VIEW, { treeDataProvider: tree });
  context.subscriptions.push(
    view,
    model.onDidAddEvent(() => tree.refresh()),
  );
  return view as vscode.TreeView<unknown>;
}
