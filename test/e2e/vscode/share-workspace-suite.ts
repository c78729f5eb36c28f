// The extensionTestsPath module for vscode-share-workspace.test.ts: runs in the extension host of a code-server window
// against the real sync server the outer test started (KYOZO_SHARE_SERVER). Phase 1, the window is the HOST: it shares
// its folder with a team whose other member is the outer test's process (a Node peer on the client library). Phase 2,
// the window is the GUEST: it joins two rooms a Node host filled (as member and as viewer) through kyozo-share:.
// The two sides meet through signal files in KYOZO_E2E_DIR; every answer goes to results.json.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cmd } from './share-command';
import { ShareCommands } from '../../../server/src/protocol';
import { SHARE_HOST_STATE_COMMAND, SHARE_STATE_COMMAND } from '../../../extension/src/share/share-link';

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

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_E2E_DIR!;
  const server = process.env.KYOZO_SHARE_SERVER!;
  const password = process.env.KYOZO_SHARE_PASSWORD!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  // Written whole (a temporary file, then a rename): the outer test polls the file and never reads half of it.
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
    results.notSignedIn = await vscode.commands.executeCommand(ShareCommands.shareWorkspace, { teamId: 'x' });
    await cmd(ShareCommands.createAccount, { server, username: 'alice', password });
    const team = await cmd<{ teamId: string }>(ShareCommands.createTeam, { name: 'Host team' });
    const invite = await cmd<{ invite: string }>(ShareCommands.invite, { teamId: team.teamId, role: 'member' });
    const me = await cmd<{ fingerprint: string }>(ShareCommands.showFingerprint, { copy: false });
    results.team = team;
    results.invite = invite.invite;
    results.fingerprint = me.fingerprint;
    signal('invited');
    const bob = await fromOuter<{ fingerprint: string }>('joined');
    await cmd(ShareCommands.manageMembers, { teamId: team.teamId, action: 'verify', fingerprint: bob.fingerprint });

    // note.txt is open (and bound) before sharing; later.txt is opened while shared.
    const note = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'note.txt'));
    await vscode.window.showTextDocument(note);
    const t0 = Date.now();
    results.share = await cmd(ShareCommands.shareWorkspace, { teamId: team.teamId });
    results.shareMs = Date.now() - t0;
    results.clipboard = await vscode.env.clipboard.readText();
    const later = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'later.txt'));
    await vscode.window.showTextDocument(later, { preview: false });
    signal('shared');

    const typed = await fromOuter<{ note: string; later: string }>('typed');
    await until('note.txt shows the guest text', () => note.getText() === typed.note, 20_000);
    await until('later.txt shows the guest text', () => later.getText() === typed.later, 20_000);
    results.hostNote = note.getText();
    results.hostLater = later.getText();
    results.hostState = await vscode.commands.executeCommand(SHARE_HOST_STATE_COMMAND);
    signal('seen');
    await fromOuter('checked');
    results.stopped = await cmd(ShareCommands.stopSharing);
    // Sharing the same folder with the same team again reuses its room.
    results.again = await cmd(ShareCommands.shareWorkspace, { teamId: team.teamId });
    results.stoppedAgain = await cmd(ShareCommands.stopSharing);
    signal('stopped');

    // ---- phase 2: this window joins rooms a Node host filled ----
    const invites = await fromOuter<{ member: string; viewer: string }>('invites2');
    results.joinedTeams = [
      await cmd(ShareCommands.joinTeam, { invite: invites.member }),
      await cmd(ShareCommands.joinTeam, { invite: invites.viewer }),
    ];
    signal('joined-teams');
    const links = await fromOuter<{ member: string; viewer: string; rotate: string }>('rooms');
    results.badLink = await vscode.commands.executeCommand(ShareCommands.joinWorkspace, { link: 'https://x/nope' });
    const joined = await cmd<{ roomId: string; folder: string; role: string; readonly: boolean }>(
      ShareCommands.joinWorkspace,
      { link: links.member, addFolder: false },
    );
    results.joined = joined;
    const rotating = await cmd<{ roomId: string }>(ShareCommands.joinWorkspace, {
      link: links.rotate,
      addFolder: false,
    });
    const root = vscode.Uri.parse(joined.folder);
    results.rootListing = await vscode.workspace.fs.readDirectory(root);
    results.srcListing = await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(root, 'src'));
    try {
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root, 'logo.png'));
      results.excludedRead = 'read';
    } catch (e) {
      results.excludedRead = (e as Error).message;
    }
    results.joinedState = await vscode.commands.executeCommand(SHARE_STATE_COMMAND);
    const aUri = vscode.Uri.joinPath(root, 'a.txt');
    const a = await vscode.workspace.openTextDocument(aUri);
    results.guestOpened = a.getText();
    const editor = await vscode.window.showTextDocument(a, { preview: false });
    editor.selection = new vscode.Selection(a.positionAt(a.getText().length), a.positionAt(a.getText().length));
    for (const ch of ' typed by the guest') await vscode.commands.executeCommand('type', { text: ch });
    results.guestTyped = a.getText();
    signal('guest-typed');
    const remote = await fromOuter<{ a: string }>('host-edited');
    await until('the Node host edit in the guest document', () => a.getText() === remote.a, 20_000);
    results.guestAfterHostEdit = a.getText();
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(root, 'src/new.ts'), Buffer.from('export {};\n'));
    results.guestCreated = true;

    const viewer = await cmd<{ roomId: string; folder: string; role: string; readonly: boolean }>(
      ShareCommands.joinWorkspace,
      { link: links.viewer },
    );
    results.viewer = viewer;
    await until(
      'the viewer folder in the window',
      () => vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === viewer.folder),
      10_000,
    );
    results.folders = vscode.workspace.workspaceFolders!.map((f) => `${f.name} ${f.uri.toString()}`);
    const vRoot = vscode.Uri.parse(viewer.folder);
    results.viewerRead = Buffer.from(
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(vRoot, 'a.txt')),
    ).toString();
    try {
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(vRoot, 'a.txt'), Buffer.from('overwritten'));
      results.viewerWrite = 'accepted';
    } catch (e) {
      results.viewerWrite = { code: (e as vscode.FileSystemError).code, message: (e as Error).message };
    }
    try {
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(vRoot, 'a.txt'));
      results.viewerDelete = 'accepted';
    } catch (e) {
      results.viewerDelete = { code: (e as vscode.FileSystemError).code };
    }
    signal('guest-done');

    // The Node host stops sharing the member room: the guest is told and its file system turns read-only.
    await fromOuter('host-stopped');
    const end = Date.now() + 20_000;
    type State = { guests: { roomId: string; ended?: string; readonly: boolean }[] };
    let state: State | undefined;
    while (Date.now() < end) {
      state = (await vscode.commands.executeCommand(SHARE_STATE_COMMAND)) as State;
      if (state.guests.find((g) => g.roomId === joined.roomId)?.ended) break;
      await sleep(100);
    }
    results.afterEnd = state;
    // Typing into the editor after the end reaches no one.
    await vscode.window.showTextDocument(a, { preview: false });
    for (const ch of '!!') await vscode.commands.executeCommand('type', { text: ch });
    results.guestAfterEnd = a.getText();
    try {
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(root, 'a.txt'), Buffer.from('after the end'));
      results.writeAfterEnd = 'accepted';
    } catch (e) {
      results.writeAfterEnd = { code: (e as vscode.FileSystemError).code, message: (e as Error).message };
    }
    // The viewer is removed from the team: the guest is told and that share turns read-only too.
    signal('end-checked');
    await fromOuter('removed');
    const end2 = Date.now() + 20_000;
    while (Date.now() < end2) {
      state = (await vscode.commands.executeCommand(SHARE_STATE_COMMAND)) as State;
      if (state.guests.find((g) => g.roomId === viewer.roomId)?.ended) break;
      await sleep(100);
    }
    results.afterRemoval = state;
    await fromOuter('rotated');
    const end3 = Date.now() + 20_000;
    while (Date.now() < end3) {
      state = (await vscode.commands.executeCommand(SHARE_STATE_COMMAND)) as State;
      if (state.guests.find((g) => g.roomId === rotating.roomId)?.ended) break;
      await sleep(100);
    }
    results.afterRotation = state;
    results.finishedAt = new Date().toISOString();
  } catch (e) {
    results.error = `${(e as Error).stack ?? e}`;
  }
  save();
}
