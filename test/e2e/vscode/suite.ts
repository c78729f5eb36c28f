// The extensionTestsPath module: runs inside a real VS Code extension host (code-server or @vscode/test-electron).
// It drives the extension through the vscode API and writes what it saw to results.json; when an outer test watches
// the rendered workbench (code-server + Chromium), the two meet through signal files in KYOZO_E2E_DIR.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

interface KyozoApi {
  model: {
    services(): {
      folderUri: string;
      service: { id: string; name: string; type: string };
      status?: { state: string; ports: { url?: string }[] };
    }[];
    find(folderUri: string, id: string): { status?: { state: string; ports: { url?: string }[] } } | undefined;
  };
  ready: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : String(c))))
    .join('\n');
}

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const dir = process.env.KYOZO_E2E_DIR ?? join(folder?.uri.fsPath ?? '.', '..', 'e2e-signals');
  mkdirSync(dir, { recursive: true });
  const interactive = existsSync(join(dir, 'interactive'));
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  const save = () => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  const signal = (name: string) => {
    save();
    writeFileSync(join(dir, name), new Date().toISOString());
  };
  const waitSignal = (name: string, ms: number) =>
    interactive
      ? until(`signal ${name}`, () => (existsSync(join(dir, name)) ? true : undefined), ms)
      : Promise.resolve(true);
  try {
    if (!folder) throw new Error('no workspace folder is open');
    const ext = vscode.extensions.getExtension<KyozoApi>('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    const api = await ext.activate();
    await Promise.race([
      api.ready,
      sleep(60_000).then(() => {
        throw new Error('no topology within 60 s');
      }),
    ]);
    const folderUri = folder.uri.toString();
    results.services = api.model
      .services()
      .map((r) => ({ id: r.service.id, name: r.service.name, type: r.service.type }));

    const pkg = vscode.Uri.joinPath(folder.uri, 'api', 'package.json');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(pkg));
    results.hover = await until(
      'a hover on api/package.json',
      async () => {
        const h = await vscode.commands.executeCommand<vscode.Hover[]>(
          'vscode.executeHoverProvider',
          pkg,
          new vscode.Position(1, 4),
        );
        const text = hoverText(h ?? []);
        return text.includes('Kyozo service') ? text : undefined;
      },
      30_000,
    );
    // The lens and hover commands need the document loaded in the editor model.
    const lensTitles = async (uri: vscode.Uri, accept: (t: string[]) => boolean) =>
      until(
        `CodeLens on ${uri.path}`,
        async () => {
          await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
          const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
            'vscode.executeCodeLensProvider',
            uri,
            10,
          );
          const titles = (lenses ?? []).map((l) => l.command?.title ?? '');
          return accept(titles) ? titles : undefined;
        },
        60_000,
      );
    results.lensesBefore = await lensTitles(pkg, (t) => t.length > 0);
    const dockerfile = vscode.Uri.joinPath(folder.uri, 'web', 'Dockerfile');
    results.webLensesBefore = await lensTitles(dockerfile, (t) => t.length > 0);
    const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.joinPath(folder.uri, 'api', 'package.json'));
    results.apiDiagnostics = diagnostics.map((d) => ({
      message: d.message,
      line: d.range.start.line,
      code: String(typeof d.code === 'object' ? d.code.value : d.code),
    }));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.view.explorer');
    signal('phase1');

    await waitSignal('deploy', 120_000);
    results.deployReturned = await vscode.commands.executeCommand('kyozo.deployService', folderUri, 'web');
    const status = await until(
      'web running',
      () => {
        const s = api.model.find(folderUri, 'web')?.status;
        return s?.state === 'running' ? s : undefined;
      },
      240_000,
    );
    results.webStatus = status;
    results.webLensesAfter = await lensTitles(dockerfile, (t) => t.some((x) => x.includes('Stop')));
    await vscode.commands.executeCommand('kyozo.showLogs', folderUri, 'web');
    results.terminals = await until(
      'the logs terminal',
      () => {
        const names = vscode.window.terminals.map((t) => t.name);
        return names.includes('Kyozo logs: web') ? names : undefined;
      },
      20_000,
    );
    results.running = api.model
      .services()
      .filter((r) => r.status?.state === 'running')
      .map((r) => r.service.id);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.view.explorer');
    signal('phase2');
    await waitSignal('done', 120_000);
    results.ok = true;
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
  } finally {
    results.finishedAt = new Date().toISOString();
    save();
  }
  if (results.error && !interactive) throw new Error(String(results.error));
}
