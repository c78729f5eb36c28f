// Join Shared Workspace (the guest): connects to a host's room and shows its document as a file system on the
// kyozo-share: scheme (kyozo-share:/<room>/<path>). stat, readDirectory and readFile read the file tree and the
// texts; writeFile, createDirectory, delete and rename are tree operations in the document, which the host's disk
// sync makes on its disk. Documents opened there are bound to their Y.Text (text-binding.ts) so edits flow both ways.
// A viewer gets a read-only file system (writes fail with NoPermissions); when the share ends (the host stops, the
// room's key rotates past this device, the member is removed) the guest is told and the file system turns read-only.
import * as vscode from 'vscode';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { ShareCommands } from '../../../server/src/protocol';
import { EncryptedProvider, RoomKeyring } from '../../../sync-server/src/client';
import { CloseCode } from '../../../sync-server/src/wire';
import { LAYOUT_VERSION, ShareTreeError, SharePathError, WorkspaceDoc, type FileEntry } from './workspace-doc';
import type { CommandResult, ShareAccount, ShareSession } from './share-account';
import { ShareError } from './share-errors';
import { PARTICIPANTS_FOCUS } from './participants-view';
import { connectRoom } from './room-connection';
import { roomClosed, roomOpened } from './share-rooms';
import {
  parseShareLink,
  parseShareQuery,
  SHARE_ENDED_KEY,
  SHARE_PATH,
  SHARE_SCHEME,
  SHARE_STATE_COMMAND,
  splitSharePath,
  type ParsedShareLink,
} from './share-link';
import { bindTextDocument, sharedFileBindingOptions, type TextBinding } from './text-binding';

const KNOWN_ROOMS = 'kyozo.share.joined:';

export interface JoinArgs {
  link?: string;
  parsed?: ParsedShareLink;
  /** Add kyozo-share:/<room>/ to the window's folders (default true). */
  addFolder?: boolean;
}

export interface JoinResult {
  roomId: string;
  role: string;
  host: string;
  folder: string;
  readonly: boolean;
}

/** One joined room, and the file system view of its document. */
class GuestShare {
  readonly bindings = new Map<string, TextBinding>();
  readonly mtimes = new Map<string, number>();
  readonly created = Date.now();
  ended: string | undefined;
  private readonly stopTree: () => void;

  constructor(
    readonly roomId: string,
    readonly server: string,
    readonly provider: EncryptedProvider,
    readonly awareness: Awareness,
    readonly workspace: WorkspaceDoc,
    readonly role: string,
    private readonly fire: (events: vscode.FileChangeEvent[]) => void,
  ) {
    this.stopTree = workspace.onTreeChange((changes) => {
      const events: vscode.FileChangeEvent[] = [];
      for (const c of changes) {
        if (c.type === 'renamed') {
          events.push({ type: vscode.FileChangeType.Deleted, uri: this.uri(c.from) });
          events.push({ type: vscode.FileChangeType.Created, uri: this.uri(c.to) });
        } else {
          const type =
            c.type === 'created'
              ? vscode.FileChangeType.Created
              : c.type === 'deleted'
                ? vscode.FileChangeType.Deleted
                : vscode.FileChangeType.Changed;
          this.touch(c.path);
          events.push({ type, uri: this.uri(c.path) });
        }
      }
      if (events.length) fire(events);
    });
    workspace.texts.observeDeep(this.onTexts);
  }

  get readonly(): boolean {
    return this.role === 'viewer' || this.ended !== undefined;
  }

  get host(): string {
    const h = this.workspace.meta.get('host');
    return typeof h === 'string' ? h : 'the host';
  }

  uri(p: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SHARE_SCHEME, path: `/${this.roomId}/${p}` });
  }

  touch(p: string): void {
    this.mtimes.set(p, Math.max(Date.now(), (this.mtimes.get(p) ?? 0) + 1));
  }

  // A remote edit to a file no editor has open is a change VS Code reads again; an open one is bound instead.
  private readonly onTexts = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => {
    const ids = new Set(events.filter((e) => e.path.length === 1).map((e) => String(e.path[0])));
    if (!ids.size) return;
    const out: vscode.FileChangeEvent[] = [];
    for (const { path, entry } of this.workspace.list()) {
      if (!entry.text || !ids.has(entry.text)) continue;
      // A bound document holds the edit already: its modification time stays, or saving it would be refused as
      // older than the file ("the content of the file is newer").
      if (this.bindings.has(path)) continue;
      this.touch(path);
      out.push({ type: vscode.FileChangeType.Changed, uri: this.uri(path) });
    }
    if (out.length) this.fire(out);
  };

  dispose(): void {
    roomClosed(this.roomId, 'left');
    for (const b of this.bindings.values()) b.dispose();
    this.bindings.clear();
    this.stopTree();
    this.workspace.texts.unobserveDeep(this.onTexts);
    this.awareness.destroy();
    this.provider.destroy();
  }
}

class ShareFileSystem implements vscode.FileSystemProvider {
  readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  readonly shares = new Map<string, GuestShare>();

  private locate(uri: vscode.Uri): { share: GuestShare; path: string } {
    let parts: { roomId: string; path: string };
    try {
      parts = splitSharePath(uri.path);
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    const share = this.shares.get(parts.roomId);
    if (!share) throw vscode.FileSystemError.Unavailable(`${uri.toString()}: this window has not joined that share`);
    return { share, path: parts.path };
  }

  private entry(uri: vscode.Uri): { share: GuestShare; path: string; entry?: FileEntry } {
    const at = this.locate(uri);
    if (at.path === '') return at;
    const entry = at.share.workspace.entry(at.path);
    if (!entry) throw vscode.FileSystemError.FileNotFound(uri);
    return { ...at, entry };
  }

  private writable(uri: vscode.Uri): { share: GuestShare; path: string } {
    const at = this.locate(uri);
    if (at.share.ended !== undefined)
      throw vscode.FileSystemError.NoPermissions(`the share has ended (${at.share.ended}); this copy is read-only`);
    if (at.share.role === 'viewer')
      throw vscode.FileSystemError.NoPermissions('you are a viewer in this team: the shared workspace is read-only');
    if (at.path === '') throw vscode.FileSystemError.NoPermissions('the shared folder itself cannot be changed');
    return at;
  }

  private tree<T>(uri: vscode.Uri, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ShareTreeError) {
        if (e.code === 'exists') throw vscode.FileSystemError.FileExists(uri);
        if (e.code === 'not-found') throw vscode.FileSystemError.FileNotFound(uri);
        if (e.code === 'is-a-directory') throw vscode.FileSystemError.FileIsADirectory(uri);
        if (e.code === 'not-a-directory') throw vscode.FileSystemError.FileNotADirectory(uri);
        throw vscode.FileSystemError.NoPermissions(e.message);
      }
      if (e instanceof SharePathError) throw vscode.FileSystemError.NoPermissions(e.message);
      throw e;
    }
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined); // every change is reported, watched or not
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const { share, path, entry } = this.entry(uri);
    const readonly = share.readonly || !!entry?.excluded;
    const mtime = share.mtimes.get(path) ?? share.created;
    const permissions = readonly ? vscode.FilePermission.Readonly : undefined;
    if (!entry || entry.kind === 'directory')
      return { type: vscode.FileType.Directory, ctime: share.created, mtime, size: 0, permissions };
    return { type: vscode.FileType.File, ctime: share.created, mtime, size: share.workspace.size(path), permissions };
  }

  readDirectory(uri: vscode.Uri): [string, vscode.FileType][] {
    const { share, path, entry } = this.entry(uri);
    if (entry && entry.kind !== 'directory') throw vscode.FileSystemError.FileNotADirectory(uri);
    return share.workspace
      .children(path)
      .map(({ name, entry: e }) => [name, e.kind === 'directory' ? vscode.FileType.Directory : vscode.FileType.File]);
  }

  readFile(uri: vscode.Uri): Uint8Array {
    const { share, path, entry } = this.entry(uri);
    if (!entry || entry.kind === 'directory') throw vscode.FileSystemError.FileIsADirectory(uri);
    if (entry.excluded) {
      throw vscode.FileSystemError.Unavailable(
        `${path} is listed but not shared by the host (${entry.excluded.reason}: ${entry.excluded.detail})`,
      );
    }
    const text = share.workspace.textOf(path);
    return Buffer.from(text?.toString() ?? '', 'utf8');
  }

  writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): void {
    const { share, path } = this.writable(uri);
    const w = share.workspace;
    const entry = w.entry(path);
    if (!entry && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
    if (entry && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
    if (entry?.kind === 'directory') throw vscode.FileSystemError.FileIsADirectory(uri);
    if (entry?.excluded) throw vscode.FileSystemError.NoPermissions(`${path} is not shared by the host`);
    const text = Buffer.from(content).toString('utf8');
    const binding = share.bindings.get(path);
    this.tree(uri, () => {
      if (!entry) w.createFile(path, { text });
      // A bound document's save writes what the binding already put in the Y.Text: its origin keeps it from echoing.
      else w.setText(path, text, binding?.core.origin ?? w.origin);
    });
    share.touch(path);
  }

  createDirectory(uri: vscode.Uri): void {
    const { share, path } = this.writable(uri);
    this.tree(uri, () => share.workspace.createDirectory(path));
  }

  delete(uri: vscode.Uri, options: { recursive: boolean }): void {
    const { share, path } = this.writable(uri);
    this.tree(uri, () => share.workspace.delete(path, { recursive: options.recursive }));
  }

  rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): void {
    const from = this.writable(oldUri);
    const to = this.writable(newUri);
    if (from.share !== to.share) throw vscode.FileSystemError.NoPermissions('cannot move a file between two shares');
    this.tree(newUri, () => from.share.workspace.rename(from.path, to.path, { overwrite: options.overwrite }));
  }
}

/** Registers Join Shared Workspace, the kyozo-share: file system and the handler of share links. */
export function registerShareFileSystem(
  context: vscode.ExtensionContext,
  account: ShareAccount,
  output: vscode.OutputChannel,
  status: vscode.StatusBarItem,
): void {
  const fsp = new ShareFileSystem();
  // isReadonly is fixed when a provider is registered: the registration is made again when it changes (a viewer
  // joined, a share ended), with the reason shown on every editor of the folder.
  let registration: vscode.Disposable | undefined;
  let registeredReadonly: string | false | undefined;
  const register = () => {
    const reasons = [...fsp.shares.values()]
      .filter((s) => s.readonly)
      .map((s) => (s.ended ? `The share ended: ${s.ended}.` : 'You are a viewer of this share.'));
    const readonly = fsp.shares.size > 0 && reasons.length === fsp.shares.size ? reasons.join(' ') : false;
    if (registration && readonly === registeredReadonly) return;
    registration?.dispose();
    registeredReadonly = readonly;
    registration = vscode.workspace.registerFileSystemProvider(SHARE_SCHEME, fsp, {
      isCaseSensitive: true,
      isReadonly: readonly ? new vscode.MarkdownString(`Kyozo Share: ${readonly}`) : false,
    });
  };
  register();
  context.subscriptions.push(fsp.emitter, { dispose: () => registration?.dispose() });

  const showGuest = () => {
    const s = [...fsp.shares.values()][0];
    if (!s) return;
    status.text = s.ended ? `$(debug-disconnect) Share ended · ${s.host}` : `$(broadcast) Joined ${s.host}`;
    status.tooltip = s.ended
      ? `Kyozo Share: ${s.ended}. The files are a read-only copy.`
      : `Kyozo Share: joined ${s.host}'s workspace as ${s.role} (room ${s.roomId}). Click to see who is here.`;
    status.command = s.ended ? undefined : PARTICIPANTS_FOCUS;
    status.show();
  };

  const end = (share: GuestShare, reason: string) => {
    if (share.ended !== undefined) return;
    share.ended = reason;
    roomClosed(share.roomId, reason);
    // Nothing typed from here on is taken for shared: the bindings stop and the provider leaves the room.
    for (const b of share.bindings.values()) b.dispose();
    share.bindings.clear();
    share.provider.disconnect();
    output.appendLine(`Kyozo Share: the share of room ${share.roomId} ended: ${reason}`);
    register();
    showGuest();
    void vscode.window.showWarningMessage(
      `Kyozo Share: the share by ${share.host} ended: ${reason}. The files stay open as a read-only copy; ` +
        'nothing you type now reaches anyone.',
    );
  };

  const demote = async (share: GuestShare) => {
    if (fsp.shares.get(share.roomId) !== share || share.ended !== undefined) return;
    output.appendLine(`Kyozo Share: room ${share.roomId} refused an edit (no longer a writing role); joining again`);
    share.dispose();
    fsp.shares.delete(share.roomId);
    const r = await join({ parsed: { server: share.server, roomId: share.roomId }, addFolder: false });
    if (r && !('error' in r)) {
      void vscode.window.showWarningMessage(
        `Kyozo Share: you are now a ${r.role} of ${r.host}'s workspace: your last edits were not taken, and the ` +
          'open files show the shared text again.',
      );
    }
  };

  const bind = (d: vscode.TextDocument) => {
    if (d.uri.scheme !== SHARE_SCHEME) return;
    let at: { roomId: string; path: string };
    try {
      at = splitSharePath(d.uri.path);
    } catch {
      return;
    }
    const share = fsp.shares.get(at.roomId);
    const text = share?.workspace.textOf(at.path);
    if (!share || !text || share.ended !== undefined || share.bindings.has(at.path)) return;
    share.bindings.set(at.path, bindTextDocument(d, text, sharedFileBindingOptions(output, at.path)));
  };

  const join = async (args: JoinArgs = {}): Promise<CommandResult<JoinResult>> => {
    let s: ShareSession | undefined;
    try {
      let parsed = args.parsed;
      if (!parsed) {
        const text =
          args.link ??
          (await vscode.window.showInputBox({
            title: 'Kyozo Share: join a shared workspace',
            prompt: 'Paste the share link the host copied with "Kyozo Share: Share Workspace"',
            ignoreFocusOut: true,
            validateInput: (v) => {
              try {
                parseShareLink(v);
                return undefined;
              } catch (e) {
                return (e as Error).message;
              }
            },
          }));
        if (!text) return undefined;
        parsed = parseShareLink(text);
      }
      const { server, roomId } = parsed;
      const configured = account.configuredServer();
      if (configured && configured !== server) {
        throw new ShareError(
          `the link is for the sync server ${server} and you use ${configured}: nothing was sent; ` +
            'set kyozo.sync.server to that address if you trust it, sign in there, then open the link again',
        );
      }
      s = await account.session(server);
      const existing = fsp.shares.get(roomId);
      if (existing && existing.ended === undefined) return result(existing);
      existing?.dispose();
      fsp.shares.delete(roomId);
      const { teamId } = await s.api.room(roomId);
      const keyring = await s.api.loadKeyring(roomId, s.identity, s.trust, new RoomKeyring());
      if (!keyring.epochs().length) {
        throw new ShareError(
          'no key of this room is wrapped to this device yet: ask an admin of the team to verify your device ' +
            'fingerprint ("Kyozo Share: Manage Members"), then join again',
        );
      }
      const { doc, awareness, provider } = await connectRoom(s, { roomId, teamId, keyring }, 'guest');
      const w = new WorkspaceDoc(doc);
      const layout = w.layoutVersion();
      if (layout !== LAYOUT_VERSION) {
        provider.destroy();
        throw new ShareError(
          layout === undefined
            ? 'this room holds no shared workspace yet: ask the host to run "Kyozo Share: Share Workspace"'
            : `this workspace was shared with layout ${layout}, which this Kyozo does not know: update Kyozo`,
        );
      }
      const share = new GuestShare(roomId, server, provider, awareness, w, provider.role, (e) => fsp.emitter.fire(e));
      fsp.shares.set(roomId, share);
      if (w.meta.get(SHARE_ENDED_KEY) !== undefined) share.ended = `${share.host} stopped sharing`;
      w.meta.observe(() => {
        if (w.meta.get(SHARE_ENDED_KEY) !== undefined) end(share, `${share.host} stopped sharing`);
      });
      provider.on('denied', ({ code }: { code: number }) =>
        end(
          share,
          code === CloseCode.MemberRemoved
            ? 'you were removed from the team'
            : 'the sync server no longer lets this device into the room',
        ),
      );
      provider.on('keys-missing', () =>
        end(share, "the room's key was rotated and this device was not given the new one"),
      );
      // The server refused an edit: an admin made this user a viewer while joined. The refused edits are in this
      // document only, so the room is joined again from the server's copy, read-only, and open documents are brought
      // back to the room's text.
      provider.on('server-error', ({ code }: { code: string }) => {
        if (code === 'forbidden') void demote(share);
      });
      register();
      showGuest();
      if (share.ended === undefined) {
        const folderUri = share
          .uri('')
          .with({ path: `/${roomId}/` })
          .toString();
        roomOpened({ side: 'guest', roomId, doc, session: s, role: share.role, host: share.host, folderUri });
      }
      for (const d of vscode.workspace.textDocuments) bind(d);
      // Remembered before the folder is added: adding a second folder to a one-folder window makes VS Code reload it
      // into an untitled workspace, and the reloaded window joins again from this record (below).
      await context.globalState.update(`${KNOWN_ROOMS}${roomId}`, server);
      const folder = share.uri('').with({ path: `/${roomId}/` });
      if (
        args.addFolder !== false &&
        !(vscode.workspace.workspaceFolders ?? []).some((f) => f.uri.toString() === folder.toString())
      ) {
        const at = vscode.workspace.workspaceFolders?.length ?? 0;
        vscode.workspace.updateWorkspaceFolders(at, 0, { uri: folder, name: `${share.host} (Kyozo Share)` });
      }
      output.appendLine(`Kyozo Share: joined room ${roomId} on ${server} as ${share.role}`);
      void vscode.window.showInformationMessage(
        `Kyozo Share: joined ${share.host}'s workspace as ${share.role}` +
          (share.readonly ? ' (read-only).' : '. Your edits reach everyone in the room.'),
      );
      fsp.emitter.fire([{ type: vscode.FileChangeType.Changed, uri: share.uri('') }]);
      return result(share);
    } catch (e) {
      return account.fail(e, 'join the shared workspace', s?.server);
    }
  };

  const result = (share: GuestShare): JoinResult => ({
    roomId: share.roomId,
    role: share.role,
    host: share.host,
    folder: share
      .uri('')
      .with({ path: `/${share.roomId}/` })
      .toString(),
    readonly: share.readonly,
  });

  // A window opened (or reloaded) with kyozo-share: folders joins their rooms again, on the server it joined them on.
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    if (f.uri.scheme !== SHARE_SCHEME) continue;
    let roomId: string;
    try {
      roomId = splitSharePath(f.uri.path).roomId;
    } catch {
      continue;
    }
    const server = context.globalState.get<string>(`${KNOWN_ROOMS}${roomId}`);
    if (server) void join({ parsed: { server, roomId }, addFolder: false });
    else {
      void vscode.window.showWarningMessage(
        `Kyozo Share: ${f.name} is a shared workspace this device has not joined: open its share link again.`,
      );
    }
  }

  context.subscriptions.push(
    vscode.commands.registerCommand(ShareCommands.joinWorkspace, (a?: JoinArgs) => join(a)),
    vscode.commands.registerCommand(SHARE_STATE_COMMAND, () => ({
      status: status.text,
      guests: [...fsp.shares.values()].map((s) => ({ ...result(s), ended: s.ended, bound: [...s.bindings.keys()] })),
    })),
    vscode.workspace.onDidOpenTextDocument(bind),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (d.uri.scheme !== SHARE_SCHEME) return;
      try {
        const at = splitSharePath(d.uri.path);
        const share = fsp.shares.get(at.roomId);
        share?.bindings.get(at.path)?.dispose();
        share?.bindings.delete(at.path);
      } catch {
        // not a path of a share
      }
    }),
    { dispose: () => [...fsp.shares.values()].forEach((s) => s.dispose()) },
  );
}

/** Opens a share link (vscode://kyozo.kyozo/share?...): Join Shared Workspace with the link's server and room. */
export function handleShareUri(uri: vscode.Uri): boolean {
  if (uri.path !== SHARE_PATH) return false;
  let parsed: ParsedShareLink;
  try {
    parsed = parseShareQuery(uri.query);
  } catch (e) {
    void vscode.window.showErrorMessage(`Kyozo Share: cannot join the shared workspace: ${(e as Error).message}`);
    return true;
  }
  void vscode.commands.executeCommand(ShareCommands.joinWorkspace, { parsed });
  return true;
}
