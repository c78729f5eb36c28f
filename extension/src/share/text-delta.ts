// The editor-free half of the TextDocument <-> Y.Text binding: changes as deltas, and the state machine that keeps a
// document and a Y.Text equal while edits cross in both directions. text-binding.ts adapts it to vscode.
//
// Deltas are quill-delta's (retain / insert / delete over UTF-16 code units): it is the format Y.Text.applyDelta and
// Y.Text events already speak, and its compose and transform are the operational transforms needed when the editor
// and the room edit at once; its diff (fast-diff) gives the minimal edit that repairs a divergence. Offsets count
// UTF-16 units on both sides (VS Code's offsetAt, Y.Text indices), and a CRLF document counts \r\n as two.
import Delta from 'quill-delta';
import * as Y from 'yjs';

export { Delta };

/** One change of a document change event: a range of the text before the event, replaced by `text`. */
export interface TextChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/** One edit of a WorkspaceEdit: offsets in the text before the edit; edits never overlap and come in order. */
export interface TextEditOp {
  offset: number;
  length: number;
  text: string;
}

/** The delta of one change event. VS Code's changes of one event all refer to the text before the event. */
export function changesToDelta(changes: readonly TextChange[]): Delta {
  const sorted = [...changes].sort((a, b) => a.rangeOffset - b.rangeOffset);
  const d = new Delta();
  let at = 0;
  for (const c of sorted) {
    if (c.rangeOffset < at) throw new Error(`overlapping changes at offset ${c.rangeOffset}`);
    if (c.rangeOffset > at) d.retain(c.rangeOffset - at);
    if (c.text) d.insert(c.text);
    if (c.rangeLength) d.delete(c.rangeLength);
    at = c.rangeOffset + c.rangeLength;
  }
  return d.chop();
}

/** The edits of a delta, each as a range of the text before it; a delete beside an insert is one replace. */
export function deltaToEdits(delta: Delta): TextEditOp[] {
  const out: TextEditOp[] = [];
  let at = 0;
  for (const op of delta.ops) {
    if (typeof op.retain === 'number') {
      at += op.retain;
      continue;
    }
    const last = out[out.length - 1];
    const open = last && last.offset + last.length === at;
    if (typeof op.insert === 'string') {
      if (open) last.text += op.insert;
      else out.push({ offset: at, length: 0, text: op.insert });
    } else if (typeof op.delete === 'number') {
      if (open) last.length += op.delete;
      else out.push({ offset: at, length: op.delete, text: '' });
      at += op.delete;
    }
  }
  return out;
}

/** A delta applied to a string. */
export function applyToString(text: string, delta: Delta): string {
  let out = '';
  let at = 0;
  for (const op of delta.ops) {
    if (typeof op.retain === 'number') {
      out += text.slice(at, at + op.retain);
      at += op.retain;
    } else if (typeof op.insert === 'string') out += op.insert;
    else if (typeof op.delete === 'number') at += op.delete;
  }
  if (at > text.length) throw new Error(`delta spans ${at} characters; the text has ${text.length}`);
  return out + text.slice(at);
}

/** The minimal delta from `a` to `b` (fast-diff through quill-delta; never splits a surrogate pair). */
export function diffDelta(a: string, b: string): Delta {
  if (a === b) return new Delta();
  return new Delta().insert(a).diff(new Delta().insert(b)).chop();
}

/** A Y.Text event's delta, as text only (Y.Text may carry formatting attributes; the binding has none). */
export function fromYDelta(ops: readonly { insert?: unknown; retain?: number; delete?: number }[]): Delta {
  const d = new Delta();
  for (const op of ops) {
    if (typeof op.retain === 'number') d.retain(op.retain);
    else if (typeof op.delete === 'number') d.delete(op.delete);
    else if (typeof op.insert === 'string') d.insert(op.insert);
    // An embed has no place in a text file: it is skipped, and the divergence check repairs what follows from it.
  }
  return d.chop();
}

export type Eol = '\n' | '\r\n';
const LINE_BREAK = /\r\n|\r|\n/g;

export function withEol(text: string, eol: Eol): string {
  return text.replace(LINE_BREAK, eol);
}

/**
 * The correction to apply after `delta` so that the text it inserts uses `eol` (VS Code gives a document one line
 * ending and converts every line break an edit inserts to it). In the coordinates of the text after `delta`; empty when
 * nothing needs converting.
 */
export function eolFixup(delta: Delta, eol: Eol): Delta {
  const fix = new Delta();
  let at = 0; // index in the text after `delta`
  let done = 0; // up to where `fix` has been written
  for (const op of delta.ops) {
    if (typeof op.retain === 'number') at += op.retain;
    else if (typeof op.insert === 'string') {
      const s = op.insert;
      const fixed = withEol(s, eol);
      if (fixed !== s) {
        fix
          .retain(at - done)
          .delete(s.length)
          .insert(fixed);
        done = at + s.length;
      }
      at += s.length;
    }
  }
  return fix.chop();
}

/** What the binding needs of a document; text-binding.ts implements it on a vscode.TextDocument. */
export interface DocumentPort {
  getText(): string;
  eol(): Eol;
  /**
   * Applies the edits as one change. Resolves false, having applied nothing, when the document changed since the
   * text the edits were computed from (VS Code's applyEdit checks the document's version) or refused the edit.
   */
  applyEdits(edits: TextEditOp[]): Promise<boolean>;
}

export interface BindingOptions {
  /** Transaction origin of the binding's own Y.Text changes; its observer skips them. Default: the binding. */
  origin?: unknown;
  /** When the document and the text differ at bind time: which one wins. Default 'text' (the room's). */
  initial?: 'text' | 'document';
  /** Called with a one-line explanation whenever the binding repairs a divergence or an edit fails. */
  onProblem?: (message: string) => void;
  /** Receives one line per step (change events, edits sent and answered), for a debug log. */
  trace?: (line: string) => void;
  /** After this long without activity, the document is compared with the text, and a difference repaired. */
  verifyAfterMs?: number;
}

export interface BindingStats {
  localChanges: number;
  remoteEdits: number;
  rejectedEdits: number;
  repairs: number;
}

/**
 * Keeps a document and a Y.Text equal. Local change events become Y.Text edits (one transaction each, tagged with the
 * binding's origin so they are not echoed); remote Y.Text changes become document edits with minimal ranges.
 *
 * The Y.Text is the document's text (as of the last change event handled) plus the edit in flight (`inflight`, at
 * most one) plus the remote changes that came since (`queued`). While the editor has not answered the edit in flight,
 * change events are held: only the answer tells which of them is the edit's own. A refused edit (the document changed
 * since it was computed) has no event, and everything held was typed; an applied one was applied on the version it
 * was computed for, so its event is the first held (VS Code delivers it before the answer; keystrokes the editor
 * handled before answering follow it).
 * Typed changes are transformed past the edits in flight and queued into the Y.Text, and those past them (the room's
 * inserts first at equal offsets). VS Code may apply an edit to the active editor with ranges computed before a
 * keystroke typed meanwhile (its version is checked before, not after, it computes a more minimal edit): when the
 * edit's event is not the edit sent, the document is repaired at once by the minimal diff to the Y.Text.
 */
export class TextBindingCore {
  readonly origin: unknown;
  readonly stats: BindingStats = { localChanges: 0, remoteEdits: 0, rejectedEdits: 0, repairs: 0 };
  private inflight: Delta | null = null;
  private sentOn = ''; // the document's text when the edit in flight was computed
  private sentOps: Delta['ops'] = []; // the edit in flight as sent
  private typedSinceSend = new Delta(); // the changes typed since then, composed
  private queued = new Delta();
  private outstanding = false; // the edit in flight is not answered yet
  private held: Delta[] = []; // change events that came while it was unanswered
  private awaitingEvent = false; // the edit in flight was applied; its change event is the next one to arrive
  private awaitTimer: ReturnType<typeof setTimeout> | null = null;
  private mustVerify = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = RETRY_MIN_MS;
  private verifyTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly observer = (event: Y.YTextEvent, tx: Y.Transaction) => {
    if (tx.origin === this.origin) return;
    this.queued = this.queued.compose(fromYDelta(event.delta as { insert?: unknown }[]));
    this.pump();
  };

  constructor(
    readonly ytext: Y.Text,
    private readonly port: DocumentPort,
    private readonly opts: BindingOptions = {},
  ) {
    this.origin = opts.origin ?? this;
    ytext.observe(this.observer);
    const doc = port.getText();
    const text = ytext.toString();
    if (doc !== text) {
      if (withEol(text, port.eol()) === doc || opts.initial === 'document') this.toText(diffDelta(text, doc));
      else this.queued = diffDelta(doc, text);
    }
    this.pump();
  }

  /** Feeds one change event of the document (the document already holds the text after it). */
  onDocumentChange(changes: readonly TextChange[]): void {
    if (this.disposed || changes.length === 0) return;
    const change = changesToDelta(changes);
    this.opts.trace?.(
      `event ${JSON.stringify(change.ops)} outstanding=${this.outstanding} awaiting=${this.awaitingEvent}`,
    );
    if (this.outstanding) {
      this.held.push(change);
      return;
    }
    if (this.awaitingEvent) {
      this.awaitingEvent = false;
      this.clearAwaitTimer();
      this.ownEvent(change);
    } else this.local(change);
    this.pump();
  }

  /** Resolves once no edit is in flight or queued (for tests and for shutting down cleanly). */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Compares the document with the text now and repairs a difference; returns whether they differed. */
  verify(): boolean {
    if (!this.idle()) return false;
    const doc = this.port.getText();
    const text = this.ytext.toString();
    if (doc === text) return false;
    this.stats.repairs++;
    if (withEol(text, this.port.eol()) === doc) {
      this.opts.onProblem?.("the shared text had other line endings than the document; the document's are kept");
      this.toText(diffDelta(text, doc));
    } else {
      this.opts.onProblem?.(
        `the document differed from the shared text (${doc.length} vs ${text.length} characters); repaired`,
      );
      this.queued = diffDelta(doc, text);
      this.pump();
    }
    return true;
  }

  dispose(): void {
    this.disposed = true;
    this.ytext.unobserve(this.observer);
    for (const t of [this.verifyTimer, this.retryTimer, this.awaitTimer]) if (t) clearTimeout(t);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private idle(): boolean {
    return (
      !this.outstanding && !this.inflight && !this.retryTimer && !this.awaitingEvent && this.queued.ops.length === 0
    );
  }

  private toText(delta: Delta): void {
    if (delta.ops.length === 0) return;
    this.ytext.doc!.transact(() => this.ytext.applyDelta(delta.ops), this.origin);
  }

  /**
   * A change typed in the document: into the Y.Text past the edit in flight and the queued ones, which are moved past
   * it; at equal offsets the room's inserts come first.
   */
  private local(change: Delta): void {
    this.stats.localChanges++;
    let past = change;
    if (this.inflight) {
      this.typedSinceSend = this.typedSinceSend.compose(change);
      past = this.inflight.transform(change, true);
      this.inflight = change.transform(this.inflight, false);
    }
    if (this.queued.ops.length === 0) this.toText(past);
    else {
      this.toText(this.queued.transform(past, true));
      this.queued = past.transform(this.queued, false);
    }
  }

  /**
   * The change event of the edit in flight. Placed otherwise than sent, the document is corrected at once: what VS
   * Code did is undone and the edit applied as sent, as one edit that touches only those ranges (the text typed around
   * them is left alone, and the queued room edits keep their own ranges).
   */
  private ownEvent(change: Delta): void {
    const sent = this.inflight!;
    this.inflight = null;
    this.retryMs = RETRY_MIN_MS;
    if (JSON.stringify(change.ops) === JSON.stringify(sent.ops)) return;
    const before = applyToString(this.sentOn, this.typedSinceSend);
    // The same result through other ranges? (Compared with the event's own result: the document may already hold
    // keystrokes typed after it.)
    if (applyToString(before, sent) === applyToString(before, change)) return;
    const correction = change.invert(new Delta().insert(before)).compose(sent);
    this.stats.repairs++;
    this.opts.trace?.(
      `placed otherwise than sent ${JSON.stringify(sent.ops)}; correcting ${JSON.stringify(correction.ops)}`,
    );
    this.queued = correction.compose(this.queued);
  }

  private pump(): void {
    if (this.disposed || this.outstanding || this.inflight || this.awaitingEvent) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.queued.ops.length === 0) {
      if (this.mustVerify) {
        this.mustVerify = false;
        if (this.verify()) return;
      }
      for (const w of this.idleWaiters.splice(0)) w();
      this.scheduleVerify();
      return;
    }
    const fix = eolFixup(this.queued, this.port.eol());
    if (fix.ops.length) {
      this.toText(fix);
      this.queued = this.queued.compose(fix);
    }
    const edits = deltaToEdits(this.queued);
    this.sentOn = this.port.getText();
    this.sentOps = this.queued.ops;
    this.typedSinceSend = new Delta();
    this.inflight = this.queued;
    this.queued = new Delta();
    this.outstanding = true;
    this.stats.remoteEdits++;
    this.opts.trace?.(`send ${JSON.stringify(edits)}`);
    this.port.applyEdits(edits).then(
      (ok) => this.settled(ok),
      (err: Error) => {
        this.opts.onProblem?.(`applying a remote edit failed: ${err.message}`);
        this.settled(false);
      },
    );
  }

  private settled(ok: boolean): void {
    if (this.disposed) return;
    this.outstanding = false;
    const held = this.held.splice(0);
    this.opts.trace?.(`answer ${ok} held=${held.length}`);
    if (ok) {
      const own = this.ownIndex(held);
      for (const change of held.slice(0, own)) this.local(change);
      if (own < held.length) {
        this.ownEvent(held[own]);
        for (const change of held.slice(own + 1)) this.local(change);
      } else {
        // Answered before its change event arrived: the next event is the edit's. Should none come (an edit that
        // changed nothing), the comparison with the Y.Text settles it.
        this.awaitingEvent = true;
        this.awaitTimer = setTimeout(() => {
          this.awaitTimer = null;
          if (!this.awaitingEvent || this.disposed) return;
          this.awaitingEvent = false;
          this.inflight = null;
          this.mustVerify = true;
          this.pump();
        }, AWAIT_EVENT_MS);
        return;
      }
    } else {
      this.stats.rejectedEdits++;
      for (const change of held) this.local(change);
      this.queued = this.inflight!.compose(this.queued);
      this.inflight = null;
      if (held.length === 0) {
        // Refused with no change typed (the document is closing, or the change is still on its way): tried again
        // later, less often the longer it lasts; any change event tries at once.
        const ms = this.retryMs;
        this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
        if (ms >= RETRY_MAX_MS)
          this.opts.onProblem?.(`the document keeps refusing remote edits; retrying every ${ms} ms`);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, ms);
        return;
      }
    }
    this.pump();
  }

  /**
   * Which held event is the applied edit's. VS Code applies an edit only on the version it was computed for, so it is
   * the first event after it; only a workspace edit to the active editor may land later, at the ranges it was computed
   * for: an event equal to the edit moved past the ones before it, or to the edit as sent, is taken as its own first.
   * `held.length` when none came yet.
   */
  private ownIndex(held: Delta[]): number {
    if (held.length === 0) return 0;
    const sent = JSON.stringify(this.sentOps);
    let inflight = this.inflight!;
    for (let i = 0; i < held.length; i++) {
      const ops = JSON.stringify(held[i].ops);
      if (ops === JSON.stringify(inflight.ops) || ops === sent) return i;
      inflight = held[i].transform(inflight, false);
    }
    return 0;
  }

  private clearAwaitTimer(): void {
    if (this.awaitTimer) clearTimeout(this.awaitTimer);
    this.awaitTimer = null;
  }

  private scheduleVerify(): void {
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    const ms = this.opts.verifyAfterMs ?? 500;
    this.verifyTimer = setTimeout(() => {
      this.verifyTimer = null;
      if (!this.disposed) this.verify();
    }, ms);
    (this.verifyTimer as { unref?: () => void }).unref?.();
  }
}

const RETRY_MIN_MS = 25;
const RETRY_MAX_MS = 2000;
const AWAIT_EVENT_MS = 2000;
