// The extensionTestsPath module for vscode-workspace-trust.test.ts: runs in the extension host of a code-server window
// opened in Restricted Mode, on a workspace whose .vscode/settings.json names another Docker engine and turns on
// auto-deploy. It reports what the extension saw and did to results.json; the outer test (Chromium) checks the
// workbench, grants trust through the refusal's "Manage Workspace Trust" button, and they meet through signal files.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

interface KyozoApi {
  model: {
    services(): { service: { id: string }; status?: { state: string } }[];
    find(folderUri: string, id: string): { status?: { state: string } } | undefined;
    engine?: { reachable: boolean; host?: string };
  };
  ready: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Where a setting's value comes from: what a workspace file says, and what the extension gets. */
function origin(key: string): { workspaceValue: unknown; workspaceFolderValue: unknown; effective: unknown } {
  const c = vscode.workspace.getConfiguration('kyozo');
  const i = c.inspect(key);
  return { workspaceValue: i?.workspaceValue, workspaceFolderValue: i?.workspaceFolderValue, effective: c.get(key) };
}

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const dir = process.env.KYOZO_E2E_DIR!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  const save = () => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  const signal = (name: string) => {
    save();
    writeFileSync(join(dir, name), new Date().toISOString());
  };
  const waitSignal = (name: string, ms: number) =>
    until(`signal ${name}`, () => existsSync(join(dir, name)) || undefined, ms);
  try {
    if (!folder) throw new Error('no workspace folder is open');
    const folderUri = folder.uri.toString();
    results.trustedAtStart = vscode.workspace.isTrusted;
    const granted = new Promise<void>((resolve) => vscode.workspace.onDidGrantWorkspaceTrust(() => resolve()));
    const ext = vscode.extensions.getExtension<KyozoApi>('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    const api = await ext.activate();
    await Promise.race([
      api.ready,
      sleep(60_000).then(() => {
        throw new Error('no topology within 60 s');
      }),
    ]);
    results.services = api.model.services().map((r) => r.service.id);
    results.dockerHost = origin('docker.host');
    results.autoDeploy = origin('autoDeploy');
    results.engine = await until('the engine state', () => api.model.engine, 30_000);

    // Both ways to deploy: the command (Services view, palette, topology view) and the server command a CodeLens runs.
    results.deployCommand = (await vscode.commands.executeCommand('kyozo.deployService', folderUri, 'web')) ?? null;
    results.deployLens = (await vscode.commands.executeCommand('kyozo.server.deploy', folderUri, 'web')) ?? null;
    signal('phase1');

    const late = sleep(120_000).then(() => {
      throw new Error('trust was not granted within 120 s');
    });
    await Promise.race([granted, late]);
    results.trustedAfterGrant = vscode.workspace.isTrusted;
    results.dockerHostAfterGrant = origin('docker.host');
    await vscode.commands.executeCommand('kyozo.deployService', folderUri, 'web');
    const webState = () => api.model.find(folderUri, 'web')?.status?.state;
    await until('web running', () => webState() === 'running' || undefined, 240_000);
    results.running = api.model
      .services()
      .filter((r) => r.status?.state === 'running')
      .map((r) => r.service.id);
    signal('phase2');
    await waitSignal('done', 120_000);
    results.ok = true;
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
  } finally {
    results.finishedAt = new Date().toISOString();
    save();
  }
}
