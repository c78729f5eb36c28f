// Share Workspace and Stop Sharing (the host), and the registration of the guest's Join Shared Workspace
// (share-filesystem.ts). Sharing a folder: pick a team, create or reuse the folder's room (its id is kept in the
// workspace state), connect an EncryptedProvider, put the folder's files into the room's document (host-files.ts),
// keep the disk in step (disk-sync.ts), bind every open document of the folder (text-binding.ts) and copy a link.
// Stopping sets the document's `ended` flag, so guests are told and turn read-only, then disconnects.
import * as vscode from 'vscode';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { ShareCommands } from '../../../server/src/protocol';
import { EncryptedProvider, RoomKeyring } from '../../../sync-server/src/client';
import { DiskSync } from './disk-sync';
import { scanHostFiles, shareHostFiles } from './host-files';
import type { CommandResult, ShareAccount, ShareSession } from './share-account';
import { ShareError } from './share-errors';
import { PARTICIPANTS_FOCUS } from './participants-view';
import { connectRoom } from './room-connection';
import { roomClosed, roomOpened } from './share-rooms';
import { registerShareFileSystem } from './share-filesystem';
import { SHARE_COMPACT_COMMAND, SHARE_ENDED_KEY, SHARE_HOST_STATE_COMMAND, shareLink } from './share-link';
import { bindTextDocument, sharedFileBindingOptions, type TextBinding } from './text-binding';
import { normalizeSharePath, WorkspaceDoc } from './workspace-doc';

const ROOM_STATE = 'kyozo.share.room:';

export interface ShareArgs {
  teamId?: string;
  /** The workspace folder to share (its URI); the first folder when omitted. */
  folder?: string;
}

export interface ShareResult {
  roomId: string;
  teamId: string;
  link: string;
  reused: boolean;
  shared: number;
  excluded: { path: string; reason: string }[];
}

class HostShare {
  private readonly bindings = new Map<string, TextBinding>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private disk: DiskSync | undefined;
  /** The room's keys, as the provider uses them (a rotation adds the new epoch). */
  keyring: RoomKeyring | undefined;

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly roomId: string,
    readonly teamId: string,
    readonly provider: EncryptedProvider,
    readonly awareness: Awareness,
    readonly workspace: WorkspaceDoc,
    private readonly output: vscode.OutputChannel,
  ) {}

  /** Starts the disk sync and binds the folder's documents, open now and opened later. */
  async start(ignore: readonly string[]): Promise<void> {
    this.disk = new DiskSync({
      root: this.folder.uri.fsPath,
      workspace: this.workspace,
      ignore,
      isOpen: (p) => this.bindings.has(p),
      onProblem: (m) => this.output.appendLine(`Kyozo Share: ${m}`),
    });
    await this.disk.start();
    for (const d of vscode.workspace.textDocuments) this.bind(d);
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.bind(d)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        const p = this.pathOf(d.uri);
        if (p && this.bindings.get(p)?.document === d) {
          this.bindings.get(p)!.dispose();
          this.bindings.delete(p);
          this.disk?.resume(p);
        }
      }),
      // A rename of an open file keeps its Y.Text; the document is bound again under its new name when it opens.
      new vscode.Disposable(
        this.workspace.onTreeChange((changes) => {
          for (const c of changes) {
            const gone = c.type === 'deleted' ? c.path : c.type === 'renamed' ? c.from : undefined;
            if (gone && this.bindings.has(gone)) {
              this.bindings.get(gone)!.dispose();
              this.bindings.delete(gone);
            }
          }
        }),
      ),
    );
  }

  /** The workspace-relative path of a file of this folder, or undefined. */
  pathOf(uri: vscode.Uri): string | undefined {
    if (uri.scheme !== 'file') return undefined;
    const rel = vscode.workspace.asRelativePath(uri, false);
    if (vscode.workspace.getWorkspaceFolder(uri)?.uri.toString() !== this.folder.uri.toString()) return undefined;
    try {
      return normalizeSharePath(rel.replace(/\\/g, '/'));
    } catch {
      return undefined;
    }
  }

  private bind(d: vscode.TextDocument): void {
    const p = this.pathOf(d.uri);
    if (!p || this.bindings.has(p)) return;
    const text = this.workspace.textOf(p);
    if (!text) return;
    this.disk?.pause(p);
    const binding = bindTextDocument(d, text, sharedFileBindingOptions(this.output, p));
    this.bindings.set(p, binding);
    // The host's disk follows the room for open files too: once a peer's edits are in the document (it holds the
    // shared text again), the document is saved, a short pause after the last one.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const observer = (_e: Y.YTextEvent, tx: Y.Transaction) => {
      if (tx.origin === binding.core.origin) return;
      if (timer) clearTimeout(timer);
      const save = () => {
        timer = undefined;
        if (d.isClosed || this.bindings.get(p) !== binding) return;
        if (d.getText() !== text.toString()) timer = setTimeout(save, 100);
        else if (d.isDirty) void d.save();
      };
      timer = setTimeout(save, 200);
    };
    text.observe(observer);
    this.subscriptions.push(
      new vscode.Disposable(() => {
        if (timer) clearTimeout(timer);
        text.unobserve(observer);
      }),
    );
  }

  get openBindings(): string[] {
    return [...this.bindings.keys()];
  }

  /**
   * Writes a snapshot of the room signed by this device, once everything sent is acknowledged and (after a rotation)
   * the room's key is at `epoch`; tried for up to 5 s. Returns whether the snapshot went out.
   */
  async compact(epoch = 0): Promise<boolean> {
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      await this.provider.whenAcked(1000).catch(() => undefined);
      if ((this.keyring?.current ?? 0) >= epoch && this.provider.compact()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.output.appendLine(`Kyozo Share: could not write a snapshot of room ${this.roomId} within 5 s`);
    return false;
  }

  /** Tells guests the share ended, waits (briefly) for the server to hold that, and disconnects. */
  async stop(reason: string): Promise<void> {
    roomClosed(this.roomId, reason);
    this.workspace.doc.transact(() => this.workspace.meta.set(SHARE_ENDED_KEY, { at: Date.now(), reason }));
    await this.provider.whenAcked(3000).catch(() => undefined);
    for (const b of this.bindings.values()) b.dispose();
    this.bindings.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    await this.disk?.dispose();
    this.awareness.destroy();
    this.provider.destroy();
  }
}

/** Registers Share Workspace, Stop Sharing and Join Shared Workspace, with the status bar item they share. */
export function registerWorkspaceShare(
  context: vscode.ExtensionContext,
  account: ShareAccount,
  output: vscode.OutputChannel,
): void {
  const status = vscode.window.createStatusBarItem('kyozo.share', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Kyozo Share';
  context.subscriptions.push(status);
  let host: HostShare | undefined;
  const showHost = () => {
    if (!host) {
      status.hide();
      return;
    }
    const peers = [...host.awareness.getStates().keys()].filter((id) => id !== host!.awareness.clientID).length;
    status.text = `$(broadcast) Sharing · ${peers}`;
    status.tooltip =
      `Kyozo Share: sharing ${host.folder.name} (room ${host.roomId}); ${peers} other participant(s). ` +
      'Click to see who is here.';
    status.command = PARTICIPANTS_FOCUS;
    status.show();
  };

  const share = async (args: ShareArgs = {}): Promise<CommandResult<ShareResult>> => {
    let s: ShareSession | undefined;
    try {
      if (host) {
        throw new ShareError(
          `${host.folder.name} is already shared: run "Kyozo Share: Stop Sharing" first to share another folder`,
        );
      }
      const folders = vscode.workspace.workspaceFolders ?? [];
      const folder = args.folder
        ? folders.find((f) => f.uri.toString() === args.folder)
        : folders.find((f) => f.uri.scheme === 'file');
      if (!folder) throw new ShareError('open a local folder to share it (File > Open Folder), then try again');
      s = await account.session();
      const teamId = args.teamId ?? (await pickTeam(s));
      if (!teamId) return undefined;
      // The folder's room: reused while it belongs to the same team, else a new one keyed to the verified devices.
      const key = `${ROOM_STATE}${s.server}:${folder.uri.toString()}`;
      const known = context.workspaceState.get<{ roomId: string; teamId: string }>(key);
      let roomId: string;
      let keyring = new RoomKeyring();
      let reused = false;
      if (
        known &&
        known.teamId === teamId &&
        (await s.api.room(known.roomId).then(
          () => true,
          () => false,
        ))
      ) {
        roomId = known.roomId;
        await s.api.loadKeyring(roomId, s.identity, s.trust, keyring);
        reused = true;
      } else {
        const made = await s.api.createRoom(teamId, `workspace ${folder.name}`, s.identity, s.trust);
        roomId = made.room.id;
        keyring = made.keyring;
        await context.workspaceState.update(key, { roomId, teamId });
      }
      const { doc, awareness, provider } = await connectRoom(s, { roomId, teamId, keyring }, 'host');
      const w = new WorkspaceDoc(doc);
      const ignore = vscode.workspace.getConfiguration('kyozo', folder.uri).get<string[]>('ignore', []);
      const scan = scanHostFiles(folder.uri.fsPath, { ignore });
      doc.transact(() => {
        w.meta.delete(SHARE_ENDED_KEY);
        w.meta.set('host', s!.username);
        shareHostFiles(w, scan);
      });
      for (const p of scan.problems) output.appendLine(`Kyozo Share: ${p}`);
      host = new HostShare(folder, roomId, teamId, provider, awareness, w, output);
      host.keyring = keyring;
      await host.start(ignore);
      const folderUri = folder.uri.toString();
      roomOpened({ side: 'host', roomId, doc, session: s, role: 'host', host: s.username, folderUri });
      awareness.on('change', showHost);
      provider.on('denied', ({ reason }: { reason: string }) => {
        void vscode.window.showErrorMessage(`Kyozo Share: the server closed the share of ${folder.name}: ${reason}`);
        void stop({ reason: 'denied' });
      });
      showHost();
      // The link goes out once the server holds the folder's files: a guest who opens it at once finds them.
      await provider.whenAcked(30_000).catch((e: Error) => output.appendLine(`Kyozo Share: ${e.message}`));
      const link = shareLink(context.extension.id, s.server, roomId);
      await vscode.env.clipboard.writeText(link);
      const excluded = scan.files.filter((f) => f.excluded).map((f) => ({ path: f.path, reason: f.excluded!.reason }));
      output.appendLine(
        `Kyozo Share: sharing ${folder.name} in room ${roomId}: ${scan.shared} files shared, ${excluded.length} listed only`,
      );
      void vscode.window.showInformationMessage(
        `Kyozo Share: sharing ${folder.name} (${scan.shared} files; ${excluded.length} listed but not shared). ` +
          'The join link is on the clipboard; only members of the team with a verified device can open it.',
      );
      return { roomId, teamId, link, reused, shared: scan.shared, excluded };
    } catch (e) {
      return account.fail(e, 'share the workspace', s?.server);
    }
  };

  const stop = async (args: { reason?: string } = {}): Promise<CommandResult<{ roomId: string }>> => {
    if (!host) {
      void vscode.window.showInformationMessage('Kyozo Share: this window is not sharing a folder.');
      return undefined;
    }
    const h = host;
    host = undefined;
    await h.stop(args.reason ?? 'stopped by the host');
    showHost();
    void vscode.window.showInformationMessage(`Kyozo Share: stopped sharing ${h.folder.name}; guests were told.`);
    return { roomId: h.roomId };
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(ShareCommands.shareWorkspace, (a?: ShareArgs) => share(a)),
    vscode.commands.registerCommand(ShareCommands.stopSharing, (a?: { reason?: string }) => stop(a)),
    vscode.commands.registerCommand(SHARE_COMPACT_COMMAND, (a: { teamId: string; roomId?: string; epoch?: number }) =>
      host && host.teamId === a.teamId && (a.roomId ?? host.roomId) === host.roomId ? host.compact(a.epoch) : false,
    ),
    vscode.commands.registerCommand(SHARE_HOST_STATE_COMMAND, () =>
      host
        ? {
            roomId: host.roomId,
            bound: host.openBindings,
            peers: host.awareness.getStates().size - 1,
            status: status.text,
          }
        : undefined,
    ),
    { dispose: () => void host?.stop('the host window closed') },
  );
  registerShareFileSystem(context, account, output, status);
}

async function pickTeam(s: ShareSession): Promise<string | undefined> {
  const list = await s.api.request<{ id: string; name: string; role: string }[]>('GET', '/v1/teams');
  if (!list.length) {
    throw new ShareError('you are in no team yet: run "Kyozo Share: Create Team", or join one with an invite');
  }
  const picked = await vscode.window.showQuickPick(
    list.map((t) => ({ label: t.name, description: t.role, id: t.id })),
    { title: 'Kyozo Share: share this folder with which team?', ignoreFocusOut: true },
  );
  return picked?.id;
}
