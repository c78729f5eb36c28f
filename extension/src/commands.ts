// Every "Kyozo: ..." command, as a table from the protocol's ClientCommands to one small function each. Each forwards
// the user's intent to the server; nothing here talks to Docker.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ClientCommands,
  ComposeRequest,
  ExplainRequest,
  MAX_REPLICAS,
  replicaCountProblem,
  ServerCommands,
  type ClientCommand,
  type ComposeParams,
  type ExplainParams,
  type ShareCommand,
} from '../../server/src/protocol';
import type { KyozoModel, RemoteOrigin, ServiceRef } from './kyozo-model';
import type { LogTerminals } from './log-terminal';
import { setAutoscaling } from './autoscaling-command';
import { confirmDeploy } from './environments';
import { EVENTS_VIEW } from './events-view';
import { runServerCommand } from './server-command';
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

async function pickService(
  model: KyozoModel,
  title: string,
  filter: (r: ServiceRef) => boolean = () => true,
): Promise<ServiceRef | undefined> {
  const refs = model.services().filter((r) => r.service.type !== 'infrastructure' && filter(r));
  if (refs.length === 0) {
    void vscode.window.showInformationMessage(
      `Kyozo: no service to choose for "${title}". Run "Kyozo: Analyze Workspace" if you expected one.`,
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    refs.map((r) => ({
      label: r.service.name,
      description: summary(r.service, r.status),
      detail: r.service.id,
      ref: r,
    })),
    { title: `Kyozo: ${title}`, matchOnDescription: true },
  );
  return picked?.ref;
}

function folderUriFor(model: KyozoModel, args: unknown[]): string | undefined {
  if (typeof args[0] === 'string' && model.folders.has(args[0]) && !model.folders.get(args[0])!.remote) return args[0];
  const folders = model.localFolders().map((f) => f.folderUri);
  const active = vscode.window.activeTextEditor?.document.uri;
  const wf = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
  return (wf && folders.find((f) => f === wf.uri.toString())) ?? folders[0];
}

/** What every command works with. */
interface CommandContext {
  client: LanguageClient;
  model: KyozoModel;
  logs: LogTerminals;
}

type Handler = (...args: unknown[]) => unknown;
type ServiceAction = (ref: ServiceRef, args: unknown[]) => Promise<unknown>;

/**
 * openTopology belongs to the topology panel, which registers it with the panel it opens; Share's to share/;
 * describeFolder to pathwalker/; the environment and push commands to environments.ts.
 */
type TableCommand = Exclude<
  ClientCommand,
  | typeof ClientCommands.openTopology
  | typeof ClientCommands.describeFolder
  | typeof ClientCommands.pushService
  | typeof ClientCommands.pushAll
  | typeof ClientCommands.selectEnvironment
  | typeof ClientCommands.setEnvironmentSecret
  | ShareCommand
>;

export function registerCommands(
  context: vscode.ExtensionContext,
  client: LanguageClient,
  model: KyozoModel,
  logs: LogTerminals,
): void {
  const cx: CommandContext = { client, model, logs };
  const table: Record<TableCommand, Handler> = {
    [ClientCommands.analyze]: analyze(cx),
    [ClientCommands.deployService]: onEngine(cx, 'Deploy Service', onRef(cx, ServerCommands.deploy)),
    [ClientCommands.startService]: onEngine(cx, 'Start Service', onRef(cx, ServerCommands.start)),
    [ClientCommands.stopService]: onEngine(cx, 'Stop Service', onRef(cx, ServerCommands.stop), deployed),
    [ClientCommands.restartService]: onEngine(cx, 'Restart Service', onRef(cx, ServerCommands.restart), deployed),
    [ClientCommands.scaleService]: onEngine(cx, 'Scale Service', scaleService(cx)),
    [ClientCommands.showLogs]: onEngine(
      cx,
      'Show Logs',
      (r) => remoteOf(cx, r)?.act('logs', r.service.id) ?? logs.open(r.folderUri, r.service.id, r.service.name),
    ),
    [ClientCommands.openServiceUrl]: onService(cx, 'Open Service', openServiceUrl, (r) => !!urlOf(r.status)),
    [ClientCommands.revealService]: onService(cx, 'Reveal Service', revealService(cx)),
    [ClientCommands.deployAll]: whenTrusted('Deploy All', guarded(deployAll(cx))),
    [ClientCommands.stopAll]: whenTrusted('Stop All', guarded(stopAll(cx))),
    [ClientCommands.generateCompose]: guarded(generateCompose(cx)),
    [ClientCommands.showEvents]: guarded(showEvents),
    [ClientCommands.deployFolder]: whenTrusted('Deploy Folder as a Service', guarded(deployFolder(cx))),
    [ClientCommands.showServiceDetails]: guarded(showServiceDetails(cx)),
    [ClientCommands.setAutoscaling]: onService(cx, 'Set Autoscaling', setAutoscaling(client, model), (r) => {
      return !r.service.composeOnly;
    }),
  };
  for (const [id, run] of Object.entries(table)) context.subscriptions.push(vscode.commands.registerCommand(id, run));
}

/** Shows a failure as an error message instead of an unhandled rejection. */
function guarded(fn: (...args: unknown[]) => Promise<unknown>): Handler {
  return async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      void vscode.window.showErrorMessage(`Kyozo: ${(e as Error).message}`);
      return undefined;
    }
  };
}

/** A command on one service: the one its arguments name, else one the user picks. */
function onService(
  cx: CommandContext,
  title: string,
  run: ServiceAction,
  filter?: (r: ServiceRef) => boolean,
): Handler {
  return guarded(async (...args) => {
    const ref = refFromArgs(cx.model, args) ?? (await pickService(cx.model, title, filter));
    return ref ? run(ref, args) : undefined;
  });
}

/** Commands that act on the Docker engine are refused in Restricted Mode, before a service is picked or asked for. */
function onEngine(cx: CommandContext, title: string, run: ServiceAction, filter?: (r: ServiceRef) => boolean): Handler {
  return whenTrusted(title, onService(cx, title, run, filter));
}

const deployed = (r: ServiceRef) => stateOf(r.status) !== 'not-deployed';

type ServiceCommand =
  | typeof ServerCommands.deploy
  | typeof ServerCommands.start
  | typeof ServerCommands.stop
  | typeof ServerCommands.restart;

const REMOTE_ACTION = {
  [ServerCommands.deploy]: 'deploy',
  [ServerCommands.start]: 'deploy',
  [ServerCommands.stop]: 'stop',
  [ServerCommands.restart]: 'restart',
} as const;

/** A Kyozo Share host's service (share/remote-services.ts): actions on it go to the host as signed requests. */
function remoteOf(cx: CommandContext, r: ServiceRef): RemoteOrigin | undefined {
  return cx.model.folders.get(r.folderUri)?.remote;
}

function onRef(cx: CommandContext, command: ServiceCommand): ServiceAction {
  return async (r) => {
    const remote = remoteOf(cx, r);
    if (remote) return remote.act(REMOTE_ACTION[command], r.service.id);
    // Deploying to an environment that asks first (production) waits for the user's yes.
    if (command === ServerCommands.deploy && !(await confirmDeploy(cx.client, r.folderUri, r.service.name)))
      return undefined;
    return runServerCommand(cx.client, command, r.folderUri, r.service.id);
  };
}

function analyze(cx: CommandContext): Handler {
  return guarded(async () => {
    const r = await runServerCommand(cx.client, ServerCommands.analyze);
    const failed = r.filter((x) => x.error);
    if (failed.length) throw new Error(`analysis failed: ${failed.map((f) => f.error).join('; ')}`);
    vscode.window.setStatusBarMessage(`Kyozo: ${r.reduce((n, x) => n + x.services, 0)} services found`, 4000);
    return r;
  });
}

function scaleService(cx: CommandContext): ServiceAction {
  return async (r, args) => {
    let replicas = typeof args[2] === 'number' ? args[2] : undefined;
    if (replicas === undefined) {
      const input = await vscode.window.showInputBox({
        title: `Kyozo: scale ${r.service.name}`,
        prompt: `Number of replicas (0-${MAX_REPLICAS})`,
        value: String(r.status?.replicas.desired ?? r.service.replicas),
        // The same check the server applies, so the input box refuses what the server would.
        validateInput: (v) => replicaCountProblem(v),
      });
      if (input === undefined) return undefined;
      replicas = Number(input);
    }
    const remote = remoteOf(cx, r);
    if (remote) return remote.act('scale', r.service.id, { replicas });
    return runServerCommand(cx.client, ServerCommands.scale, r.folderUri, r.service.id, replicas);
  };
}

async function openServiceUrl(r: ServiceRef, args: unknown[]): Promise<unknown> {
  const url = (typeof args[2] === 'string' ? args[2] : undefined) ?? urlOf(r.status);
  if (!url) throw new Error(`${r.service.name} publishes no HTTP port yet; deploy it first.`);
  return vscode.env.openExternal(vscode.Uri.parse(url));
}

function revealService(cx: CommandContext): ServiceAction {
  return async (r) => {
    const indicator = r.service.indicators[0];
    const root = vscode.Uri.parse(r.folderUri);
    if (indicator)
      await vscode.window.showTextDocument(vscode.Uri.joinPath(root, ...indicator.split('/')), { preview: true });
    else await vscode.commands.executeCommand('revealInExplorer', cx.model.folderUriOf(r));
  };
}

function deployAll(cx: CommandContext) {
  return async (...args: unknown[]) => {
    const folder = folderUriFor(cx.model, args);
    if (!folder) throw new Error('no analysed workspace folder; open a folder and run "Kyozo: Analyze Workspace".');
    if (!(await confirmDeploy(cx.client, folder, 'every service'))) return undefined;
    return runServerCommand(cx.client, ServerCommands.deployAll, folder);
  };
}

function stopAll(cx: CommandContext) {
  return async (...args: unknown[]) => {
    const folders = typeof args[0] === 'string' ? [args[0]] : cx.model.localFolders().map((f) => f.folderUri);
    for (const f of folders) await runServerCommand(cx.client, ServerCommands.stopAll, f);
  };
}

function generateCompose(cx: CommandContext) {
  return async (...args: unknown[]) => {
    const folderUri = folderUriFor(cx.model, args);
    if (!folderUri) throw new Error('no analysed workspace folder to export.');
    const params: ComposeParams = { folderUri };
    const yaml = await cx.client.sendRequest(ComposeRequest, params);
    const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: yaml });
    await vscode.window.showTextDocument(doc);
  };
}

async function showEvents(): Promise<void> {
  await vscode.commands.executeCommand(`${EVENTS_VIEW}.focus`);
}

function deployFolder(cx: CommandContext) {
  return async (...args: unknown[]) => {
    const uri = args[0] instanceof vscode.Uri ? args[0] : undefined;
    const ref = uri ? cx.model.serviceAtFolder(uri) : await pickService(cx.model, 'Deploy Folder as a Service');
    if (!ref) {
      const rel = uri ? vscode.workspace.asRelativePath(uri) : 'this folder';
      throw new Error(
        `${rel} is not a service Kyozo recognises. Add a Dockerfile, a start script, or a kyozo.yaml with "start" and "port", then run "Kyozo: Analyze Workspace".`,
      );
    }
    const remote = remoteOf(cx, ref);
    if (remote) return remote.act('deploy', ref.service.id);
    if (!(await confirmDeploy(cx.client, ref.folderUri, ref.service.name))) return undefined;
    return runServerCommand(cx.client, ServerCommands.deploy, ref.folderUri, ref.service.id);
  };
}

function showServiceDetails(cx: CommandContext) {
  return async (...args: unknown[]) => {
    const uri = args[0] instanceof vscode.Uri ? args[0] : undefined;
    const ref = uri
      ? cx.model.serviceAtFolder(uri)
      : (refFromArgs(cx.model, args) ?? (await pickService(cx.model, 'Show Service Details')));
    if (!ref) throw new Error(`${uri ? vscode.workspace.asRelativePath(uri) : 'that folder'} is not a Kyozo service.`);
    const remote = remoteOf(cx, ref);
    if (remote)
      throw new Error(`${ref.service.name} runs on ${remote.host}'s machine: its details are in their window.`);
    const params: ExplainParams = { folderUri: ref.folderUri, serviceId: ref.service.id };
    const r = await cx.client.sendRequest(ExplainRequest, params);
    const content = `# ${ref.service.name}\n\n${r?.markdown ?? 'No details.'}\n`;
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    await vscode.commands
      .executeCommand('markdown.showPreview', doc.uri)
      .then(undefined, () => vscode.window.showTextDocument(doc));
  };
}
