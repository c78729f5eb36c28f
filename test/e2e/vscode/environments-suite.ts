// The extensionTestsPath module for vscode-environments.test.ts, run in the extension host of a code-server window on
// the registry-environments fixture: it runs Set Environment Secret with no arguments (the outer test answers its
// pickers and password box in Chromium), switches the environment with Kyozo: Select Environment, deploys web to
// staging, pushes it, then asks to deploy to production twice (the outer test, in Chromium, answers the warning
// with Cancel, then with Deploy to production). It reports to results.json and meets the outer test through signal
// files.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

interface KyozoApi {
  model: { find(folderUri: string, id: string): { status?: { state: string; replicas: { running: number } } } };
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

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const dir = process.env.KYOZO_E2E_DIR!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  // Written whole (a temporary file, then a rename): the outer test polls it.
  const save = () => {
    writeFileSync(join(dir, 'results.json.tmp'), JSON.stringify(results, null, 2));
    renameSync(join(dir, 'results.json.tmp'), join(dir, 'results.json'));
  };
  const signal = (name: string) => {
    save();
    writeFileSync(join(dir, name), new Date().toISOString());
  };
  const waitSignal = (name: string, ms: number) =>
    until(`signal ${name}`, () => existsSync(join(dir, name)) || undefined, ms);
  try {
    if (!folder) throw new Error('no workspace folder is open');
    const folderUri = folder.uri.toString();
    const api = await vscode.extensions.getExtension<KyozoApi>('kyozo.kyozo')!.activate();
    await api.ready;
    const web = () => api.model.find(folderUri, 'web')?.status;

    // Staging's kyozo.yaml names a secret from the store: set it through the command's own pickers first.
    signal('secret-asking');
    const stored = await vscode.commands.executeCommand('kyozo.setEnvironmentSecret');
    results.secret = stored ?? null;
    save();

    results.selected = await vscode.commands.executeCommand('kyozo.selectEnvironment', folderUri, 'staging');
    results.setting = vscode.workspace.getConfiguration('kyozo').get('environment');
    await vscode.commands.executeCommand('kyozo.deployService', folderUri, 'web');
    await until('web running in staging', () => (web()?.state === 'running' ? true : undefined), 240_000);
    const pushed = (await vscode.commands.executeCommand('kyozo.pushService', folderUri, 'web')) as
      { reference: string; digest: string }[] | undefined;
    results.pushed = pushed ?? null;
    // The topology panel shows the active environment's services and names it in its title.
    await vscode.commands.executeCommand('kyozo.openTopology');
    results.topologyTab = await until(
      'the topology tab',
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label.startsWith('Topology:'))?.label,
      30_000,
    );
    signal('phase1');

    await waitSignal('production', 120_000);
    await vscode.commands.executeCommand('kyozo.selectEnvironment', folderUri, 'production');
    // The production project has no containers: the Services view shows that, not staging's.
    await until('web not deployed in production', () => (web()?.state === 'not-deployed' ? true : undefined), 60_000);
    signal('asking');
    results.cancelled = (await vscode.commands.executeCommand('kyozo.deployService', folderUri, 'web')) ?? null;
    results.stateAfterCancel = web()?.state;
    signal('phase2');

    await waitSignal('again', 120_000);
    signal('asking-again');
    await vscode.commands.executeCommand('kyozo.deployService', folderUri, 'web');
    await until('web running in production', () => (web()?.state === 'running' ? true : undefined), 240_000);
    results.stateAfterConfirm = web()?.state;
    signal('phase3');
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
    save();
  }
}
