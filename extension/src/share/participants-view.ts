// The Participants view (in the Kyozo view container) and the commands that act on a participant: Follow Participant,
// Stop Following and Go to Participant. Each room this window shares or has joined (share-rooms.ts reports them) gets a
// RoomPresence, which publishes this window's cursor and draws the others'; this file lists the participants of all of
// them and carries out what the follow machine (follow.ts) decides.
import * as vscode from 'vscode';
import { ShareCommands } from '../../../server/src/protocol';
import { deviceFingerprint } from './device-keys';
import { FollowMachine, type FollowStep, type FollowView, type SelectionChangeKind } from './follow';
import { decodePosition, decodeSelections, type Participant } from './presence';
import { connectionOf } from './room-connection';
import { RoomPresence, rosterIdentity } from './room-presence';
import { SHARE_SCHEME, splitSharePath } from './share-link';
import { onRooms, type OpenRoom } from './share-rooms';
import { normalizeSharePath, WorkspaceDoc } from './workspace-doc';

export const PARTICIPANTS_VIEW = 'kyozo.participants';
/** The command VS Code makes for the view: it reveals and focuses it (what a click on the share status bar runs). */
export const PARTICIPANTS_FOCUS = `${PARTICIPANTS_VIEW}.focus`;
const ACTIVE_CONTEXT = 'kyozo.share.active';
const FOLLOWING_CONTEXT = 'kyozo.share.following';
const REFRESH_MS = 10_000;

interface ParticipantNode {
  room: RoomPresence;
  participant: Participant;
}

/** A participant named by a command's argument: a view item, `{ name }` (with `roomId`), or `{ clientId }`. */
type ParticipantArg = ParticipantNode | { name?: string; clientId?: number; roomId?: string } | undefined;

class ParticipantsTree implements vscode.TreeDataProvider<ParticipantNode> {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly hub: PresenceHub) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: ParticipantNode): ParticipantNode[] {
    if (node) return [];
    return this.hub.nodes();
  }

  getTreeItem({ room, participant: p }: ParticipantNode): vscode.TreeItem {
    const item = new vscode.TreeItem(p.self ? `${p.name} (you)` : p.name);
    const followed = this.hub.followed(room, p);
    const role = [p.role, p.teamRole].filter(Boolean).join(' · ');
    const where = p.file ?? 'no shared file open';
    const parts = [role, where, p.idle ? 'idle' : 'active'];
    if (followed) parts.push('following');
    if (this.hub.rooms.size > 1) parts.push(room.options.label);
    item.description = parts.join(' · ');
    item.accessibilityInformation = { label: `${item.label as string}, ${item.description}` };
    item.id = `${room.roomId}:${p.clientId}`;
    item.iconPath = dot(p.color, p.idle);
    item.contextValue = p.self
      ? 'kyozo.participant.self'
      : followed
        ? 'kyozo.participant.followed'
        : 'kyozo.participant';
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${escape(p.name)}**${p.self ? ' (you)' : ''}\n\n`);
    tip.appendMarkdown(`${escape(role)} in ${escape(room.options.label)}\n\n`);
    tip.appendMarkdown(`Device fingerprint: \`${p.fingerprint ?? 'unknown'}\`\n\n`);
    if (!p.verified)
      tip.appendMarkdown('This device is not in the team roster this window holds: its name is its own claim.\n\n');
    if (p.claimedName) tip.appendMarkdown(`It calls itself ${escape(p.claimedName)}.\n\n`);
    tip.appendMarkdown(`In ${escape(where)}, ${p.idle ? 'idle (no move for a minute or more)' : 'active'}`);
    item.tooltip = tip;
    if (!p.self) {
      item.command = {
        command: ShareCommands.goToParticipant,
        title: 'Go to Participant',
        arguments: [{ room, participant: p }],
      };
    }
    return item;
  }
}

/** Every room's presence in this window, the view that lists them, and Follow. */
export class PresenceHub implements vscode.Disposable {
  readonly rooms = new Map<string, RoomPresence>();
  readonly tree = new ParticipantsTree(this);
  private readonly follow = new FollowMachine();
  private followRoom: string | undefined;
  private applying: Promise<void> = Promise.resolve();
  private pending: FollowView | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  view: vscode.TreeView<ParticipantNode> | undefined;

  constructor(private readonly output: vscode.OutputChannel) {
    this.subscriptions.push(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.step(this.follow.localSelection(kindOf(e.kind)));
      }),
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && EDITOR_SCHEMES.has(e.document.uri.scheme))
          this.step(this.follow.localEditor(e.document.uri.toString()));
      }),
    );
    this.tick();
  }

  /** Starts presence for a room that opened (as host or guest). */
  open(room: OpenRoom): void {
    const conn = connectionOf(room.doc);
    if (!conn) return this.output.appendLine(`Kyozo Share: no connection known for room ${room.roomId}; no presence`);
    this.rooms.get(room.roomId)?.dispose();
    const { session } = room;
    const own = deviceFingerprint(session.identity);
    const presence = new RoomPresence({
      roomId: room.roomId,
      kind: room.side,
      label: room.side === 'host' ? `sharing ${folderName(room.folderUri)}` : `joined ${room.host}`,
      awareness: conn.awareness,
      provider: conn.provider,
      workspace: new WorkspaceDoc(room.doc),
      own: rosterIdentity(session.trust, conn.teamId, session.identity.signPublicKey.toString('hex')) ?? {
        username: session.username,
        role: room.role,
        fingerprint: own,
      },
      trust: session.trust,
      teamId: conn.teamId,
      ...uriMapping(room),
    });
    presence.onDidChange(() => this.changed(presence));
    this.rooms.set(room.roomId, presence);
    void vscode.commands.executeCommand('setContext', ACTIVE_CONTEXT, true);
    this.changed(presence);
  }

  close(roomId: string, reason: string): void {
    const presence = this.rooms.get(roomId);
    if (!presence) return;
    if (this.followRoom === roomId) this.step(this.follow.stop(`the share ended (${reason})`));
    presence.dispose();
    this.rooms.delete(roomId);
    void vscode.commands.executeCommand('setContext', ACTIVE_CONTEXT, this.rooms.size > 0);
    this.tree.refresh();
  }

  nodes(): ParticipantNode[] {
    return [...this.rooms.values()].flatMap((room) =>
      room.participants().map((participant) => ({ room, participant })),
    );
  }

  followed(room: RoomPresence, p: Participant): boolean {
    return this.followRoom === room.roomId && this.follow.target?.clientId === p.clientId;
  }

  /** Follow Participant: this window shows their file, cursor and scroll until the user moves. */
  async startFollowing(arg: ParticipantArg): Promise<{ name: string; roomId: string } | { error: string } | undefined> {
    const node = await this.pick(arg, 'Follow which participant?');
    if (!node || 'error' in node) return node;
    this.follow.follow(node.participant.clientId, node.participant.name);
    this.followRoom = node.room.roomId;
    void vscode.commands.executeCommand('setContext', FOLLOWING_CONTEXT, true);
    if (this.view) this.view.message = `Following ${node.participant.name}: move the cursor or type to stop.`;
    this.tree.refresh();
    this.changed(node.room);
    return { name: node.participant.name, roomId: node.room.roomId };
  }

  stopFollowing(reason = 'Stop Following'): { stopped: string | null } {
    const name = this.follow.target?.name ?? null;
    this.step(this.follow.stop(reason));
    return { stopped: name };
  }

  /** Go to Participant: opens their file with their cursor, once (no following). */
  async goTo(arg: ParticipantArg): Promise<{ name: string; file?: string } | { error: string } | undefined> {
    const node = await this.pick(arg, 'Go to which participant?');
    if (!node || 'error' in node) return node;
    const view = viewOf(node.room, node.participant);
    if (!view) {
      void vscode.window.showInformationMessage(`Kyozo Share: ${node.participant.name} has no shared file open.`);
      return { name: node.participant.name };
    }
    try {
      await show(view);
    } catch (e) {
      // a file the host listed but did not share, say: the file system's message says why
      const error = `cannot open ${node.participant.file} where ${node.participant.name} is: ${(e as Error).message}`;
      void vscode.window.showErrorMessage(`Kyozo Share: ${error}`);
      return { error };
    }
    return { name: node.participant.name, file: node.participant.file };
  }

  private async pick(arg: ParticipantArg, title: string): Promise<ParticipantNode | { error: string } | undefined> {
    const others = this.nodes().filter((n) => !n.participant.self);
    if (arg && 'participant' in arg) return arg;
    if (arg && (arg.name !== undefined || arg.clientId !== undefined)) {
      const found = others.find(
        (n) =>
          (arg.clientId === undefined || n.participant.clientId === arg.clientId) &&
          (arg.name === undefined || n.participant.name === arg.name) &&
          (arg.roomId === undefined || n.room.roomId === arg.roomId),
      );
      if (found) return found;
      const error = `no participant ${arg.name ?? arg.clientId} in the shares of this window`;
      void vscode.window.showErrorMessage(`Kyozo Share: ${error}.`);
      return { error };
    }
    if (!others.length) {
      void vscode.window.showInformationMessage(
        this.rooms.size
          ? 'Kyozo Share: nobody else is here yet.'
          : 'Kyozo Share: share a folder or join a share first.',
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      others.map((n) => ({
        label: n.participant.name,
        description: [n.participant.teamRole, n.participant.file ?? 'no shared file', n.participant.idle ? 'idle' : '']
          .filter(Boolean)
          .join(' · '),
        detail: n.participant.fingerprint,
        node: n,
      })),
      { title: `Kyozo Share: ${title}` },
    );
    return picked?.node;
  }

  /** A room's participants changed: the view, and the followed participant's move. */
  private changed(room: RoomPresence): void {
    this.scheduleRefresh();
    const target = this.follow.target;
    if (!target || this.followRoom !== room.roomId) return;
    const p = room.participants().find((x) => x.clientId === target.clientId);
    this.step(this.follow.remote(target.clientId, p ? viewOf(room, p) : 'left'));
  }

  private step(step: FollowStep | undefined): void {
    if (!step) return;
    if (step.kind === 'stopped') {
      const name = this.nodes().find((n) => n.participant.clientId === step.target)?.participant.name ?? 'them';
      this.followRoom = undefined;
      this.pending = undefined;
      void vscode.commands.executeCommand('setContext', FOLLOWING_CONTEXT, false);
      if (this.view) this.view.message = undefined;
      vscode.window.setStatusBarMessage(`Kyozo Share: stopped following ${name} (${step.reason})`, 5000);
      this.tree.refresh();
      return;
    }
    // One view at a time, the newest: moves that come while an editor opens replace each other.
    this.pending = step.view;
    const room = this.followRoom ? this.rooms.get(this.followRoom) : undefined;
    if (!room) return;
    this.applying = this.applying.then(async () => {
      const view = this.pending;
      this.pending = undefined;
      if (!view || !this.follow.target) return;
      await show(view).catch((e: Error) => this.output.appendLine(`Kyozo Share: following: ${e.message}`));
    });
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.tree.refresh();
    }, 100);
  }

  // Idle is a matter of time passing: the view is redrawn every 10 s while any room is open.
  private tick(): void {
    const timer = setInterval(() => {
      if (this.rooms.size) {
        this.tree.refresh();
        for (const r of this.rooms.values()) r.render();
      }
    }, REFRESH_MS);
    this.subscriptions.push(new vscode.Disposable(() => clearInterval(timer)));
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const r of this.rooms.values()) r.dispose();
    this.rooms.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}

const EDITOR_SCHEMES = new Set(['file', SHARE_SCHEME, 'untitled']);

/** Where a participant is, as a view this window can show: their file as a URI, their primary selection, scroll. */
function viewOf(room: RoomPresence, p: Participant): FollowView | undefined {
  if (!p.file) return undefined;
  const file = room.options.uriOf(p.file).toString();
  const text = room.textOf(p.file);
  if (!text) return { file };
  const [s] = decodeSelections(text, p.state.selections);
  const visibleStart = p.state.visible ? decodePosition(text, p.state.visible.start) : undefined;
  const visibleEnd = p.state.visible ? decodePosition(text, p.state.visible.end) : undefined;
  return { file, anchor: s?.anchor, head: s?.head, visibleStart, visibleEnd };
}

/** Opens the view's file (or brings it to the front), sets the selection and scrolls as the participant has it. */
async function show(view: FollowView): Promise<vscode.TextEditor> {
  const uri = vscode.Uri.parse(view.file);
  const active = vscode.window.activeTextEditor;
  const editor =
    active?.document.uri.toString() === view.file
      ? active
      : await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: false });
  const d = editor.document;
  if (view.anchor !== undefined && view.head !== undefined) {
    editor.selection = new vscode.Selection(d.positionAt(view.anchor), d.positionAt(view.head));
  }
  // One reveal: two in a row (their top, then their cursor) race, the second scrolling from where the first began.
  const line = d.positionAt(view.visibleStart ?? view.head ?? 0).line;
  const reveal = () => {
    const at = d.positionAt(view.visibleStart ?? view.head ?? 0);
    const how = view.visibleStart !== undefined ? 'AtTop' : 'InCenterIfOutsideViewport';
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType[how]);
  };
  if (view.visibleStart === undefined && view.head === undefined) return editor;
  reveal();
  // An editor that has just opened may not be laid out yet and drop the reveal: it is made again if the line is still
  // out of view once the editor has scrolled (or half a second later).
  if (editor !== active) {
    await new Promise<void>((resolve) => {
      const done = () => {
        sub.dispose();
        clearTimeout(timer);
        resolve();
      };
      const sub = vscode.window.onDidChangeTextEditorVisibleRanges((e) => e.textEditor === editor && done());
      const timer = setTimeout(done, 500);
    });
    if (!editor.visibleRanges.some((r) => r.start.line <= line && line <= r.end.line)) reveal();
  }
  return editor;
}

function kindOf(kind: vscode.TextEditorSelectionChangeKind | undefined): SelectionChangeKind {
  if (kind === vscode.TextEditorSelectionChangeKind.Keyboard) return 'keyboard';
  if (kind === vscode.TextEditorSelectionChangeKind.Mouse) return 'mouse';
  if (kind === vscode.TextEditorSelectionChangeKind.Command) return 'command';
  return 'other';
}

/** How a room's files are named in this window: under the host's folder (file:) or kyozo-share:/<room>/. */
function uriMapping(room: OpenRoom): { pathOf(uri: vscode.Uri): string | undefined; uriOf(path: string): vscode.Uri } {
  const root = vscode.Uri.parse(room.folderUri);
  if (root.scheme === SHARE_SCHEME) {
    return {
      pathOf: (uri) => {
        if (uri.scheme !== SHARE_SCHEME) return undefined;
        try {
          const at = splitSharePath(uri.path);
          return at.roomId === room.roomId && at.path ? at.path : undefined;
        } catch {
          return undefined;
        }
      },
      uriOf: (path) => vscode.Uri.from({ scheme: SHARE_SCHEME, path: `/${room.roomId}/${path}` }),
    };
  }
  const prefix = root.path.endsWith('/') ? root.path : `${root.path}/`;
  return {
    pathOf: (uri) => {
      if (uri.scheme !== root.scheme || uri.authority !== root.authority || !uri.path.startsWith(prefix))
        return undefined;
      try {
        return normalizeSharePath(uri.path.slice(prefix.length));
      } catch {
        return undefined;
      }
    },
    uriOf: (path) => vscode.Uri.joinPath(root, ...path.split('/')),
  };
}

function folderName(uri: string): string {
  const p = vscode.Uri.parse(uri).path.replace(/\/+$/, '');
  return p.slice(p.lastIndexOf('/') + 1) || uri;
}

/** A filled circle in the participant's colour (hollow when idle), as the view item's icon. */
function dot(color: string, idle: boolean): vscode.Uri {
  const fill = idle ? 'none' : color;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">` +
    `<circle cx="8" cy="8" r="5" fill="${fill}" stroke="${color}" stroke-width="2"/></svg>`;
  return vscode.Uri.parse(`data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`);
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}

/** Registers the Participants view, Follow Participant, Stop Following and Go to Participant. */
export function registerPresence(context: vscode.ExtensionContext, output: vscode.OutputChannel): PresenceHub {
  const hub = new PresenceHub(output);
  const view = vscode.window.createTreeView(PARTICIPANTS_VIEW, { treeDataProvider: hub.tree, showCollapseAll: false });
  hub.view = view;
  const unsubscribe = onRooms({ opened: (r) => hub.open(r), closed: (r, reason) => hub.close(r.roomId, reason) });
  context.subscriptions.push(
    hub,
    view,
    { dispose: unsubscribe },
    vscode.commands.registerCommand(ShareCommands.followParticipant, (a?: ParticipantArg) => hub.startFollowing(a)),
    vscode.commands.registerCommand(ShareCommands.stopFollowing, () => hub.stopFollowing()),
    vscode.commands.registerCommand(ShareCommands.goToParticipant, (a?: ParticipantArg) => hub.goTo(a)),
  );
  return hub;
}
