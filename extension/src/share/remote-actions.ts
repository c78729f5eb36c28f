// Remote actions in the editor. The guest's side: Deploy, Stop, Restart, Scale and Logs on a host's service become a
// request signed with this device's key, written into the room, and the host's answer comes back as a message (or, for
// logs, a terminal the host's lines stream into). The host's side: each request is checked (shared-operations.ts:
// signature, nonce, age, the requester's role as the sync server reports it), the host is asked when
// kyozo.share.confirmRemoteActions is on, and the action runs through the language server's command, as the same
// action run from this window would.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ServerCommands, type DeploymentEvent, type ServiceStatus } from '../../../server/src/protocol';
import type { KyozoModel, RemoteOrigin } from '../kyozo-model';
import type { LogTerminals } from '../log-terminal';
import { runServerCommand } from '../server-command';
import type { OpenRoom } from './share-rooms';
import {
  awaitResult,
  describeAction,
  followLogs,
  RemoteActionHost,
  sendRequest,
  stopLogs,
  type RemoteAction,
  type Requester,
  type RequestResult,
  type SignedRequest,
} from './shared-operations';

export const CONFIRM_SETTING = 'share.confirmRemoteActions';
/** How long a guest waits for the host's answer: the host may be reading the confirmation. */
const ANSWER_TIMEOUT_MS = 180_000;
/** A log stream a guest asked for ends after this long even if the guest never closes its terminal. */
const LOG_FOLLOW_MS = 15 * 60_000;

/** Guest: the function the model's remote folder acts through. */
export function guestActions(room: OpenRoom): RemoteOrigin['act'] {
  return async (action, serviceId, args = {}) => {
    if (room.role === 'viewer') {
      throw new Error(
        `you are a viewer in ${room.host}'s team: you can see the host's services but not ${action} them; ` +
          'ask an admin of the team for the member role',
      );
    }
    const what = describeAction(action, serviceId, args);
    const request = sendRequest(room.doc, room.session.identity, room.session.username, {
      room: room.roomId,
      action,
      service: serviceId,
      args: action === 'scale' ? { replicas: args.replicas } : {},
    });
    if (action === 'logs') return openRemoteLogs(room, serviceId, request);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Kyozo Share: ${what} on ${room.host}'s machine` },
      (progress) =>
        awaitResult(room.doc, request.nonce, ANSWER_TIMEOUT_MS, (r) => {
          if (r.state === 'waiting') progress.report({ message: `waiting for ${room.host} to allow it…` });
          if (r.state === 'running') progress.report({ message: 'running…' });
        }),
    );
    return answered(room, what, result);
  };
}

function answered(room: OpenRoom, what: string, result: RequestResult): RequestResult {
  if (result.state === 'refused') throw new Error(`${room.host} refused ${what}: ${result.message}`);
  if (result.state === 'failed') throw new Error(`${what} failed on ${room.host}'s machine: ${result.message}`);
  void vscode.window.showInformationMessage(`Kyozo Share: ${what} on ${room.host}'s machine: ${result.message}`);
  return result;
}

/** A terminal the host's log lines stream into; closing it tells the host to stop following. */
async function openRemoteLogs(room: OpenRoom, serviceId: string, request: SignedRequest): Promise<RequestResult> {
  const write = new vscode.EventEmitter<string>();
  let unfollow: (() => void) | undefined;
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    open: () => {
      write.fire(
        `\x1b[2m[kyozo] logs of ${serviceId} on ${room.host}'s machine (close the terminal to stop)\x1b[0m\r\n`,
      );
      unfollow = followLogs(room.doc, request.nonce, (chunk) => write.fire(chunk.replace(/\r?\n/g, '\r\n')));
    },
    close: () => {
      unfollow?.();
      stopLogs(room.doc, request.nonce);
      write.dispose();
    },
  };
  const terminal = vscode.window.createTerminal({
    name: `Kyozo logs: ${serviceId} (remote · ${room.host})`,
    pty,
    iconPath: new vscode.ThemeIcon('remote'),
  });
  terminal.show(true);
  // The answer comes when the stream ends; a refusal is shown in the terminal and as an error.
  const result = await awaitResult(room.doc, request.nonce, LOG_FOLLOW_MS + ANSWER_TIMEOUT_MS, (r) => {
    if (r.state === 'waiting') write.fire(`\x1b[2m[kyozo] waiting for ${room.host} to allow it…\x1b[0m\r\n`);
  });
  if (result.state === 'refused' || result.state === 'failed') {
    write.fire(`\r\n\x1b[31m[kyozo] ${result.state}: ${result.message}\x1b[0m\r\n`);
    return answered(room, `logs of ${serviceId}`, result);
  }
  write.fire(`\r\n\x1b[2m[kyozo] ${result.message}\x1b[0m\r\n`);
  return result;
}

/** Host: answers the room's requests until the share stops. */
export function hostActions(
  room: OpenRoom,
  client: LanguageClient,
  model: KyozoModel,
  logs: LogTerminals,
  output: vscode.OutputChannel,
): vscode.Disposable {
  const { folderUri, session } = room;
  let teamId: Promise<string> | undefined;
  const host = new RemoteActionHost(room.doc, {
    roomId: room.roomId,
    host: room.host,
    // The role is the one the sync server reports now, for the member whose device key signed the request.
    lookup: async (signer) => {
      teamId ??= session.api.room(room.roomId).then((r) => r.teamId);
      const members = await session.api.members(await teamId);
      const m = members.find((x) => x.keys.some((k) => Buffer.from(k.signPublicKey, 'base64').equals(signer)));
      return m ? { userId: m.userId, username: m.username, role: m.role } : undefined;
    },
    hasService: (id) => !!model.find(folderUri, id),
    nameOf: (id) => model.find(folderUri, id)?.service.name ?? id,
    confirm: (r, who) => confirm(r, who, model.find(folderUri, r.service)?.service.name ?? r.service),
    run: async (r, _who, io) => {
      if (!vscode.workspace.isTrusted) {
        throw new Error(
          "the host's workspace is in Restricted Mode, where Kyozo does not act on the Docker engine; " +
            'the host can trust it ("Manage Workspace Trust")',
        );
      }
      return runAction(client, logs, folderUri, r, io);
    },
    onEvent: (e) => {
      const workspace = model.folders.get(folderUri)?.topology.name ?? '';
      const event: DeploymentEvent = { id: e.id, at: e.at, type: e.type, workspace, message: e.message };
      if (e.serviceId) event.serviceId = e.serviceId;
      if (e.requestedBy) event.details = { requestedBy: e.requestedBy, remote: true };
      model.addEvent(folderUri, event);
      output.appendLine(`Kyozo Share: ${e.message}`);
    },
    onProblem: (m) => output.appendLine(`Kyozo Share: ${m}`),
  });
  return new vscode.Disposable(() => host.dispose());
}

async function confirm(r: SignedRequest, who: Requester, name: string): Promise<boolean> {
  if (!vscode.workspace.getConfiguration('kyozo').get<boolean>(CONFIRM_SETTING, true)) return true;
  const what = r.action === 'logs' ? `see the logs of ${name}` : describeAction(r.action, name, r.args);
  const pick = await vscode.window.showWarningMessage(
    `Kyozo Share: ${who.username} (${who.role}) asks to ${what} on this machine.`,
    {
      modal: true,
      detail:
        `The request is signed by ${who.username}'s device and the sync server lists them as ${who.role} of the ` +
        `team. Allow runs it here as your own "${actionTitle(r.action)}" would; every answer is recorded as a ` +
        'deployment event naming who asked. Turn kyozo.share.confirmRemoteActions off to allow members without asking.',
    },
    'Allow',
  );
  return pick === 'Allow';
}

function actionTitle(action: RemoteAction): string {
  return { deploy: 'Deploy', stop: 'Stop', restart: 'Restart', scale: 'Scale', logs: 'Show Logs' }[action];
}

/** The language server's command for each action, the one the Services view's buttons run. */
async function runAction(
  client: LanguageClient,
  logs: LogTerminals,
  folderUri: string,
  r: SignedRequest,
  io: { log(chunk: string): void; stopped: Promise<void> },
): Promise<{ message: string; serviceState?: ServiceStatus['state'] }> {
  const state = (s: ServiceStatus) => ({ message: `${s.name} is ${s.state}`, serviceState: s.state });
  switch (r.action) {
    case 'deploy': {
      const all = await runServerCommand(client, ServerCommands.deploy, folderUri, r.service);
      const s = all.find((x) => x.serviceId === r.service);
      return s ? state(s) : { message: `deployed (${all.length} services)` };
    }
    case 'stop':
      return state(await runServerCommand(client, ServerCommands.stop, folderUri, r.service));
    case 'restart':
      return state(await runServerCommand(client, ServerCommands.restart, folderUri, r.service));
    case 'scale': {
      const s = await runServerCommand(client, ServerCommands.scale, folderUri, r.service, r.args.replicas!);
      return {
        message: `${s.name} scaled to ${s.replicas.desired} (${s.replicas.running} running)`,
        serviceState: s.state,
      };
    }
    case 'logs': {
      let ended!: () => void;
      const done = new Promise<void>((resolve) => (ended = resolve));
      const stop = await logs.follow(folderUri, r.service, (text, last) => {
        if (text) io.log(text);
        if (last) ended();
      });
      const timer = setTimeout(ended, LOG_FOLLOW_MS);
      await Promise.race([io.stopped, done]);
      clearTimeout(timer);
      stop();
      return { message: 'log stream closed' };
    }
  }
}
