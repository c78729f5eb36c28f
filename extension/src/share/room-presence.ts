// One room's presence in this window: publishes what this window shows (active file, selections, visible range, last
// activity) in the room's awareness, and draws every other participant's cursors and selections, in their colour with
// their name, in each visible editor of the file they are in. The host's editors are file: URIs and the guest's
// kyozo-share: URIs; both name a file by its path in the shared folder, so a cursor lands in the same file on every side.
// The rules (relative positions, identities from the roster, idle) are in presence.ts.
import * as vscode from 'vscode';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import type { DeviceTrust, EncryptedProvider } from '../../../sync-server/src/client';
import { fingerprint } from '../../../sync-server/src/client/identity';
import { rosterEntry } from '../../../sync-server/src/client/team-roster';
import {
  ActivityClock,
  colorOf,
  cursorsIn,
  encodeRange,
  encodeSelections,
  participantsOf,
  textColorOn,
  type Participant,
  type PresenceState,
  type RosterIdentity,
} from './presence';
import type { WorkspaceDoc } from './workspace-doc';

/** What a host's or guest's share gives presence: its room, and how its editors' URIs map to shared paths. */
export interface PresenceRoomOptions {
  roomId: string;
  kind: 'host' | 'guest';
  /** How the room is named in the Participants view and the quick pick ("sharing project", "joined carol"). */
  label: string;
  awareness: Awareness;
  provider: EncryptedProvider;
  workspace: WorkspaceDoc;
  /** This device: the account's username, its role in the team, its fingerprint. */
  own: RosterIdentity;
  trust: DeviceTrust;
  teamId: string;
  /** The shared path of a document of this room, or undefined. */
  pathOf(uri: vscode.Uri): string | undefined;
  uriOf(path: string): vscode.Uri;
}

interface ParticipantDecorations {
  color: string;
  selection: vscode.TextEditorDecorationType;
  caret: vscode.TextEditorDecorationType;
  tag: vscode.TextEditorDecorationType;
}

const RENDER_DELAY_MS = 30;
/** Renders put off in a row while a document catches up with its text, before drawing anyway (a binding that stopped). */
const MAX_STALE_RENDERS = 100;

export class RoomPresence implements vscode.Disposable {
  readonly activity = new ActivityClock();
  private readonly decorations = new Map<number, ParticipantDecorations>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private staleRenders = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly options: PresenceRoomOptions) {
    const { awareness, workspace, own } = options;
    awareness.setLocalState({
      ...(awareness.getLocalState() ?? {}),
      user: { name: own.username, color: colorOf(own.fingerprint), fingerprint: own.fingerprint },
      role: options.kind,
      lastActive: Date.now(),
    } satisfies PresenceState);
    const onAwareness = () => this.changed();
    const onUpdate = () => this.scheduleRender();
    awareness.on('change', onAwareness);
    workspace.doc.on('update', onUpdate);
    this.subscriptions.push(
      new vscode.Disposable(() => {
        awareness.off('change', onAwareness);
        workspace.doc.off('update', onUpdate);
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.publish(false)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor !== vscode.window.activeTextEditor) return;
        this.publish(e.kind !== undefined);
      }),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.publish(false);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.scheduleRender()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.options.pathOf(e.document.uri)) this.scheduleRender();
      }),
    );
    this.publish(false);
  }

  get roomId(): string {
    return this.options.roomId;
  }

  /** Called whenever the participants, their files or their cursors change. */
  onDidChange(fn: () => void): vscode.Disposable {
    this.listeners.add(fn);
    return new vscode.Disposable(() => this.listeners.delete(fn));
  }

  /** Everyone in the room now, this window first. */
  participants(now = Date.now()): Participant[] {
    const { awareness, provider, trust, teamId, own } = this.options;
    return participantsOf(awareness.getStates(), {
      self: awareness.clientID,
      own,
      ownerOf: (id) => provider.ownerOf(id),
      lookup: (key) => rosterIdentity(trust, teamId, key),
      activity: this.activity,
      now,
    });
  }

  /** The shared text of a path (for cursors), or undefined when the file is listed but not shared. */
  textOf(path: string): Y.Text | undefined {
    try {
      return this.options.workspace.textOf(path);
    } catch {
      return undefined;
    }
  }

  private changed(): void {
    this.scheduleRender();
    for (const fn of this.listeners) fn();
  }

  /** Puts this window's file, selections and visible range in the awareness (and the time, when the user acted). */
  private publish(active: boolean): void {
    if (this.disposed) return;
    const { awareness } = this.options;
    const editor = vscode.window.activeTextEditor;
    const prev = (awareness.getLocalState() ?? {}) as Partial<PresenceState>;
    const next: Partial<PresenceState> = { ...prev };
    if (active) next.lastActive = Date.now();
    if (editor) {
      const path = this.options.pathOf(editor.document.uri);
      next.file = path;
      next.selections = undefined;
      next.visible = undefined;
      const text = path ? this.textOf(path) : undefined;
      if (text) {
        const d = editor.document;
        // A position computed while an edit crosses the binding would land off: it waits for the binding.
        if (!inStep(d, text)) {
          next.selections = prev.file === path ? prev.selections : undefined;
          next.visible = prev.file === path ? prev.visible : undefined;
          this.retry(active);
        } else {
          next.selections = encodeSelections(
            text,
            editor.selections.map((s) => ({ anchor: d.offsetAt(s.anchor), head: d.offsetAt(s.active) })),
          );
          const ranges = editor.visibleRanges;
          if (ranges.length) {
            next.visible = encodeRange(text, d.offsetAt(ranges[0].start), d.offsetAt(ranges[ranges.length - 1].end));
          }
        }
      }
    }
    awareness.setLocalState(next);
  }

  private retry(active: boolean): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.publish(active);
    }, 50);
  }

  private scheduleRender(): void {
    if (this.renderTimer || this.disposed) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.render();
    }, RENDER_DELAY_MS);
  }

  /** Draws every other participant's cursors in every visible editor of this room. */
  render(): void {
    if (this.disposed) return;
    const stale = this.staleRenders;
    const participants = this.participants();
    const present = new Set(participants.filter((p) => !p.self).map((p) => p.clientId));
    for (const [id, d] of this.decorations) {
      if (present.has(id) && d.color === participants.find((p) => p.clientId === id)?.color) continue;
      disposeDecorations(d);
      this.decorations.delete(id);
    }
    for (const editor of vscode.window.visibleTextEditors) {
      const path = this.options.pathOf(editor.document.uri);
      if (!path) continue;
      const text = this.textOf(path);
      const doc = editor.document;
      // While a room edit is on its way into the document, offsets in the text do not match the document's lines:
      // the decorations stay where they are (the editor moves them with the edit) and are drawn again after it.
      if (text && !inStep(doc, text) && this.staleRenders++ < MAX_STALE_RENDERS) {
        this.scheduleRender();
        continue;
      }
      const drawn = text ? cursorsIn(path, text, participants) : [];
      const firstVisible = editor.visibleRanges[0]?.start.line ?? 0;
      for (const p of participants) {
        if (p.self) continue;
        const types = this.typesFor(p);
        const mine = drawn.find((c) => c.clientId === p.clientId);
        const hover = new vscode.MarkdownString().appendText(mine?.hover ?? '');
        const selections: vscode.DecorationOptions[] = [];
        const carets: vscode.DecorationOptions[] = [];
        const tags: vscode.DecorationOptions[] = [];
        for (const [i, s] of (mine?.selections ?? []).entries()) {
          if (s.end > s.start)
            selections.push({
              range: new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)),
              hoverMessage: hover,
            });
          const head = doc.positionAt(s.head);
          // The caret's range covers the character after it, so hovering that character shows who it is.
          const next = head.character < doc.lineAt(head.line).range.end.character ? head.translate(0, 1) : head;
          carets.push({ range: new vscode.Range(head, next), hoverMessage: hover });
          if (i === 0 && !mine!.idle) {
            // The name sits above the line, or below it on the first visible line, where above would be cut off.
            tags.push({
              range: new vscode.Range(head, head),
              renderOptions: { after: nameTag(p, head.line <= firstVisible) },
            });
          }
        }
        editor.setDecorations(types.selection, selections);
        editor.setDecorations(types.caret, carets);
        editor.setDecorations(types.tag, tags);
      }
    }
    if (this.staleRenders === stale) this.staleRenders = 0;
  }

  private typesFor(p: Participant): ParticipantDecorations {
    let d = this.decorations.get(p.clientId);
    if (d) return d;
    const color = p.color;
    d = {
      color,
      selection: vscode.window.createTextEditorDecorationType({
        backgroundColor: `${color}40`,
        borderRadius: '2px',
        overviewRulerColor: color,
        overviewRulerLane: vscode.OverviewRulerLane.Center,
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }),
      // A 2-pixel bar in the participant's colour, laid over the text so it takes no room of its own (the decoration
      // API has no property for that; the CSS goes through textDecoration, the way cursor-sharing extensions draw it).
      caret: vscode.window.createTextEditorDecorationType({
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        overviewRulerColor: color,
        overviewRulerLane: vscode.OverviewRulerLane.Center,
        before: {
          contentText: '',
          textDecoration: `none; position: absolute; top: 0; height: 100%; width: 2px; margin-left: -1px; background-color: ${color}; z-index: 2; pointer-events: none`,
        },
      }),
      tag: vscode.window.createTextEditorDecorationType({
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }),
    };
    this.decorations.set(p.clientId, d);
    return d;
  }

  dispose(): void {
    this.disposed = true;
    if (this.renderTimer) clearTimeout(this.renderTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const d of this.decorations.values()) disposeDecorations(d);
    this.decorations.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.listeners.clear();
  }
}

function nameTag(p: Participant, below: boolean): vscode.ThemableDecorationAttachmentRenderOptions {
  const place = below ? 'top: 100%' : 'bottom: 100%';
  return {
    contentText: p.name,
    color: textColorOn(p.color),
    backgroundColor: p.color,
    textDecoration:
      `none; position: absolute; ${place}; margin-left: -1px; padding: 0 4px; border-radius: 3px; font-size: 0.85em; ` +
      'line-height: 1.4em; white-space: pre; z-index: 3; pointer-events: none',
  };
}

/**
 * Whether the document and its shared text hold the same text. They do except while an edit crosses the binding (a
 * keystroke not yet in the text, a peer's edit not yet in the document), when offsets in one are off in the other;
 * the lengths can match even then, so the texts are compared when they do.
 */
function inStep(d: vscode.TextDocument, text: Y.Text): boolean {
  return d.offsetAt(d.lineAt(d.lineCount - 1).range.end) === text.length && d.getText() === text.toString();
}

function disposeDecorations(d: ParticipantDecorations): void {
  d.selection.dispose();
  d.caret.dispose();
  d.tag.dispose();
}

/** Who the device with signing key `hex` is in the team's accepted roster (username, role, fingerprint). */
export function rosterIdentity(trust: DeviceTrust, teamId: string, hex: string): RosterIdentity | undefined {
  const roster = trust.roster(teamId);
  const entry = roster && rosterEntry(roster, Buffer.from(hex, 'hex'));
  if (!entry) return undefined;
  return {
    username: entry.member.username,
    role: entry.member.role,
    fingerprint: fingerprint(entry.device.signPublicKey, entry.device.dhPublicKey),
  };
}
