// Activation, read top to bottom: start the language server, then each feature registers itself.
import * as vscode from 'vscode';
import { EventsRequest, type EventsParams } from '../../server/src/protocol';
import { registerCommands } from './commands';
import { registerEnvironments } from './environments';
import { registerEventsView } from './events-view';
import { registerExplorerDecorations } from './explorer-decorations';
import { KyozoModel } from './kyozo-model';
import { createLanguageClient } from './language-client';
import { LogTerminals } from './log-terminal';
import { registerPathWalker, type PathWalkerApi } from './pathwalker';
import { registerServicesView } from './services-view';
import { registerPresence } from './share/participants-view';
import { registerSharedOperations } from './share/remote-services';
import { registerShareIdentity } from './share/team-commands';
import { registerWorkspaceShare } from './share/workspace-share';
import { registerStatusBar } from './status-bar';
import { registerTopologyPanel } from './topology-panel';
import { topologySource } from './topology-source';
import { registerWorkspaceTrust } from './workspace-trust';

/** What other extensions (and the end-to-end suite) can read: the same model the views render. */
export interface KyozoApi {
  model: KyozoModel;
  /** Resolves when every workspace folder has been analysed once. */
  ready: Promise<void>;
  /** Describe Folder, the language-model tools and @kyozo, as this editor's API allowed them. */
  pathWalker: PathWalkerApi;
}

export async function activate(context: vscode.ExtensionContext): Promise<KyozoApi> {
  const output = vscode.window.createOutputChannel('Kyozo');
  const model = new KyozoModel();
  const client = createLanguageClient(context, output);
  context.subscriptions.push(output, model, ...model.attach(client));

  const ready = new Promise<void>((resolve) => {
    const expected = vscode.workspace.workspaceFolders?.length ?? 0;
    if (expected === 0) return resolve();
    const sub = model.onDidChangeTopology(() => {
      if (model.folders.size >= expected) {
        sub.dispose();
        resolve();
      }
    });
  });
  model.onDidChangeTopology((folderUri) => void loadEvents(folderUri));

  registerExplorerDecorations(context, model);
  registerServicesView(context, model);
  registerEventsView(context, model);
  registerStatusBar(context, model);
  const logs = new LogTerminals(client);
  context.subscriptions.push(logs);
  registerCommands(context, client, model, logs);
  registerEnvironments(context, client, model);
  registerWorkspaceTrust(context, client);
  registerWorkspaceShare(context, registerShareIdentity(context, output), output);
  registerSharedOperations(context, client, model, logs, output);
  registerPresence(context, output);
  const pathWalker = registerPathWalker(context, client, model);
  context.subscriptions.push(registerTopologyPanel(context, topologySource(model)));

  const loaded = new Set<string>();
  async function loadEvents(folderUri: string): Promise<void> {
    if (loaded.has(folderUri)) return;
    loaded.add(folderUri);
    const params: EventsParams = { folderUri };
    const events = await client.sendRequest(EventsRequest, params).catch(() => []);
    for (const e of events) if (!model.events.some((x) => x.id === e.id)) model.events.push({ ...e, folderUri });
    model.events.sort((a, b) => b.at.localeCompare(a.at));
  }

  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Kyozo: the language server did not start (${(e as Error).message}). See the "Kyozo" output channel.`,
    );
  }
  context.subscriptions.push({ dispose: () => void client.stop() });
  return { model, ready, pathWalker };
}

export function deactivate(): void {
  // Disposables registered on the context stop the client and the views.
}
