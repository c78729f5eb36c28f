// The editor-free logic of the TextDocument <-> Y.Text binding (extension/src/share/text-delta.ts), on an in-memory
// document that behaves like VS Code's where it matters: change events carry ranges of the text before the event,
// an edit is applied later (another thread) and refused if the document changed since it was computed, and line
// breaks an edit inserts take the document's line ending. The same binding on real TextDocuments in a real VS Code:
// test/e2e/vscode-share-binding.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import {
  applyToString,
  changesToDelta,
  Delta,
  deltaToEdits,
  diffDelta,
  TextBindingCore,
  withEol,
  type DocumentPort,
  type Eol,
  type TextChange,
  type TextEditOp,
} from '../../extension/src/share/text-delta';

class MemoryDocument implements DocumentPort {
  version = 0;
  /** Every edit the binding applied, as it sent it. */
  readonly applied: TextEditOp[][] = [];
  listener?: (changes: TextChange[]) => void;

  constructor(
    public text: string,
    private readonly lineEnding: Eol = '\n',
    private readonly latencyMs = 0,
    /** Answer applyEdits before delivering the change event (VS Code may do either). */
    private readonly answerFirst = false,
    /** Apply an edit computed before a keystroke after it, its ranges moved past it, instead of refusing it. */
    private readonly rebase = false,
    /**
     * VS Code's way with the active editor: the version is checked when the edit arrives (half the latency), a more
     * minimal edit is then computed elsewhere, and it is applied at the line and column it was computed for, even if
     * a keystroke came in between.
     */
    private readonly stale = false,
    /** Answer an applied edit a moment after its change event: keystrokes handled meanwhile come before the answer. */
    private readonly lateAnswer = false,
  ) {}

  /** history[v]: the change that took the document from version v to v + 1. */
  private readonly history: Delta[] = [];

  getText(): string {
    return this.text;
  }

  eol(): Eol {
    return this.lineEnding;
  }

  applyEdits(edits: TextEditOp[]): Promise<boolean> {
    const version = this.version;
    if (this.stale) return this.applyStale(edits, version);
    return new Promise((resolve) =>
      setTimeout(() => {
        let changes = edits.map((e) => ({ rangeOffset: e.offset, rangeLength: e.length, text: e.text }));
        if (version !== this.version) {
          if (!this.rebase) return resolve(false);
          let d = changesToDelta(changes);
          for (let v = version; v < this.version; v++) d = this.history[v].transform(d, true);
          changes = deltaToEdits(d).map((e) => ({ rangeOffset: e.offset, rangeLength: e.length, text: e.text }));
        }
        this.applied.push(edits);
        if (!this.answerFirst) {
          this.change(changes);
          if (this.lateAnswer) return setTimeout(() => resolve(true), this.latencyMs);
          return resolve(true);
        }
        // The editor has applied it (its version moved), and its change event reaches this side a moment after the
        // answer; anything typed meanwhile comes after it.
        this.version++;
        this.late.push(changes);
        resolve(true);
        setTimeout(() => this.deliverLate(), 1);
      }, this.latencyMs),
    );
  }

  private async applyStale(edits: TextEditOp[], version: number): Promise<boolean> {
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const computedOn = this.text;
    await wait(this.latencyMs / 2);
    if (version !== this.version) return false;
    await wait(this.latencyMs / 2);
    // Offsets of the text the edit was computed on, as line and column, then back to offsets of the text now.
    const lineCol = (offset: number) => {
      const before = computedOn.slice(0, offset).split('\n');
      return { line: before.length - 1, col: before[before.length - 1].length };
    };
    const lines = this.text.split('\n');
    const offsetNow = ({ line, col }: { line: number; col: number }) => {
      const l = Math.min(line, lines.length - 1);
      let at = 0;
      for (let i = 0; i < l; i++) at += lines[i].length + 1;
      return at + Math.min(col, lines[l].length);
    };
    const changes = edits.map((e) => {
      const start = offsetNow(lineCol(e.offset));
      const end = offsetNow(lineCol(e.offset + e.length));
      return { rangeOffset: start, rangeLength: Math.max(0, end - start), text: e.text };
    });
    this.applied.push(edits);
    this.change(changes);
    return true;
  }

  private late: TextChange[][] = [];

  /** Delivers change events of edits already applied in the editor (answerFirst). */
  deliverLate(): void {
    for (const c of this.late.splice(0)) {
      this.version--; // counted when it was applied
      this.change(c);
    }
  }

  /** The user typing (or a multi-cursor edit): applied now, the event delivered now. */
  type(...changes: TextChange[]): void {
    this.deliverLate();
    this.change(changes);
  }

  private change(changes: TextChange[]): void {
    this.listener?.(this.apply(changes));
  }

  private apply(changes: TextChange[]): TextChange[] {
    const normal = changes.map((c) => ({ ...c, text: withEol(c.text, this.lineEnding) }));
    for (const c of [...normal].sort((a, b) => b.rangeOffset - a.rangeOffset))
      this.text = this.text.slice(0, c.rangeOffset) + c.text + this.text.slice(c.rangeOffset + c.rangeLength);
    this.history[this.version] = changesToDelta(normal);
    this.version++;
    return normal;
  }
}

function bind(ytext: Y.Text, doc: MemoryDocument): TextBindingCore {
  const core = new TextBindingCore(ytext, doc, { verifyAfterMs: 50 });
  doc.listener = (changes) => core.onDocumentChange(changes);
  return core;
}

/** Two Y.Docs joined by their updates with a delay, as two peers through the relay. */
function peers(text: string, delayMs = 0): { a: Y.Doc; b: Y.Doc; flush: () => Promise<void> } {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.getText('t').insert(0, text);
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  let inFlight = 0;
  const link = (from: Y.Doc, to: Y.Doc) =>
    from.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === 'wire') return;
      inFlight++;
      setTimeout(() => {
        Y.applyUpdate(to, u, 'wire');
        inFlight--;
      }, delayMs * Math.random());
    });
  link(a, b);
  link(b, a);
  const flush = async () => {
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  };
  return { a, b, flush };
}

test('deltas: change events to deltas and back, edits with minimal ranges, minimal diff', () => {
  const d = changesToDelta([
    { rangeOffset: 10, rangeLength: 0, text: 'X' },
    { rangeOffset: 2, rangeLength: 3, text: '' },
  ]);
  assert.deepEqual(d.ops, [{ retain: 2 }, { delete: 3 }, { retain: 5 }, { insert: 'X' }]);
  assert.deepEqual(deltaToEdits(d), [
    { offset: 2, length: 3, text: '' },
    { offset: 10, length: 0, text: 'X' },
  ]);
  assert.equal(applyToString('0123456789abc', d), '0156789Xabc');
  assert.deepEqual(deltaToEdits(diffDelta('the quick fox', 'the quick brown fox')), [
    { offset: 10, length: 0, text: 'brown ' },
  ]);
});

test('a remote insert and delete become edits of just those ranges; typing reaches the Y.Text, not echoed', async () => {
  const { a, b, flush } = peers('hello world\n');
  const doc = new MemoryDocument('hello world\n');
  const core = bind(a.getText('t'), doc);
  b.getText('t').insert(6, 'big ');
  await flush();
  await core.whenIdle();
  assert.equal(doc.text, 'hello big world\n');
  assert.deepEqual(doc.applied, [[{ offset: 6, length: 0, text: 'big ' }]]);
  b.getText('t').delete(0, 6);
  await flush();
  await core.whenIdle();
  assert.deepEqual(doc.applied[1], [{ offset: 0, length: 6, text: '' }]);

  let ownTransactions = 0;
  a.on('afterTransaction', (tx: Y.Transaction) => tx.origin === core.origin && ownTransactions++);
  doc.type({ rangeOffset: 3, rangeLength: 0, text: '!' });
  doc.type({ rangeOffset: 0, rangeLength: 0, text: '>' }, { rangeOffset: 9, rangeLength: 0, text: '<' }); // 2 cursors
  assert.equal(a.getText('t').toString(), '>big! worl<d\n');
  assert.equal(ownTransactions, 2, 'one transaction per change event');
  await flush();
  await core.whenIdle();
  assert.equal(b.getText('t').toString(), '>big! worl<d\n');
  assert.equal(doc.applied.length, 2, 'the binding did not echo the typed changes back into the document');
  core.dispose();
});

test("CRLF document: offsets count \\r\\n as two; a peer's \\n arrives as \\r\\n in the document and the Y.Text", async () => {
  const text = 'one\r\ntwo\r\nthree\r\n';
  const { a, b, flush } = peers(text);
  const doc = new MemoryDocument(text, '\r\n');
  const core = bind(a.getText('t'), doc);
  doc.type({ rangeOffset: 10, rangeLength: 0, text: 'X' }); // after "two\r\n"
  assert.equal(a.getText('t').toString(), 'one\r\ntwo\r\nXthree\r\n');
  b.getText('t').insert(5, 'new\nline\n'); // a peer whose editor uses \n
  await flush();
  await core.whenIdle();
  await flush();
  assert.equal(doc.text, 'one\r\nnew\r\nline\r\ntwo\r\nXthree\r\n');
  assert.equal(a.getText('t').toString(), doc.text);
  assert.equal(b.getText('t').toString(), doc.text, 'the peer gets the converted line endings too');
  assert.deepEqual(doc.applied[0], [{ offset: 5, length: 0, text: 'new\r\nline\r\n' }]);
  core.dispose();
});

test('surrogate pairs: Y.Text and the document both count UTF-16 units; an emoji is inserted and deleted whole', async () => {
  const { a, b, flush } = peers('a😀b');
  const doc = new MemoryDocument('a😀b');
  const core = bind(a.getText('t'), doc);
  b.getText('t').delete(1, 2);
  await flush();
  await core.whenIdle();
  assert.equal(doc.text, 'ab');
  assert.deepEqual(doc.applied[0], [{ offset: 1, length: 2, text: '' }]);
  doc.type({ rangeOffset: 1, rangeLength: 0, text: '👩‍💻' });
  assert.equal(a.getText('t').toString(), 'a👩‍💻b');
  await flush();
  b.getText('t').insert(a.getText('t').length - 1, '🎉');
  await flush();
  await core.whenIdle();
  assert.equal(doc.text, 'a👩‍💻🎉b');
  doc.type({ rangeOffset: 1, rangeLength: 5, text: '' }); // the 5 units of 👩‍💻
  await flush();
  assert.equal(b.getText('t').toString(), 'a🎉b');
  core.dispose();
});

test('typing while a remote edit is in flight: the stale edit is refused, retried, and both edits survive', async () => {
  const { a, b, flush } = peers('middle\n');
  const doc = new MemoryDocument('middle\n', '\n', 15);
  const core = bind(a.getText('t'), doc);
  b.getText('t').insert(0, 'REMOTE ');
  await flush(); // the edit is now in flight for 15 ms
  doc.type({ rangeOffset: 6, rangeLength: 0, text: ' LOCAL' }); // typed before it lands
  doc.type({ rangeOffset: 0, rangeLength: 0, text: '>' });
  await core.whenIdle();
  await flush();
  // Both inserts at offset 0 were concurrent: the room's comes first, on every peer.
  assert.equal(doc.text, 'REMOTE >middle LOCAL\n');
  assert.equal(a.getText('t').toString(), doc.text);
  assert.equal(b.getText('t').toString(), doc.text);
  assert.ok(core.stats.rejectedEdits >= 1, JSON.stringify(core.stats));
  core.dispose();
});

test('an edit VS Code applies after a keystroke typed first, its ranges moved, is recognised and not sent twice', async () => {
  const { a, b, flush } = peers('middle\n');
  const doc = new MemoryDocument('middle\n', '\n', 15, false, true);
  const core = bind(a.getText('t'), doc);
  b.getText('t').insert(0, 'REMOTE ');
  b.getText('t').insert(13, '!');
  await flush(); // in flight for 15 ms
  doc.type({ rangeOffset: 6, rangeLength: 0, text: ' LOCAL' });
  doc.type({ rangeOffset: 3, rangeLength: 0, text: '-' });
  await core.whenIdle();
  await flush();
  await new Promise((r) => setTimeout(r, 80)); // past the divergence check
  assert.equal(doc.text, 'REMOTE mid-dle! LOCAL\n');
  assert.equal(a.getText('t').toString(), doc.text);
  assert.equal(b.getText('t').toString(), doc.text);
  assert.deepEqual(core.stats, { localChanges: 2, remoteEdits: 2, rejectedEdits: 0, repairs: 0 });
  core.dispose();
});

test('a divergence (the document changed without an event) is repaired by a minimal diff', async () => {
  const { a } = peers('line one\nline two\n');
  const doc = new MemoryDocument('line one\nline two\n');
  const core = bind(a.getText('t'), doc);
  doc.text = 'line one\nline 2\n';
  assert.equal(core.verify(), true);
  await core.whenIdle();
  assert.equal(doc.text, 'line one\nline two\n');
  assert.deepEqual(doc.applied.at(-1), [{ offset: 14, length: 1, text: 'two' }]);
  assert.equal(core.stats.repairs, 1);
  core.dispose();
});

test(
  'two peers typing at once (300 random edits each, with emoji and line breaks) converge on one text',
  { timeout: 30_000 },
  async () => {
    const start = 'shared start\n';
    const { a, b, flush } = peers(start, 8);
    const docA = new MemoryDocument(start, '\n', 2, false, false, true); // at stale ranges, as VS Code's active editor
    const docB = new MemoryDocument(start, '\n', 3, true); // answers before its change event, as VS Code may
    const coreA = bind(a.getText('t'), docA);
    const coreB = bind(b.getText('t'), docB);
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['x', 'yz', '\n', '😀', 'hello ', 'é'];
    /** A random edit at a cursor that never splits a surrogate pair. */
    const edit = (doc: MemoryDocument) => {
      doc.deliverLate(); // the user types on the text the editor shows
      const t = doc.text;
      const at = (i: number) => (i > 0 && i < t.length && /[\uDC00-\uDFFF]/.test(t[i]) ? i - 1 : i);
      const offset = at(rand(t.length + 1));
      if (rand(3) === 0 && offset < t.length) {
        const end = at(Math.min(t.length, offset + 1 + rand(4)));
        if (end > offset) return doc.type({ rangeOffset: offset, rangeLength: end - offset, text: '' });
      }
      doc.type({ rangeOffset: offset, rangeLength: 0, text: pieces[rand(pieces.length)] });
    };
    for (let i = 0; i < 300; i++) {
      edit(docA);
      edit(docB);
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, rand(4)));
    }
    for (let round = 0; round < 50; round++) {
      await flush();
      await Promise.all([coreA.whenIdle(), coreB.whenIdle()]);
      await new Promise((r) => setTimeout(r, 10));
      if (docA.text === docB.text && docA.text === a.getText('t').toString()) break;
    }
    assert.equal(a.getText('t').toString(), b.getText('t').toString(), 'the Y.Texts converge');
    assert.equal(docA.text, a.getText('t').toString(), 'document A holds its Y.Text');
    assert.equal(docB.text, b.getText('t').toString(), 'document B holds its Y.Text');
    // B refuses stale edits: nothing to correct. A applies some at the ranges they were computed for, after a
    // keystroke typed meanwhile: each of those was corrected.
    assert.equal(coreB.stats.repairs, 0, JSON.stringify(coreB.stats));
    console.log(`# A ${JSON.stringify(coreA.stats)}, B ${JSON.stringify(coreB.stats)}`);
    coreA.dispose();
    coreB.dispose();
  },
);

for (const [name, modeA, modeB] of [
  ['both refuse stale edits', {}, {}],
  ['both answer first', { answerFirst: true }, { answerFirst: true }],
  ["both apply at stale ranges, as VS Code's active editor", { stale: true }, { stale: true }],
  ['A at stale ranges, B refuses', { stale: true }, {}],
  ['A at stale ranges, B answers first', { stale: true }, { answerFirst: true }],
  ['both answer after keystrokes typed after the edit', { lateAnswer: true }, { lateAnswer: true }],
] as const) {
  // Both type single characters at their carets, which start at the same spot: every insert of one lands beside the
  // other's. Whichever way VS Code orders them, each typist's keystrokes must all survive, in the order typed.
  test(
    `two typists at the same spot (${name}): every keystroke survives, in its typist's order`,
    { timeout: 60_000 },
    async () => {
      const start = 'shared notes\n';
      for (let seedBase = 1; seedBase <= 20; seedBase++) {
        const { a, b, flush } = peers(start, 6);
        type Mode = { rebase?: boolean; answerFirst?: boolean; stale?: boolean; lateAnswer?: boolean };
        const [A, B] = [modeA as Mode, modeB as Mode];
        const docA = new MemoryDocument(start, '\n', 2, !!A.answerFirst, !!A.rebase, !!A.stale, !!A.lateAnswer);
        const docB = new MemoryDocument(start, '\n', 3, !!B.answerFirst, !!B.rebase, !!B.stale, !!B.lateAnswer);
        const coreA = bind(a.getText('t'), docA);
        const coreB = bind(b.getText('t'), docB);
        let seed = seedBase;
        const rand = (n: number) => {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          return seed % n;
        };
        let typedA = '';
        let typedB = '';
        for (let i = 0; i < 150; i++) {
          for (const [who, doc] of [
            ['A', docA],
            ['B', docB],
          ] as const) {
            doc.deliverLate();
            const ch = who === 'A' ? String.fromCharCode(97 + (i % 26)) : String.fromCharCode(65 + (i % 26));
            // The caret: after this typist's last character in its document (at first, the end of the first line).
            const mine = who === 'A' ? /[a-z]/ : /[A-Z]/;
            const t = doc.text;
            const line = t.indexOf('\n');
            let at = 'shared notes'.length;
            for (let k = at; k < line; k++) if (mine.test(t[k])) at = k + 1;
            doc.type({ rangeOffset: at, rangeLength: 0, text: ch });
            if (who === 'A') typedA += ch;
            else typedB += ch;
          }
          if (rand(3) === 0) await new Promise((r) => setTimeout(r, rand(5)));
        }
        for (let round = 0; round < 80; round++) {
          await flush();
          await Promise.all([coreA.whenIdle(), coreB.whenIdle()]);
          await new Promise((r) => setTimeout(r, 10));
          if (
            docA.text === docB.text &&
            docA.text === a.getText('t').toString() &&
            docB.text === b.getText('t').toString()
          )
            break;
        }
        const final = docA.text;
        assert.equal(docB.text, final, `seed ${seedBase}: documents equal`);
        const part = final.slice('shared notes'.length);
        assert.equal(
          [...part].filter((c) => /[a-z]/.test(c)).join(''),
          typedA,
          `seed ${seedBase}: A ${JSON.stringify(coreA.stats)} ${final}`,
        );
        assert.equal(
          [...part].filter((c) => /[A-Z]/.test(c)).join(''),
          typedB,
          `seed ${seedBase}: B ${JSON.stringify(coreB.stats)} ${final}`,
        );
        coreA.dispose();
        coreB.dispose();
      }
    },
  );
}
