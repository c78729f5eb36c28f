// Shared services in the editor. A window that shares a folder publishes that folder's services, their status and its
// deployment events into the room (shared-operations.ts), live as the language server reports them, and answers the
// guests' signed requests (remote-actions.ts). A window that joined a share shows the host's services as a remote
// folder of the model (kyozo-share:/<room>/), so the Services view, the Explorer badges on the shared folders, the
// topology panel and the Deployment Events view show them as they show local ones, marked remote; hovers on the
// indicator files of the shared folder say which service they make.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { DeploymentEvent } from '../../../server/src/protocol';
import type { KyozoModel, RemoteOrigin } from '../kyozo-model';
import type { LogTerminals } from '../log-terminal';
import { tooltipOf } from '../service-presentation';
import { guestActions, hostActions } from './remote-actions';
import { SHARE_SCHEME } from './share-link';
import { onRooms, type OpenRoom } from './share-rooms';
import {
  onSharedChange,
  publishEvent,
  publishStatuses,
  publishTopology,
  readShared,
  shareEvent,
  shareStatus,
  shareTopology,
  toStatus,
  toTopology,
  type SharedEvent,
} from './shared-operations';

/** The command that reports the remote folders this window shows (for diagnostics and the end-to-end tests). */
export const SHARE_REMOTE_STATE_COMMAND = 'kyozo.share.remoteState';
const PUBLISHED_EVENTS = 30;

export function registerSharedOperations(
  context: vscode.ExtensionContext,
  client: LanguageClient,
  model: KyozoModel,
  logs: LogTerminals,
  output: vscode.OutputChannel,
): void {
  const open = new Map<string, vscode.Disposable>();
  const unsubscribe = onRooms({
    opened: (room) => {
      open.get(room.roomId)?.dispose();
      open.set(
        room.roomId,
        room.side === 'host' ? publishHost(room, client, model, logs, output) : showGuest(room, model, output),
      );
    },
    closed: (room) => {
      open.get(room.roomId)?.dispose();
      open.delete(room.roomId);
    },
  });
  context.subscriptions.push(
    { dispose: unsubscribe },
    { dispose: () => [...open.values()].forEach((d) => d.dispose()) },
    vscode.languages.registerHoverProvider({ scheme: SHARE_SCHEME }, { provideHover: (d) => indicatorHover(model, d) }),
    vscode.commands.registerCommand(SHARE_REMOTE_STATE_COMMAND, () =>
      [...model.folders.values()]
        .filter((f) => f.remote)
        .map((f) => ({
          folderUri: f.folderUri,
          host: f.remote!.host,
          role: f.remote!.role,
          services: f.topology.services.map((s) => ({
            id: s.id,
            name: s.name,
            type: s.type,
            state: f.statuses.get(s.id)?.state ?? 'not-deployed',
            replicas: f.statuses.get(s.id)?.replicas,
          })),
          events: model.events.filter((e) => e.folderUri === f.folderUri).map((e) => e.message ?? e.type),
        })),
    ),
  );
}

/** Host: keeps the room's copy of the folder's services, statuses and events in step with the model. */
function publishHost(
  room: OpenRoom,
  client: LanguageClient,
  model: KyozoModel,
  logs: LogTerminals,
  output: vscode.OutputChannel,
): vscode.Disposable {
  const { doc, folderUri } = room;
  const topology = () => {
    const f = model.folders.get(folderUri);
    if (f) publishTopology(doc, room.host, shareTopology(f.topology));
  };
  const statuses = () => {
    const f = model.folders.get(folderUri);
    if (f) publishStatuses(doc, [...f.statuses.values()].map(shareStatus));
  };
  topology();
  statuses();
  const recent = model.events.filter((e) => e.folderUri === folderUri && e.type !== 'remote_action');
  for (const e of recent.slice(0, PUBLISHED_EVENTS).reverse()) publishEvent(doc, shareEvent(e));
  const subs = [
    model.onDidChangeTopology((f) => f === folderUri && topology()),
    model.onDidChangeStatus((f) => f === folderUri && statuses()),
    model.onDidAddEvent((e) => {
      // Remote actions are published by the host of requests itself; the others are this folder's engine events.
      const entry = model.events.find((x) => x.id === e.id);
      if (entry?.folderUri === folderUri && e.type !== 'remote_action') publishEvent(doc, shareEvent(e));
    }),
    hostActions(room, client, model, logs, output),
  ];
  output.appendLine(`Kyozo Share: publishing the services of ${folderUri} in room ${room.roomId}`);
  return vscode.Disposable.from(...subs);
}

/** Guest: the host's published services as a remote folder of the model, kept live, dropped when the share ends. */
function showGuest(room: OpenRoom, model: KyozoModel, output: vscode.OutputChannel): vscode.Disposable {
  const { doc, folderUri } = room;
  const remote: RemoteOrigin = { roomId: room.roomId, host: room.host, role: room.role, act: guestActions(room) };
  const update = () => {
    const shared = readShared(doc);
    if (!shared.topology) return;
    const topology = toTopology(shared.topology);
    const host = shared.host ?? room.host;
    remote.host = host;
    const events = shared.events.map((e) => ({ ...toEvent(e, topology.name), folderUri }));
    model.putRemote(
      { folderUri, topology, statuses: new Map(shared.statuses.map((s) => [s.serviceId, toStatus(s)])), remote },
      events,
    );
  };
  update();
  const stop = onSharedChange(doc, update);
  output.appendLine(`Kyozo Share: showing ${room.host}'s services of room ${room.roomId}`);
  return new vscode.Disposable(() => {
    stop();
    model.dropRemote(folderUri);
  });
}

function toEvent(e: SharedEvent, workspace: string): DeploymentEvent {
  return {
    id: e.id,
    at: e.at,
    type: e.type,
    workspace,
    ...(e.serviceId ? { serviceId: e.serviceId } : {}),
    ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
    ...(e.message ? { message: e.message } : {}),
    ...(e.requestedBy ? { details: { requestedBy: e.requestedBy } } : {}),
  };
}

/** A hover on an indicator file of a host's service (its Dockerfile, package.json, ...) in the shared folder. */
function indicatorHover(model: KyozoModel, d: vscode.TextDocument): vscode.Hover | undefined {
  for (const f of model.folders.values()) {
    if (!f.remote) continue;
    const root = vscode.Uri.parse(f.folderUri).path.replace(/\/$/, '');
    if (!d.uri.path.startsWith(`${root}/`)) continue;
    const rel = d.uri.path.slice(root.length + 1);
    const service = f.topology.services.find((s) => s.indicators.includes(rel));
    if (!service) continue;
    const md = tooltipOf(service, f.statuses.get(service.id));
    md.appendMarkdown(`\n\nKyozo service on ${f.remote.host}'s machine (remote, Kyozo Share)`);
    return new vscode.Hover(md, new vscode.Range(0, 0, 0, 0));
  }
  return undefined;
}
