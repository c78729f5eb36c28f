// Binds an open vscode.TextDocument to the Y.Text of its shared file, both ways, with minimal edits. The rules (and
// the handling of edits that cross) are in text-delta.ts; this file turns them into editor calls: change events in,
// WorkspaceEdits of the smallest ranges out (never the whole document), which keeps undo, dirty state, selections and
// the language server's incremental sync working as for typed text.
import * as vscode from 'vscode';
import type * as Y from 'yjs';
import { TextBindingCore, type BindingOptions, type DocumentPort, type TextEditOp } from './text-delta';

export interface TextBinding extends vscode.Disposable {
  readonly document: vscode.TextDocument;
  readonly core: TextBindingCore;
}

class VscodeDocumentPort implements DocumentPort {
  constructor(private readonly document: vscode.TextDocument) {}

  getText(): string {
    return this.document.getText();
  }

  eol(): '\n' | '\r\n' {
    return this.document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
  }

  async applyEdits(edits: TextEditOp[]): Promise<boolean> {
    if (this.document.isClosed) return false;
    const ranges = edits.map((e) => ({
      range: new vscode.Range(this.document.positionAt(e.offset), this.document.positionAt(e.offset + e.length)),
      text: e.text,
    }));
    // Through an editor showing the document where there is one: VS Code applies an editor's edit at once, and refuses
    // it (false) if the document changed since. A workspace edit to the active editor's document has its version
    // checked before a more minimal edit is computed, and is then applied at the ranges it was computed for, even
    // after a keystroke typed meanwhile (the binding corrects that, but the caret may have moved with it).
    // A read-only editor (a viewer's, or files.readonlyInclude) answers true and changes nothing: its document's
    // version stays (an applied edit's change event arrives before the answer), and the edit goes the other way.
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === this.document);
    if (editor) {
      const version = this.document.version;
      const ok = await editor.edit(
        (b) => {
          for (const r of ranges) b.replace(r.range, r.text);
        },
        { undoStopBefore: true, undoStopAfter: true },
      );
      if (!ok || this.document.version !== version) return ok;
    }
    const edit = new vscode.WorkspaceEdit();
    for (const r of ranges) edit.replace(this.document.uri, r.range, r.text);
    // applyEdit carries the document's version: VS Code refuses it (false) if the user typed since.
    return vscode.workspace.applyEdit(edit);
  }
}

/**
 * The options every binding of a shared file gets: problems (a repaired divergence, a refused edit) go to the output
 * channel, and with `kyozo.share.traceEdits` on, one line per step too (change events, edits sent and answered), for
 * reporting a problem with shared editing.
 */
export function sharedFileBindingOptions(output: { appendLine(line: string): void }, path: string): BindingOptions {
  const traceOn = vscode.workspace.getConfiguration('kyozo').get<boolean>(TRACE_SETTING, false);
  return {
    onProblem: (m) => output.appendLine(`Kyozo Share: ${path}: ${m}`),
    trace: traceOn ? (line) => output.appendLine(`Kyozo Share trace: ${path}: ${line}`) : undefined,
  };
}

const TRACE_SETTING = 'share.traceEdits';

/** Starts keeping `document` and `ytext` equal; dispose to stop (closing the document stops it too). */
export function bindTextDocument(document: vscode.TextDocument, ytext: Y.Text, opts: BindingOptions = {}): TextBinding {
  const core = new TextBindingCore(ytext, new VscodeDocumentPort(document), opts);
  const subscriptions: vscode.Disposable[] = [];
  const binding: TextBinding = {
    document,
    core,
    dispose: () => {
      core.dispose();
      for (const s of subscriptions.splice(0)) s.dispose();
    },
  };
  subscriptions.push(
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === document) core.onDocumentChange(e.contentChanges);
    }),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (d === document) binding.dispose();
    }),
  );
  return binding;
}
