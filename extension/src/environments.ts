// Environments and the registry in the editor: a status bar item with the active environment (kyozo.environment) that
// switches it, the confirmation before deploying to an environment that asks for one (production), and Push Service /
// Push All. Everything goes through the language server's commands, as the other deploy commands do.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClientCommands, ServerCommands, type EnvironmentInfo } from '../../server/src/protocol';
import type { KyozoModel, ServiceRef } from './kyozo-model';
import { runServerCommand } from './server-command';
import { refreshServicesView, setRegistryImages } from './services-view';
import { whenTrusted } from './workspace-trust';

const NONE = '(none: the workspace itself)';

/** The folder environment commands act on: the one given, else the first local folder. */
function localFolder(model: KyozoModel, folderUri?: string): string | undefined {
  if (folderUri && model.folders.has(folderUri) && !model.folders.get(folderUri)!.remote) return folderUri;
  return model.localFolders()[0]?.folderUri;
}

export function environmentInfo(client: LanguageClient, folderUri: string): Promise<EnvironmentInfo> {
  return runServerCommand(client, ServerCommands.environments, folderUri);
}

/**
 * True when the deploy may go ahead: always without an environment or for one that does not ask; otherwise once the
 * user says so to a warning naming the environment.
 */
export async function confirmDeploy(client: LanguageClient, folderUri: string, what: string): Promise<boolean> {
  const info = await environmentInfo(client, folderUri);
  if (!info.active || !info.confirm) return true;
  const deploy = `Deploy to ${info.active}`;
  // A notification with both answers rather than a modal dialog: nothing is deployed until the user picks the first,
  // and dismissing it is a no. (VS Code refuses modal dialogs to an extension under test, so this one is tested.)
  const answer = await vscode.window.showWarningMessage(
    `Kyozo: deploy ${what} to ${info.active}? The active environment (kyozo.environment) asks before a deploy.`,
    deploy,
    'Cancel',
  );
  return answer === deploy;
}

export function registerEnvironments(
  context: vscode.ExtensionContext,
  client: LanguageClient,
  model: KyozoModel,
): void {
  // The Services view's Registry node: per service, its local image, pushed tag and digest.
  setRegistryImages((folderUri) => runServerCommand(client, ServerCommands.registryImages, folderUri));
  const item = vscode.window.createStatusBarItem('kyozo.environment', vscode.StatusBarAlignment.Left, 49);
  item.name = 'Kyozo Environment';
  item.command = ClientCommands.selectEnvironment;
  const update = () => {
    const active = vscode.workspace.getConfiguration('kyozo').get<string>('environment')?.trim();
    item.text = `$(layers) ${active || 'workspace'}`;
    item.tooltip = active
      ? `Kyozo deploys to, and shows the services of, the ${active} environment. Click to switch.`
      : "Kyozo deploys the workspace itself (no environment). Click to pick one of the root kyozo.yaml's environments.";
    item.backgroundColor =
      active === 'production' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (model.localFolders().some((f) => f.topology.services.length)) item.show();
    else item.hide();
  };

  const selectEnvironment = async (...args: unknown[]) => {
    const folder = localFolder(model, typeof args[0] === 'string' ? args[0] : undefined);
    if (!folder) throw new Error('no analysed workspace folder; open a folder and run "Kyozo: Analyze Workspace".');
    const info = await environmentInfo(client, folder);
    if (info.error && !info.environments.length) throw new Error(info.error);
    const picked =
      typeof args[1] === 'string'
        ? args[1]
        : (
            await vscode.window.showQuickPick(
              [NONE, ...info.environments].map((label) => ({
                label,
                description: label === (info.active ?? NONE) ? 'active' : undefined,
              })),
              {
                title: 'Kyozo: Select Environment',
                placeHolder: info.environments.length
                  ? 'Environments of the kyozo.yaml at the workspace root'
                  : 'The root kyozo.yaml defines no environments: add environments: to it',
              },
            )
          )?.label;
    if (picked === undefined) return undefined;
    const value = picked === NONE ? '' : picked;
    if (value && !info.environments.includes(value))
      throw new Error(`unknown environment '${value}'; the root kyozo.yaml defines ${info.environments.join(', ')}`);
    await vscode.workspace
      .getConfiguration('kyozo')
      .update('environment', value || undefined, vscode.ConfigurationTarget.Workspace);
    return value;
  };

  const push = (serviceId?: string, folderUri?: string) => async () => {
    const folder = localFolder(model, folderUri);
    if (!folder) throw new Error('no analysed workspace folder to push from.');
    const pushed = serviceId
      ? await runServerCommand(client, ServerCommands.push, folder, serviceId)
      : await runServerCommand(client, ServerCommands.push, folder);
    refreshServicesView();
    vscode.window.setStatusBarMessage(
      `Kyozo: pushed ${pushed.map((p) => `${p.reference}@${p.digest.slice(0, 19)}`).join(', ')}`,
      8000,
    );
    return pushed;
  };

  const guarded =
    (fn: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        void vscode.window.showErrorMessage(`Kyozo: ${(e as Error).message}`);
        return undefined;
      }
    };

  const pushService = async (...args: unknown[]) => {
    let ref = serviceArg(model, args);
    if (!ref) {
      const refs = model.services().filter((r) => !model.folders.get(r.folderUri)?.remote && !r.service.composeOnly);
      ref = (
        await vscode.window.showQuickPick(
          refs.map((r) => ({ label: r.service.name, detail: r.service.id, ref: r })),
          { title: 'Kyozo: Push Service' },
        )
      )?.ref;
    }
    return ref ? push(ref.service.id, ref.folderUri)() : undefined;
  };

  context.subscriptions.push(
    item,
    vscode.commands.registerCommand(ClientCommands.selectEnvironment, guarded(selectEnvironment)),
    vscode.commands.registerCommand(ClientCommands.pushService, whenTrusted('Push Service', guarded(pushService))),
    vscode.commands.registerCommand(
      ClientCommands.pushAll,
      whenTrusted(
        'Push All',
        guarded((...args) => push(undefined, typeof args[0] === 'string' ? args[0] : undefined)()),
      ),
    ),
    model.onDidChangeTopology(update),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kyozo.environment')) update();
    }),
  );
  update();
}

/** A service from a tree item ({kind:'service', ref}), a registry image item, or (folderUri, serviceId). */
function serviceArg(model: KyozoModel, args: unknown[]): ServiceRef | undefined {
  const [a, b] = args;
  if (typeof a === 'string' && typeof b === 'string') return model.find(a, b);
  const o = a as { kind?: string; ref?: ServiceRef; folderUri?: string; info?: { serviceId: string } } | undefined;
  if (o?.kind === 'service' && o.ref) return model.find(o.ref.folderUri, o.ref.service.id) ?? o.ref;
  if (o?.kind === 'image' && o.folderUri && o.info) return model.find(o.folderUri, o.info.serviceId);
  return undefined;
}
