// The extensionTestsPath module for vscode-share-binding.test.ts: binds real TextDocuments of a code-server window to
// the Y.Text of a Y.Doc joined by real Yjs updates to a second Y.Doc (the remote peer), and checks both directions:
// a peer's insert and delete arrive as change events of just those ranges, typing (the editor's `type` command)
// reaches the peer, a CRLF file keeps \r\n on both sides, emoji count as two UTF-16 units on both sides, a file
// edited on disk while open reaches the peer, and typing while the peer types converges. Facts and any failure go to
// results.json in KYOZO_E2E_DIR.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import * as Y from 'yjs';
import { bindTextDocument } from '../../../extension/src/share/text-binding';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

interface Change {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/** A host Y.Doc holding `text`, and a peer joined to it by updates delivered on the next turn (as from a socket). */
function peers(text: string): { host: Y.Text; peer: Y.Text } {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.getText('t').insert(0, text);
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  a.on('update', (u: Uint8Array, o: unknown) => o !== 'wire' && setTimeout(() => Y.applyUpdate(b, u, 'wire'), 1));
  b.on('update', (u: Uint8Array, o: unknown) => o !== 'wire' && setTimeout(() => Y.applyUpdate(a, u, 'wire'), 1));
  return { host: a.getText('t'), peer: b.getText('t') };
}

/** Opens a file of the workspace in an editor, with its change events recorded. */
async function open(root: vscode.Uri, name: string) {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(root, name));
  const editor = await vscode.window.showTextDocument(doc);
  const events: Change[][] = [];
  const sub = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document === doc && e.contentChanges.length)
      events.push(
        e.contentChanges.map((c) => ({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text })),
      );
  });
  return { doc, editor, events, dispose: () => sub.dispose() };
}

/** Types through the editor as a user does (the `type` command at the cursor). */
async function typeAt(editor: vscode.TextEditor, offset: number, text: string): Promise<void> {
  const pos = editor.document.positionAt(offset);
  editor.selection = new vscode.Selection(pos, pos);
  await vscode.commands.executeCommand('type', { text });
}

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_E2E_DIR!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  const save = () => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  try {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!root) throw new Error('no workspace folder is open');

    // 1. A peer's insert and delete: change events of exactly those ranges; typing reaches the peer, no echo.
    {
      const f = await open(root, 'plain.txt');
      const { host, peer } = peers(f.doc.getText());
      const binding = bindTextDocument(f.doc, host);
      peer.insert(6, 'big ');
      await until('the insert', () => f.doc.getText() === 'hello big world\n');
      peer.delete(0, 6);
      await until('the delete', () => f.doc.getText() === 'big world\n');
      results.remoteEvents = f.events.slice();
      assert.deepEqual(f.events, [
        [{ rangeOffset: 6, rangeLength: 0, text: 'big ' }],
        [{ rangeOffset: 0, rangeLength: 6, text: '' }],
      ]);
      await typeAt(f.editor, 3, '!');
      await until('typing to reach the peer', () => peer.toString() === 'big! world\n');
      await sleep(200);
      assert.equal(f.events.length, 3, 'the typed change was not echoed back into the document');
      assert.equal(f.doc.isDirty, true);
      binding.dispose();
      f.dispose();
    }

    // 2. CRLF: offsets count \r\n as two; a peer's \n arrives as \r\n, and the Y.Texts hold the document's text.
    {
      const f = await open(root, 'crlf.txt');
      assert.equal(f.doc.eol, vscode.EndOfLine.CRLF);
      const { host, peer } = peers(f.doc.getText());
      const binding = bindTextDocument(f.doc, host);
      peer.insert(5, 'new\nline\n'); // after "one\r\n", from a peer whose editor uses \n
      await until('the insert', () => f.doc.getText() === 'one\r\nnew\r\nline\r\ntwo\r\n');
      await until('the peer to get \\r\\n', () => peer.toString() === f.doc.getText());
      await typeAt(f.editor, f.doc.getText().indexOf('two'), 'X');
      await until('typing after CRLF lines', () => peer.toString() === 'one\r\nnew\r\nline\r\nXtwo\r\n');
      results.crlfEvents = f.events.slice();
      assert.deepEqual(f.events[0], [{ rangeOffset: 5, rangeLength: 0, text: 'new\r\nline\r\n' }]);
      binding.dispose();
      f.dispose();
    }

    // 3. Emoji: a peer deletes one (two UTF-16 units), typing one reaches the peer whole.
    {
      const f = await open(root, 'emoji.txt');
      const { host, peer } = peers(f.doc.getText());
      const binding = bindTextDocument(f.doc, host);
      peer.delete(1, 2);
      await until('the emoji delete', () => f.doc.getText() === 'ab\n');
      assert.deepEqual(f.events[0], [{ rangeOffset: 1, rangeLength: 2, text: '' }]);
      await typeAt(f.editor, 1, '🎉');
      await until('the typed emoji at the peer', () => peer.toString() === 'a🎉b\n');
      peer.insert(3, '👩‍💻');
      await until('the peer emoji', () => f.doc.getText() === 'a🎉👩‍💻b\n');
      results.emojiEvents = f.events.slice();
      binding.dispose();
      f.dispose();
    }

    // 4. A file edited on disk while open (and not dirty): VS Code reloads it, the binding sends the change on.
    {
      const f = await open(root, 'disk.txt');
      const { host, peer } = peers(f.doc.getText());
      const binding = bindTextDocument(f.doc, host);
      writeFileSync(vscode.Uri.joinPath(root, 'disk.txt').fsPath, 'disk v1\nadded on disk\n');
      await until('the disk edit at the peer', () => peer.toString() === 'disk v1\nadded on disk\n', 30_000);
      results.diskEvents = f.events.slice();
      binding.dispose();
      f.dispose();
    }

    // 5. Typing while the peer types: 60 keystrokes each, interleaved; document and both texts end equal.
    {
      const f = await open(root, 'race.txt');
      const { host, peer } = peers(f.doc.getText());
      const log: string[] = [];
      const binding = bindTextDocument(f.doc, host, { onProblem: (m) => log.push(m), trace: (l) => log.push(l) });
      for (let i = 0; i < 60; i++) {
        peer.insert(i % 2 ? 0 : peer.length, String.fromCharCode(97 + (i % 26)));
        await typeAt(f.editor, Math.floor(f.doc.getText().length / 2), String(i % 10));
        if (i % 10 === 0) await sleep(5);
      }
      await until(
        'convergence',
        () => f.doc.getText() === host.toString() && host.toString() === peer.toString(),
        20_000,
      );
      results.race = { length: f.doc.getText().length, text: f.doc.getText(), stats: binding.core.stats, log };
      assert.equal(f.doc.getText().length, 'race\n'.length + 120);
      binding.dispose();
      f.dispose();
    }
    results.ok = true;
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
  } finally {
    results.finishedAt = new Date().toISOString();
    save();
  }
}
