// Kyozo: Describe Folder. Asks the language server for PathWalker's description of a folder and shows it as a
// read-only Markdown document (a TextDocumentContentProvider on the kyozo-folder: scheme) in the Markdown preview,
// whose evidence links open file:line. The document follows the topology: it is re-read when the folder changes.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  DescribeFolderRequest,
  type DescribeFolderParams,
  type DescribeFolderResult,
} from '../../../server/src/protocol';
import type { KyozoModel } from '../kyozo-model';

export const DESCRIPTION_SCHEME = 'kyozo-folder';

/** The description page's URI: the folder's name as the path (the tab title), the folder's file URI as the query. */
export function descriptionUri(folder: vscode.Uri): vscode.Uri {
  const name = folder.path.split('/').filter(Boolean).pop() ?? 'folder';
  return vscode.Uri.from({ scheme: DESCRIPTION_SCHEME, path: `/${name}.md`, query: folder.toString() });
}

export class FolderDescriptions implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Set<string>();
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly client: LanguageClient,
    model: KyozoModel,
  ) {
    this.subs = [
      model.onDidChangeTopology(() => {
        for (const u of this.open) this.changed.fire(vscode.Uri.parse(u));
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.open.delete(d.uri.toString())),
    ];
  }

  /** The server's description of a folder (a file URI). */
  describe(folder: vscode.Uri): Promise<DescribeFolderResult> {
    const params: DescribeFolderParams = { folder: folder.toString() };
    return this.client.sendRequest(DescribeFolderRequest, params);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    this.open.add(uri.toString());
    try {
      return (await this.describe(vscode.Uri.parse(uri.query))).markdown;
    } catch (e) {
      return `# Kyozo could not describe ${vscode.Uri.parse(uri.query).fsPath}\n\n${(e as Error).message}\n`;
    }
  }

  dispose(): void {
    this.changed.dispose();
    for (const s of this.subs) s.dispose();
  }
}

/** The folder the command was run on: the Explorer's selection, else one the user picks. */
async function pickFolder(model: KyozoModel): Promise<vscode.Uri | undefined> {
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: Item[] = [];
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file') {
    const dir = vscode.Uri.joinPath(active, '..');
    items.push({
      label: vscode.workspace.asRelativePath(dir, true),
      description: 'folder of the active file',
      uri: dir,
    });
  }
  for (const f of model.folders.values()) {
    const root = vscode.Uri.parse(f.folderUri);
    for (const s of f.topology.services)
      if (!s.composeOnly)
        items.push({
          label: vscode.workspace.asRelativePath(vscode.Uri.joinPath(root, s.folder), true),
          description: `service ${s.name}`,
          uri: vscode.Uri.joinPath(root, s.folder),
        });
  }
  items.push({ label: 'Browse…', description: 'any folder' });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Kyozo: Describe Folder',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (picked.uri) return picked.uri;
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    openLabel: 'Describe',
  });
  return chosen?.[0];
}

/** The command: opens the description and returns its document's URI (undefined when nothing was picked). */
export function describeFolderCommand(model: KyozoModel) {
  return async (arg?: unknown): Promise<vscode.Uri | undefined> => {
    const folder = arg instanceof vscode.Uri ? arg : await pickFolder(model);
    if (!folder) return undefined;
    const uri = descriptionUri(folder);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      // The Markdown preview renders the links; an editor without the built-in Markdown extension shows the text.
      await Promise.resolve(vscode.commands.executeCommand('markdown.showPreview', uri)).catch(() =>
        vscode.window.showTextDocument(doc, { preview: true }),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Kyozo: could not describe ${folder.fsPath}: ${(e as Error).message}`);
    }
    return uri;
  };
}
