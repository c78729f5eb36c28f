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
 * most one) plus the remote changes that came since (`queued`). A local change that arrives while an edit is in flight
 * was typed before VS Code applied it: VS Code then either refuses the edit (its version is stale; it goes back into
 * the queue) or applies it after the change with its ranges moved. Either way the local change is transformed past
 * the in-flight and queued edits into the Y.Text, and they are transformed past it (the room's inserts first at equal
 * offsets), so the edit's change event is still recognised by the text it leaves.
 */
export class TextBindingCore {
  readonly origin: unknown;
  readonly stats: BindingStats = { localChanges: 0, remoteEdits: 0, rejectedEdits: 0, repairs: 0 };
  private inflight: Delta | null = null;
  private expected: string | null = null;
  private queued = new Delta();
  private inflightAlt: Delta | null = null; // the in-flight edit with VS Code's order at equal offsets
  private expectedAlt: string | null = null;
  private mustVerify = false;
  private changedSinceSend = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private awaitingEvent = false; // the in-flight edit was applied; its change event is the next one to arrive
  private outstanding: Promise<void> | null = null;
  private failures = 0;
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
    const matches = this.port.getText() === this.expected;
    this.opts.trace?.(
      `event ${JSON.stringify(changes.map((c) => [c.rangeOffset, c.rangeLength, c.text]))} inflight=${!!this.inflight} ` +
        `awaiting=${this.awaitingEvent} matches=${matches}`,
    );
    const matchesAlt = !matches && this.expectedAlt !== null && this.port.getText() === this.expectedAlt;
    if (this.inflight && (matches || matchesAlt || this.awaitingEvent)) {
      // The edit this binding sent. VS Code may answer applyEdit before or after delivering its change event, and
      // may apply it after an edit typed meanwhile, its ranges moved past that edit's.
      this.clearInflight();
      this.awaitingEvent = false;
      this.failures = 0;
      if (!matches) this.mustVerify = true; // placed by VS Code, not where this binding would have
      if (!this.outstanding) this.pump();
      return;
    }
    const local = changesToDelta(changes);
    this.stats.localChanges++;
    this.changedSinceSend = true;
    // The edit in flight (if any) and the queued room changes are moved past the local change, which is moved past
    // them into the Y.Text; at equal offsets the room's inserts come first.
    // VS Code may also apply the in-flight edit after this change, its ranges moved past it; where an insert of each
    // falls at the same offset, its order is VS Code's, so the other order is recognised too.
    let pastInflight = local;
    if (this.inflight) {
      const text = this.port.getText();
      pastInflight = this.inflight.transform(local, true);
      this.inflightAlt = local.transform(this.inflightAlt ?? this.inflight, true);
      this.inflight = local.transform(this.inflight, false);
      this.expected = applyToString(text, this.inflight);
      this.expectedAlt = applyToString(text, this.inflightAlt);
    }
    if (this.queued.ops.length === 0) this.toText(pastInflight);
    else {
      this.toText(this.queued.transform(pastInflight, true));
      this.queued = pastInflight.transform(this.queued, false);
    }
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
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private clearInflight(): void {
    this.inflight = null;
    this.expected = null;
    this.inflightAlt = null;
    this.expectedAlt = null;
  }

  private idle(): boolean {
    return !this.outstanding && !this.inflight && !this.retryTimer && this.queued.ops.length === 0;
  }

  private toText(delta: Delta): void {
    if (delta.ops.length === 0) return;
    this.ytext.doc!.transact(() => this.ytext.applyDelta(delta.ops), this.origin);
  }

  private pump(): void {
    if (this.disposed || this.outstanding || this.inflight) return;
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
    const before = this.port.getText();
    this.inflight = this.queued;
    this.queued = new Delta();
    this.expected = applyToString(before, this.inflight);
    this.inflightAlt = null;
    this.expectedAlt = null;
    this.changedSinceSend = false;
    this.stats.remoteEdits++;
    this.opts.trace?.(`send ${JSON.stringify(edits)}`);
    this.outstanding = this.port.applyEdits(edits).then(
      (ok) => this.settled(ok),
      (err: Error) => {
        this.opts.onProblem?.(`applying a remote edit failed: ${err.message}`);
        this.settled(false);
      },
    );
  }

  private settled(ok: boolean): void {
    this.outstanding = null;
    this.opts.trace?.(`answer ${ok} inflight=${!!this.inflight} matches=${this.port.getText() === this.expected}`);
    if (this.inflight && ok) {
      if (this.port.getText() !== this.expected) {
        this.awaitingEvent = true; // applied; its change event has not arrived yet
        return;
      }
      this.clearInflight(); // applied, and the document already shows it
    }
    if (!ok) this.stats.rejectedEdits++;
    if (this.inflight) {
      // Refused (a change typed first made it stale, or the document is closing): it goes back into the queue, moved
      // past what was typed since. A document that keeps refusing is left until its next change.
      this.failures++;
      this.queued = this.inflight.compose(this.queued);
      this.clearInflight();
      if (this.failures > 20) {
        this.opts.onProblem?.('the document refused remote edits 20 times in a row; they wait for its next change');
        this.failures = 0;
        return;
      }
      if (!this.changedSinceSend) {
        // The change that made it stale has not reached this side yet: resending now would be refused again. The
        // change's event resends it (onDocumentChange pumps); this timer does if no event comes.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, 25);
        return;
      }
    }
    this.pump();
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
