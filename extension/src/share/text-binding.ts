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
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) {
      const range = new vscode.Range(this.document.positionAt(e.offset), this.document.positionAt(e.offset + e.length));
      edit.replace(this.document.uri, range, e.text);
    }
    // applyEdit carries the document's version: VS Code refuses it (false) if the user typed since.
    return vscode.workspace.applyEdit(edit);
  }
}

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
