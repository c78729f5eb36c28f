// Environments and the registry in the editor: a status bar item with the active environment (kyozo.environment) that
// switches it, the confirmation before deploying to an environment that asks for one (production), Push Service /
// Push All, and Set Environment Secret (an entry of the user's secret store that the root kyozo.yaml names). Everything goes through the language server's commands, as the other deploy commands do.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ClientCommands,
  ServerCommands,
  STORE_SECRET_NAME,
  type EnvironmentInfo,
  type KyozoExperimentalCapabilities,
} from '../../server/src/protocol';
import { sealValue } from './sealed-value';
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

  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  // (folderUri?, environment?, name?, value?): each one not given is asked for; the value in a password box.
  const setSecret = async (...args: unknown[]) => {
    const folder = localFolder(model, str(args[0]));
    if (!folder) throw new Error('no analysed workspace folder; open a folder and run "Kyozo: Analyze Workspace".');
    const info = await environmentInfo(client, folder);
    if (!info.environments.length)
      throw new Error(info.error ?? 'the root kyozo.yaml defines no environments: add environments: to it first');
    const listed = await runServerCommand(client, ServerCommands.secrets, folder);
    if (listed.unusable) throw new Error(listed.error);
    const missing = (env: string) => listed.secrets.filter((x) => x.environment === env && !x.stored).length;
    const environment =
      str(args[1]) ??
      (
        await vscode.window.showQuickPick(
          [...info.environments]
            .sort((a, b) => (a === info.active ? -1 : b === info.active ? 1 : 0))
            .map((label) => ({
              label,
              description: [label === info.active ? 'active' : '', missing(label) ? `${missing(label)} not set` : '']
                .filter(Boolean)
                .join(' · '),
            })),
          { title: 'Kyozo: Set Environment Secret', placeHolder: 'The environment the secret is for' },
        )
      )?.label;
    if (!environment) return undefined;
    const other = '$(add) Another name…';
    let name = str(args[2]);
    if (!name) {
      const picked = await vscode.window.showQuickPick(
        [
          ...listed.secrets
            .filter((x) => x.environment === environment)
            .map((x) => ({
              label: x.name,
              description: x.stored ? 'set' : 'not set',
              detail: `from_store for ${x.variables.join(', ')}`,
            })),
          { label: other, description: '', detail: 'a name kyozo.yaml does not reference yet' },
        ],
        { title: `Kyozo: Set Environment Secret (${environment})`, placeHolder: 'Secrets the root kyozo.yaml names' },
      );
      if (!picked) return undefined;
      name =
        picked.label === other
          ? await vscode.window.showInputBox({
              title: `Kyozo: Set Environment Secret (${environment})`,
              prompt: 'The name kyozo.yaml references (secrets: { VAR: { from_store: <name> } })',
              validateInput: (v) =>
                STORE_SECRET_NAME.test(v) ? undefined : 'letters, digits, _ . - (at most 64 characters)',
            })
          : picked.label;
      if (!name) return undefined;
    }
    const value =
      str(args[3]) ??
      (await vscode.window.showInputBox({
        title: `Kyozo: ${name} for ${environment}`,
        prompt: "The value goes to your secret store (Docker's credential helper), never to the repository or a log",
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v ? undefined : 'the value is empty'),
      }));
    if (!value) return undefined;
    const key = (client.initializeResult?.capabilities.experimental as { kyozo?: KyozoExperimentalCapabilities })?.kyozo
      ?.sealingKey;
    if (!key) throw new Error('the language server offers no key to seal the secret to; restart it and try again');
    const stored = await runServerCommand(
      client,
      ServerCommands.setSecret,
      folder,
      environment,
      name,
      sealValue(value, key),
    );
    void vscode.window.showInformationMessage(
      `Kyozo: stored ${name} for ${environment} in your secret store (docker-credential-${stored.store}).`,
    );
    return stored;
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
    vscode.commands.registerCommand(ClientCommands.setEnvironmentSecret, guarded(setSecret)),
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
