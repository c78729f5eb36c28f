// A two-letter type badge on every service folder in the Explorer, coloured by live status.
import * as vscode from 'vscode';
import type { KyozoModel } from './kyozo-model';
import { badgeOf, colorOf, stateOf } from './service-presentation';

class ServiceFolderDecorations implements vscode.FileDecorationProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  constructor(private readonly model: KyozoModel) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const ref = this.model.serviceAtFolder(uri);
    if (!ref) return undefined;
    const state = stateOf(ref.status);
    const d = new vscode.FileDecoration(
      badgeOf(ref.service.type),
      `Kyozo: ${ref.service.name} (${ref.service.type}) — ${state}`,
      colorOf(state),
    );
    d.propagate = false;
    return d;
  }
}

export function registerExplorerDecorations(context: vscode.ExtensionContext, model: KyozoModel): void {
  const provider = new ServiceFolderDecorations(model);
  context.subscriptions.push(
    vscode.window.registerFileDecorationProvider(provider),
    model.onDidChangeTopology(() => provider.refresh()),
    model.onDidChangeStatus(() => provider.refresh()),
  );
}
