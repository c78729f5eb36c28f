// The extensionTestsPath module for vscode-share-presence.test.ts: runs in the extension host of a code-server window
// against the real sync server the outer test started. Phase 1, the window HOSTS its folder for a Node guest (bob) whose
// cursor the outer test moves; this side follows him, is moved away by a real key press, and goes to him. Phase 2, the
// window JOINS a Node host's room (carol) through kyozo-share: and opens the file carol is in. The two sides meet
// through signal files in KYOZO_E2E_DIR; every answer goes to results.json.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cmd } from './share-command';
import { ShareCommands } from '../../../server/src/protocol';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The active editor's file (last path segment) and primary cursor, as `file:line:character`. */
function where(): string {
  const e = vscode.window.activeTextEditor;
  if (!e) return 'none';
  const p = e.document.uri.path;
  return `${p.slice(p.lastIndexOf('/') + 1)}:${e.selection.active.line}:${e.selection.active.character}`;
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
  const fromOuter = <T>(name: string) =>
    until<T>(
      `signal ${name}`,
      () => (existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined),
      90_000,
    );
  try {
    const ext = vscode.extensions.getExtension('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    await ext.activate();
    const folder = vscode.workspace.workspaceFolders![0];

    // ---- phase 1: this window hosts ----
    await cmd(ShareCommands.createAccount, { server, username: 'alice', password });
    const team = await cmd<{ teamId: string }>(ShareCommands.createTeam, { name: 'Presence team' });
    const invite = await cmd<{ invite: string }>(ShareCommands.invite, { teamId: team.teamId, role: 'member' });
    results.invite = invite.invite;
    results.fingerprint = (
      await cmd<{ fingerprint: string }>(ShareCommands.showFingerprint, { copy: false })
    ).fingerprint;
    signal('invited');
    const bob = await fromOuter<{ fingerprint: string }>('joined');
    await cmd(ShareCommands.manageMembers, { teamId: team.teamId, action: 'verify', fingerprint: bob.fingerprint });

    const app = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'src', 'app.ts'));
    const appEditor = await vscode.window.showTextDocument(app, { preview: false });
    // This window's own cursor, which bob reads from the room: line 2 (0-based 1), characters 6..11.
    appEditor.selection = new vscode.Selection(1, 6, 1, 11);
    results.share = await cmd(ShareCommands.shareWorkspace, { teamId: team.teamId });
    await vscode.commands.executeCommand('notifications.clearAll');
    results.hostSelection = {
      anchor: app.offsetAt(appEditor.selection.anchor),
      head: app.offsetAt(appEditor.selection.active),
    };
    signal('shared');

    // bob's cursor is drawn (the outer test reads the page); then this window follows him.
    await fromOuter('follow');
    results.noOneNamed = await vscode.commands.executeCommand(ShareCommands.followParticipant, { name: 'nobody' });
    results.follow = await cmd(ShareCommands.followParticipant, { name: 'bob' });
    signal('following');
    const moved = await fromOuter<{ where: string; top: number }>('bob-moved');
    await until(`the window at ${moved.where} (is at ${where()})`, () => where() === moved.where, 20_000);
    results.followedTo = where();
    const visible = () => vscode.window.activeTextEditor!.visibleRanges.map((r) => [r.start.line, r.end.line]);
    // The scroll comes after the cursor (another round trip to the renderer): wait for the window to be scrolled.
    await until('the window scrolled', () => visible()[0][0] > 0, 5_000).catch(() => undefined);
    results.followedVisible = visible();
    signal('followed-1');
    const moved2 = await fromOuter<{ where: string }>('bob-moved-2');
    await until(`the window at ${moved2.where} (is at ${where()})`, () => where() === moved2.where, 20_000);
    results.followedTo2 = where();
    // The outer test presses a key in the editor: following stops, and bob's next move is not repeated here.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    signal('focused');
    await fromOuter('key-pressed');
    await until('the key press in the editor', () => where() !== moved2.where, 10_000);
    results.afterKey = where();
    signal('user-moved');
    await fromOuter('bob-moved-3');
    await sleep(2000);
    results.afterBobMoved3 = where();
    // Go to Participant: once, to bob's file and cursor.
    results.goTo = await cmd(ShareCommands.goToParticipant, { name: 'bob' });
    results.afterGoTo = where();
    // Follow again, then Stop Following.
    await cmd(ShareCommands.followParticipant, { name: 'bob' });
    results.stop = await cmd(ShareCommands.stopFollowing);
    results.stopAgain = await cmd(ShareCommands.stopFollowing);
    signal('phase1-done');
    await fromOuter('phase1-checked');
    await cmd(ShareCommands.stopSharing);

    // ---- phase 2: this window joins carol's room ----
    const invites = await fromOuter<{ invite: string }>('invite2');
    await cmd(ShareCommands.joinTeam, { invite: invites.invite });
    signal('joined-team');
    const { link } = await fromOuter<{ link: string }>('room');
    const joined = await cmd<{ roomId: string; folder: string }>(ShareCommands.joinWorkspace, {
      link,
      addFolder: false,
    });
    results.joined = joined;
    const a = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(vscode.Uri.parse(joined.folder), 'a.txt'));
    const aEditor = await vscode.window.showTextDocument(a, { preview: false });
    aEditor.selection = new vscode.Selection(2, 4, 2, 4);
    results.guestSelection = a.offsetAt(aEditor.selection.active);
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    signal('guest-open');
    await fromOuter('phase2-checked');
    results.finishedAt = new Date().toISOString();
  } catch (e) {
    results.error = `${(e as Error).stack ?? e}`;
  }
  save();
}
