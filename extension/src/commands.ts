// Every "Kyozo: ..." command. Each forwards the user's intent to the server; nothing here talks to Docker.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, ServerCommands, type ComposeParams, type ExplainParams } from '../../server/src/protocol';
// The same check the server applies, so the input box refuses what the server would.
import { MAX_REPLICAS, replicaCountProblem } from '../../server/src/engine/deploy/replica-count';
import type { KyozoModel, ServiceRef } from './kyozo-model';
import type { LogTerminals } from './log-terminal';
import { EVENTS_VIEW } from './events-view';
import { stateOf, summary, urlOf } from './service-presentation';
import { whenTrusted } from './workspace-trust';

/** Arguments arrive from CodeLens (folderUri, serviceId), tree items ({kind:'service', ref}), or nothing (quick pick). */
function refFromArgs(model: KyozoModel, args: unknown[]): ServiceRef | undefined {
  const [a, b] = args;
  if (typeof a === 'string' && typeof b === 'string') return model.find(a, b);
  if (a && typeof a === 'object') {
    const o = a as { kind?: string; ref?: ServiceRef; service?: unknown; folderUri?: string };
    if (o.kind === 'service' && o.ref) return model.find(o.ref.folderUri, o.ref.service.id) ?? o.ref;
    if (o.service && o.folderUri) return o as ServiceRef;
    if (a instanceof vscode.Uri) return model.serviceAtFolder(a);
  }
  return undefined;
}

async function pickService(model: KyozoModel, title: string, filter: (r: ServiceRef) => boolean = () => true): Promise<ServiceRef | undefined> {
  const refs = model.services().filter((r) => r.service.type !== 'infrastructure' && filter(r));
  if (refs.length === 0) {
    void vscode.window.showInformationMessage(`Kyozo: no service to choose for "${title}". Run "Kyozo: Analyze Workspace" if you expected one.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(refs.map((r) => ({ label: r.service.name, description: summary(r.service, r.status), detail: r.service.id, ref: r })), { title: `Kyozo: ${title}`, matchOnDescription: true });
  return picked?.ref;
}

function folderUriFor(model: KyozoModel, args: unknown[]): string | undefined {
  if (typeof args[0] === 'string' && model.folders.has(args[0])) return args[0];
  const folders = [...model.folders.keys()];
  const active = vscode.window.activeTextEditor?.document.uri;
  const wf = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
  return (wf && folders.find((f) => f === wf.uri.toString())) ?? folders[0];
}

export function registerCommands(context: vscode.ExtensionContext, client: LanguageClient, model: KyozoModel, logs: LogTerminals): void {
  const server = <T = unknown>(command: string, ...args: unknown[]): Promise<T> =>
    client.sendRequest<T>('workspace/executeCommand', { command, arguments: args });
  const guarded = (fn: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
    try { return await fn(...args); } catch (e) {
      void vscode.window.showErrorMessage(`Kyozo: ${(e as Error).message}`);
      return undefined;
    }
  };
  const onService = (title: string, run: (ref: ServiceRef, args: unknown[]) => Promise<unknown>, filter?: (r: ServiceRef) => boolean) =>
    guarded(async (...args) => {
      const ref = refFromArgs(model, args) ?? (await pickService(model, title, filter));
      return ref ? run(ref, args) : undefined;
    });

  const reg = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg('kyozo.analyze', guarded(async () => {
    const r = await server<{ folderUri: string; services: number; durationMs?: number; error?: string }[]>(ServerCommands.analyze);
    const failed = r.filter((x) => x.error);
    if (failed.length) throw new Error(`analysis failed: ${failed.map((f) => f.error).join('; ')}`);
    vscode.window.setStatusBarMessage(`Kyozo: ${r.reduce((n, x) => n + x.services, 0)} services found`, 4000);
    return r;
  }));
  // Commands that act on the Docker engine are refused in Restricted Mode, before a service is picked or asked for.
  const onEngine = (title: string, run: Parameters<typeof onService>[1], filter?: (r: ServiceRef) => boolean) =>
    whenTrusted(title, onService(title, run, filter));
  const deployed = (r: ServiceRef) => stateOf(r.status) !== 'not-deployed';
  const onRef = (command: string) => (r: ServiceRef) => server(command, r.folderUri, r.service.id);
  reg('kyozo.deployService', onEngine('Deploy Service', onRef(ServerCommands.deploy)));
  reg('kyozo.startService', onEngine('Start Service', onRef(ServerCommands.start)));
  reg('kyozo.stopService', onEngine('Stop Service', onRef(ServerCommands.stop), deployed));
  reg('kyozo.restartService', onEngine('Restart Service', onRef(ServerCommands.restart), deployed));
  reg('kyozo.scaleService', onEngine('Scale Service', async (r, args) => {
    let replicas = typeof args[2] === 'number' ? args[2] : undefined;
    if (replicas === undefined) {
      const input = await vscode.window.showInputBox({
        title: `Kyozo: scale ${r.service.name}`, prompt: `Number of replicas (0-${MAX_REPLICAS})`, value: String(r.status?.replicas.desired ?? r.service.replicas),
        validateInput: (v) => replicaCountProblem(v),
      });
      if (input === undefined) return undefined;
      replicas = Number(input);
    }
    return server(ServerCommands.scale, r.folderUri, r.service.id, replicas);
  }));
  reg('kyozo.showLogs', onEngine('Show Logs', (r) => logs.open(r.folderUri, r.service.id, r.service.name)));
  reg('kyozo.openServiceUrl', onService('Open Service', async (r, args) => {
    const url = (typeof args[2] === 'string' ? args[2] : undefined) ?? urlOf(r.status);
    if (!url) throw new Error(`${r.service.name} publishes no HTTP port yet; deploy it first.`);
    return vscode.env.openExternal(vscode.Uri.parse(url));
  }, (r) => !!urlOf(r.status)));
  reg('kyozo.revealService', onService('Reveal Service', async (r) => {
    const indicator = r.service.indicators[0];
    const root = vscode.Uri.parse(r.folderUri);
    if (indicator) await vscode.window.showTextDocument(vscode.Uri.joinPath(root, ...indicator.split('/')), { preview: true });
    else await vscode.commands.executeCommand('revealInExplorer', model.folderUriOf(r));
  }));
  reg('kyozo.deployAll', whenTrusted('Deploy All', guarded(async (...args) => {
    const folder = folderUriFor(model, args);
    if (!folder) throw new Error('no analysed workspace folder; open a folder and run "Kyozo: Analyze Workspace".');
    return server(ServerCommands.deployAll, folder);
  })));
  reg('kyozo.stopAll', whenTrusted('Stop All', guarded(async (...args) => {
    const folders = typeof args[0] === 'string' ? [args[0]] : [...model.folders.keys()];
    for (const f of folders) await server(ServerCommands.stopAll, f);
  })));
  reg('kyozo.generateCompose', guarded(async (...args) => {
    const folderUri = folderUriFor(model, args);
    if (!folderUri) throw new Error('no analysed workspace folder to export.');
    const params: ComposeParams = { folderUri };
    const yaml = await client.sendRequest<string>(Methods.compose, params);
    const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: yaml });
    await vscode.window.showTextDocument(doc);
  }));
  reg('kyozo.showEvents', guarded(async () => {
    await vscode.commands.executeCommand(`${EVENTS_VIEW}.focus`);
  }));
  reg('kyozo.deployFolder', whenTrusted('Deploy Folder as a Service', guarded(async (...args) => {
    const uri = args[0] instanceof vscode.Uri ? args[0] : undefined;
    const ref = uri ? model.serviceAtFolder(uri) : await pickService(model, 'Deploy Folder as a Service');
    if (!ref) {
      const rel = uri ? vscode.workspace.asRelativePath(uri) : 'this folder';
      throw new Error(`${rel} is not a service Kyozo recognises. Add a Dockerfile, a start script, or a kyozo.yaml with "start" and "port", then run "Kyozo: Analyze Workspace".`);
    }
    return server(ServerCommands.deploy, ref.folderUri, ref.service.id);
  })));
  reg('kyozo.showServiceDetails', guarded(async (...args) => {
    const uri = args[0] instanceof vscode.Uri ? args[0] : undefined;
    const ref = uri ? model.serviceAtFolder(uri) : refFromArgs(model, args) ?? (await pickService(model, 'Show Service Details'));
    if (!ref) throw new Error(`${uri ? vscode.workspace.asRelativePath(uri) : 'that folder'} is not a Kyozo service.`);
    const params: ExplainParams = { folderUri: ref.folderUri, serviceId: ref.service.id };
    const r = await client.sendRequest<{ markdown: string } | null>(Methods.explain, params);
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `# ${ref.service.name}\n\n${r?.markdown ?? 'No details.'}\n` });
    await vscode.commands.executeCommand('markdown.showPreview', doc.uri).then(undefined, () => vscode.window.showTextDocument(doc));
  }));
}
