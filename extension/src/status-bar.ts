// Status bar: running/total services; a warning when Docker cannot be reached. Click opens the Services view.
import * as vscode from 'vscode';
import type { KyozoModel } from './kyozo-model';

export function registerStatusBar(context: vscode.ExtensionContext, model: KyozoModel): void {
  const item = vscode.window.createStatusBarItem('kyozo.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Kyozo Services';
  item.command = 'kyozo.services.focus';
  const update = () => {
    // This machine's services: a Kyozo Share host's (remote) ones have their own count in the host's window.
    const all = model
      .services()
      .filter((r) => r.service.type !== 'infrastructure' && !model.folders.get(r.folderUri)?.remote);
    const running = all.filter((r) => r.status?.state === 'running').length;
    const failing = all.filter((r) => r.status?.state === 'error' || r.status?.state === 'unhealthy').length;
    if (model.engine && !model.engine.reachable) {
      item.text = `$(warning) Kyozo ${running}/${all.length}`;
      item.tooltip = `Docker engine not reachable: ${model.engine.message ?? ''}`;
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else {
      item.text = `$(server-process) ${running}/${all.length}${failing ? ` $(error) ${failing}` : ''}`;
      item.tooltip = `Kyozo: ${running} of ${all.length} services running${failing ? `, ${failing} failing` : ''}. Click to open the Services view.`;
      item.backgroundColor = failing ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }
    if (all.length || model.engine) item.show();
    else item.hide();
  };
  context.subscriptions.push(
    item,
    model.onDidChangeTopology(update),
    model.onDidChangeStatus(update),
    model.onDidChangeEngine(update),
  );
  update();
}
