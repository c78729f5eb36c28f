// The extensionTestsPath module for vscode-share-services.test.ts, in the extension host of a code-server window, against
// the real sync server (KYOZO_SHARE_SERVER) and the real Docker engine the outer test uses. Phase 1: the window HOSTS
// its folder (one busybox httpd service, web) for a team with a member and a viewer, who are Node peers in the outer
// test; their signed requests reach this window's Kyozo, which tries to ask (VS Code refuses modals in a test run, so
// the host answers that it could not ask), then, with kyozo.share.confirmRemoteActions off, deploys on the engine. Phase 2: the window JOINS a Node host's room as member, shows the host's services as remote,
// and stops the host's web through the same Stop command as a local service. Signal files in KYOZO_E2E_DIR.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cmd } from './share-command';
import { ClientCommands, ShareCommands } from '../../../server/src/protocol';
import { SHARE_REMOTE_STATE_COMMAND } from '../../../extension/src/share/remote-services';

interface KyozoApi {
  model: {
    find(folderUri: string, id: string): { status?: { state: string } } | undefined;
    events: { type: string; message?: string; folderUri: string }[];
  };
  ready: Promise<void>;
}

interface RemoteState {
  folderUri: string;
  host: string;
  role: string;
  services: { id: string; name: string; type: string; state: string }[];
  events: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    await sleep(150);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_E2E_DIR!;
  const server = process.env.KYOZO_SHARE_SERVER!;
  const password = process.env.KYOZO_SHARE_PASSWORD!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  const save = () => {
    writeFileSync(join(dir, 'results.json.tmp'), JSON.stringify(results, null, 2));
    renameSync(join(dir, 'results.json.tmp'), join(dir, 'results.json'));
  };
  const signal = (name: string) => {
    save();
    writeFileSync(join(dir, name), new Date().toISOString());
  };
  const fromOuter = <T>(name: string, ms = 300_000) =>
    until<T>(
      `signal ${name}`,
      () => (existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined),
      ms,
    );
  const remoteState = async () => (await vscode.commands.executeCommand(SHARE_REMOTE_STATE_COMMAND)) as RemoteState[];
  try {
    const ext = vscode.extensions.getExtension<KyozoApi>('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    const api = await ext.activate();
    await Promise.race([api.ready, sleep(90_000).then(() => Promise.reject(new Error('no topology within 90 s')))]);
    const folderUri = vscode.workspace.workspaceFolders![0].uri.toString();
    results.localWeb = api.model.find(folderUri, 'web') ? 'found' : 'missing';

    // ---- phase 1: this window hosts ----
    await cmd(ShareCommands.createAccount, { server, username: 'alice', password });
    const team = await cmd<{ teamId: string }>(ShareCommands.createTeam, { name: 'Ops team' });
    const member = await cmd<{ invite: string }>(ShareCommands.invite, { teamId: team.teamId, role: 'member' });
    const viewer = await cmd<{ invite: string }>(ShareCommands.invite, { teamId: team.teamId, role: 'viewer' });
    results.invites = { member: member.invite, viewer: viewer.invite };
    signal('invited');
    const joined = await fromOuter<{ fingerprints: string[] }>('joined');
    for (const fingerprint of joined.fingerprints)
      await cmd(ShareCommands.manageMembers, { teamId: team.teamId, action: 'verify', fingerprint });
    results.share = await cmd(ShareCommands.shareWorkspace, { teamId: team.teamId });
    signal('shared');
    // VS Code refuses modal dialogs in an extension test run, so the first request (asked with the setting on) is
    // refused, naming the question; the user settings then turn the question off.
    await fromOuter('confirm-off');
    await vscode.workspace
      .getConfiguration('kyozo')
      .update('share.confirmRemoteActions', false, vscode.ConfigurationTarget.Global);
    signal('confirm-is-off');
    // The member's Deploy arrives, the outer test clicks Allow, the language server deploys web on the engine.
    results.hostWeb = await until(
      'web running in the host window',
      () => api.model.find(folderUri, 'web')?.status?.state === 'running' && 'running',
      300_000,
    );
    signal('host-running');
    await fromOuter('guest-checked');
    results.hostEvents = api.model.events
      .filter((e) => e.type === 'remote_action' && e.folderUri === folderUri)
      .map((e) => e.message);
    await cmd(ShareCommands.stopSharing);
    signal('host-done');

    // ---- phase 2: this window joins a Node host's room ----
    const carol = await fromOuter<{ invite: string }>('carol-invite');
    await cmd(ShareCommands.joinTeam, { invite: carol.invite });
    signal('joined-carol');
    const room = await fromOuter<{ link: string }>('carol-room');
    const guest = await cmd<{ folder: string; role: string }>(ShareCommands.joinWorkspace, { link: room.link });
    results.guest = guest;
    results.remoteBefore = await until(
      "carol's web, running, in the Services view's model",
      async () => {
        const r = (await remoteState()).find((x) => x.folderUri === guest.folder);
        return r?.services.find((s) => s.id === 'web')?.state === 'running' && r;
      },
      30_000,
    );
    // The Services view with every folder collapsed: the outer test opens carol's, so its rows are on screen.
    await vscode.commands.executeCommand('workbench.view.extension.kyozo');
    await vscode.commands.executeCommand('workbench.actions.treeView.kyozo.services.collapseAll');
    signal('guest-shown');
    await fromOuter('screenshot-taken');
    // The same Stop command as for a local service: a signed request to carol's Node host.
    results.stopAnswer = await vscode.commands.executeCommand(ClientCommands.stopService, guest.folder, 'web');
    results.remoteAfterStop = await until(
      "carol's web stopped",
      async () => {
        const r = (await remoteState()).find((x) => x.folderUri === guest.folder);
        return r?.services.find((s) => s.id === 'web')?.state === 'stopped' && r;
      },
      60_000,
    );
    signal('guest-stopped');
    await fromOuter('done', 60_000);
    results.finishedAt = new Date().toISOString();
  } catch (e) {
    results.error = `${(e as Error).stack ?? e}`;
  }
  save();
}
