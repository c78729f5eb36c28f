// Follow a participant, without the editor: which of their moves this window repeats, and which moves of the user end
// following. participants-view.ts feeds it the peer's presence and the editor's events and carries out its steps; the
// unit tests drive it directly.
//
// The window shows what the followed participant shows (their file, selection, scroll) until the user takes over:
// a cursor moved with the keyboard or the mouse (typing moves it too), or another editor brought to the front. Moves
// this window makes itself (the selection following sets, an edit from the room shifting the cursor) do not count.

/** Where a followed participant is: a file (as this window names it) and, when known, their selection and scroll. */
export interface FollowView {
  file: string;
  anchor?: number;
  head?: number;
  visibleStart?: number;
  visibleEnd?: number;
}

/** How the editor says a selection changed (vscode.TextEditorSelectionChangeKind, or 'other' when it does not say). */
export type SelectionChangeKind = 'keyboard' | 'mouse' | 'command' | 'other';

export type FollowStep =
  { kind: 'show'; view: FollowView; openFile: boolean } | { kind: 'stopped'; reason: string; target: number };

export class FollowMachine {
  private followed: { clientId: number; name: string } | undefined;
  private shown: FollowView | undefined;

  get target(): { clientId: number; name: string } | undefined {
    return this.followed;
  }

  /** Starts following a participant (instead of whoever was followed before). */
  follow(clientId: number, name: string): void {
    this.followed = { clientId, name };
    this.shown = undefined;
  }

  stop(reason: string): FollowStep | undefined {
    if (!this.followed) return undefined;
    const target = this.followed.clientId;
    this.followed = undefined;
    this.shown = undefined;
    return { kind: 'stopped', reason, target };
  }

  /**
   * The followed participant's presence changed (`view` undefined: they are in no shared file; 'left': they left).
   * Answers what to show, or nothing when the view did not change.
   */
  remote(clientId: number, view: FollowView | undefined | 'left'): FollowStep | undefined {
    if (!this.followed || clientId !== this.followed.clientId) return undefined;
    if (view === 'left') return this.stop(`${this.followed.name} left the share`);
    if (!view || sameView(view, this.shown)) return undefined;
    const openFile = view.file !== this.shown?.file;
    this.shown = { ...view };
    return { kind: 'show', view, openFile };
  }

  /**
   * The selection in the active editor changed. Only the keyboard and the mouse (typing moves the cursor too) are the
   * user taking over: VS Code reports the selection following sets, the one an editor opens with and a command's alike
   * (as commands), so a command that jumps elsewhere in the same file keeps following; one that opens another file
   * ends it through localEditor.
   */
  localSelection(kind: SelectionChangeKind): FollowStep | undefined {
    if (!this.followed || (kind !== 'keyboard' && kind !== 'mouse')) return undefined;
    return this.stop('you moved the cursor');
  }

  /** Another editor came to the front (`file` undefined: one that is not a text editor of a file). */
  localEditor(file: string | undefined): FollowStep | undefined {
    if (!this.followed || !this.shown || file === undefined || file === this.shown.file) return undefined;
    return this.stop('you switched to another editor');
  }
}

function sameView(a: FollowView, b: FollowView | undefined): boolean {
  return (
    !!b &&
    a.file === b.file &&
    a.anchor === b.anchor &&
    a.head === b.head &&
    a.visibleStart === b.visibleStart &&
    a.visibleEnd === b.visibleEnd
  );
}
