// The extensionTestsPath module for vscode-share-two-windows.test.ts. Two code-server windows load it: the HOST
// (KYOZO_E2E_ROLE=host) shares its folder, the GUEST joins through the kyozo-share: file system, both against the real
// sync server the outer test runs. Both windows and the outer test meet through files in KYOZO_E2E_DIR: each window
// writes <role>-results.json (written whole) and signal files named <role>-<step>; the outer test writes the rest.
// Typing is done here, in each extension host, one keystroke at a time at the cursor through TextEditor.edit, as the
// editor does for a typed character.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cmd } from './share-command';
import { ClientCommands, ShareCommands } from '../../../server/src/protocol';
import { SHARE_REMOTE_STATE_COMMAND } from '../../../extension/src/share/remote-services';
import { SHARE_HOST_STATE_COMMAND, SHARE_STATE_COMMAND } from '../../../extension/src/share/share-link';
import { keystrokes } from './share-two-windows-keys';

interface KyozoApi {
  model: { find(folderUri: string, id: string): { status?: { state: string } } | undefined };
}

interface RemoteState {
  folderUri: string;
  services: { id: string; state: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A small deterministic generator, so a run's pauses can be told apart from another's only by the seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_E2E_DIR!;
  const role = process.env.KYOZO_E2E_ROLE as 'host' | 'guest';
  const server = process.env.KYOZO_SHARE_SERVER!;
  const password = process.env.KYOZO_SHARE_PASSWORD!;
  const count = Number(process.env.KYOZO_E2E_KEYSTROKES ?? 500);
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), role };
  const save = () => {
    writeFileSync(join(dir, `${role}-results.json.tmp`), JSON.stringify(results, null, 2));
    renameSync(join(dir, `${role}-results.json.tmp`), join(dir, `${role}-results.json`));
  };
  const signal = (step: string, body: unknown = {}) => {
    save();
    writeFileSync(join(dir, `${role}-${step}.tmp`), JSON.stringify(body));
    renameSync(join(dir, `${role}-${step}.tmp`), join(dir, `${role}-${step}`));
  };
  const read = <T>(name: string) =>
    existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined;
  const waitFor = <T>(name: string, ms = 300_000) => until<T>(`signal ${name}`, () => read<T>(name), ms, 50);
  const state = async () =>
    (await vscode.commands.executeCommand(role === 'host' ? SHARE_HOST_STATE_COMMAND : SHARE_STATE_COMMAND)) as {
      status: string;
      guests?: { roomId: string; role: string; readonly: boolean; ended?: string; bound: string[] }[];
      peers?: number;
    };
  try {
    const ext = vscode.extensions.getExtension<KyozoApi>('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    const api = await ext.activate();
    // The guest's Deploy below runs without a question: VS Code refuses modal dialogs in a test run.
    if (role === 'host')
      await vscode.workspace
        .getConfiguration('kyozo')
        .update('share.confirmRemoteActions', false, vscode.ConfigurationTarget.Global);
    // Each window's binding traces its steps to the output channel, for a failure to show.
    await vscode.workspace
      .getConfiguration('kyozo')
      .update('share.traceEdits', true, vscode.ConfigurationTarget.Global);
    const username = role === 'host' ? 'alice' : 'bob';
    await cmd(ShareCommands.createAccount, { server, username, password });
    const me = await cmd<{ fingerprint: string }>(ShareCommands.showFingerprint, { copy: false });
    results.fingerprint = me.fingerprint;

    let editor: vscode.TextEditor;
    let teamId = '';
    let link = '';
    if (role === 'host') {
      const team = await cmd<{ teamId: string }>(ShareCommands.createTeam, { name: 'Pair' });
      teamId = team.teamId;
      const invite = await cmd<{ invite: string }>(ShareCommands.invite, { teamId, role: 'member' });
      signal('invited', { invite: invite.invite });
      const guest = await waitFor<{ fingerprint: string }>('guest-in-team');
      await cmd(ShareCommands.manageMembers, { teamId, action: 'verify', fingerprint: guest.fingerprint });
      const folder = vscode.workspace.workspaceFolders![0];
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'shared.txt'));
      editor = await vscode.window.showTextDocument(doc, { preview: false });
      const shared = await cmd<{ link: string; roomId: string }>(ShareCommands.shareWorkspace, { teamId });
      link = shared.link;
      results.share = shared;
      signal('shared', { link });
    } else {
      const { invite } = await waitFor<{ invite: string }>('host-invited');
      await cmd(ShareCommands.joinTeam, { invite });
      signal('in-team', { fingerprint: me.fingerprint });
      ({ link } = await waitFor<{ link: string }>('host-shared'));
      const joined = await cmd<{ roomId: string; folder: string; role: string }>(ShareCommands.joinWorkspace, {
        link,
      });
      results.joined = joined;
      await until(
        'the shared folder in the window',
        () => vscode.workspace.workspaceFolders?.length === 2,
        10_000,
      ).catch(() => undefined);
      results.folders = vscode.workspace.workspaceFolders?.map((f) => f.uri.toString());
      const uri = vscode.Uri.parse(joined.folder).with({ path: `/${joined.roomId}/shared.txt` });
      const doc = await vscode.workspace.openTextDocument(uri);
      editor = await vscode.window.showTextDocument(doc, { preview: false });
    }
    const doc = editor.document;
    // Both start typing at the end of the same line.
    const start = doc.lineAt(0).range.end;
    editor.selection = new vscode.Selection(start, start);
    results.before = doc.getText();
    signal('ready');

    // ---- both type at once, a keystroke at a time with small random pauses ----
    await waitFor('go');
    const keys = keystrokes(role, count);
    const rnd = random(role === 'host' ? 1 : 2);
    let refused = 0;
    const t0 = Date.now();
    const grown: { covered: string; reversed: boolean }[] = [];
    for (let i = 0; i < keys.length;) {
      // A remote edit at the cursor can leave the selection around it (VS Code's tracked selection grows at its
      // edges); the keystroke goes where the caret was, after the text the selection covers.
      const sel = editor.selection;
      if (!sel.isEmpty) {
        grown.push({ covered: doc.getText(sel), reversed: sel.isReversed });
        editor.selection = new vscode.Selection(sel.end, sel.end);
      }
      const at = editor.selection.active;
      // Refused (false) when a remote edit changed the document in between: typed again, as the editor would.
      const ok = await editor.edit((b) => b.insert(at, keys[i]), { undoStopBefore: false, undoStopAfter: false });
      if (ok) i++;
      else refused++;
      if (i % 10 === 0) {
        results.progress = { typed: i, refused, at: Date.now() };
        save();
      }
      await sleep(1 + Math.floor(rnd() * 12));
    }
    results.typing = {
      typed: keys.join(''),
      refused,
      ms: Date.now() - t0,
      grown: grown.length,
      grownFirst: grown.slice(0, 5),
    };
    signal('typed');

    // ---- until the outer test has compared the texts: report the document as it settles ----
    for (;;) {
      results.live = { text: doc.getText(), dirty: doc.isDirty, at: Date.now() };
      save();
      if (role === 'host' && read('save') && doc.isDirty) {
        results.savedByTest = true;
        await doc.save();
      }
      if (read('compared')) break;
      await sleep(150);
    }

    if (role === 'guest') {
      // ---- the guest saves its document (after hundreds of remote edits), then creates and renames a file ----
      results.guestSaved = await doc.save();
      results.guestDirtyAfterSave = doc.isDirty;
      const root = vscode.Uri.parse((results.joined as { folder: string }).folder);
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(root, 'made.txt'), Buffer.from('made by bob\n'));
      await vscode.workspace.fs.rename(
        vscode.Uri.joinPath(root, 'made.txt'),
        vscode.Uri.joinPath(root, 'docs/renamed.txt'),
      );
      signal('renamed');

      // ---- the guest deploys the host's web service on the host's Docker engine ----
      await waitFor('renamed-checked');
      const folder = (results.joined as { folder: string }).folder;
      const webState = async () =>
        ((await vscode.commands.executeCommand(SHARE_REMOTE_STATE_COMMAND)) as RemoteState[])
          .find((x) => x.folderUri === folder)
          ?.services.find((x) => x.id === 'web')?.state;
      results.webBefore = await until("the host's web among the remote services", webState, 60_000);
      const t = Date.now();
      results.deployAnswer =
        (await vscode.commands.executeCommand(ClientCommands.deployService, folder, 'web')) ?? null;
      results.webAfter = await until(
        'web running, as the guest sees it',
        async () => ((await webState()) === 'running' ? 'running' : undefined),
        300_000,
      );
      results.deployMs = Date.now() - t;
      // A hover on the remote service's Dockerfile names it, its state and whose machine it runs on.
      const dockerfile = vscode.Uri.joinPath(vscode.Uri.parse(folder), 'web/Dockerfile');
      await vscode.workspace.openTextDocument(dockerfile);
      const hovers =
        (await vscode.commands.executeCommand<vscode.Hover[]>(
          'vscode.executeHoverProvider',
          dockerfile,
          new vscode.Position(0, 0),
        )) ?? [];
      results.remoteHover = hovers
        .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
        .join('\n');
      await vscode.commands.executeCommand('workbench.view.extension.kyozo');
      signal('deployed');
    } else {
      await waitFor('renamed-checked');
      await waitFor('guest-deployed', 360_000);
      const folderUri = vscode.workspace.workspaceFolders![0].uri.toString();
      results.hostWeb = await until(
        'web running in the host window',
        () => (api.model.find(folderUri, 'web')?.status?.state === 'running' ? 'running' : undefined),
        60_000,
      );
      await vscode.commands.executeCommand('workbench.view.extension.kyozo');
      signal('deploy-seen');
    }

    // ---- the host makes the guest a viewer; the guest's edit is refused ----
    if (role === 'host') {
      await waitFor('deploy-checked');
      const members = await cmd<{ members: { userId: string; username: string }[] }>(ShareCommands.manageMembers, {
        teamId,
        action: 'list',
      });
      const bob = members.members.find((m) => m.username === 'bob')!;
      results.guestUserId = bob.userId;
      results.setRole = await cmd(ShareCommands.manageMembers, {
        teamId,
        action: 'setRole',
        userId: bob.userId,
        role: 'viewer',
      });
      signal('viewer', { text: doc.getText() });
      await waitFor('guest-viewer-done');
      results.afterViewer = doc.getText();
      // ---- the host removes the guest: disconnected at once, and cannot join again ----
      const t = Date.now();
      results.removal = await cmd(ShareCommands.manageMembers, { teamId, action: 'remove', userId: bob.userId });
      results.removedAt = t;
      results.removalMs = Date.now() - t;
      signal('removed');
      await waitFor('guest-rejoin-done');
      results.afterRemoval = doc.getText();
      results.hostState = await state();
    } else {
      const host = await waitFor<{ text: string }>('host-viewer');
      await vscode.window.showTextDocument(doc, { preview: false });
      const end = doc.lineAt(doc.lineCount - 1).range.end;
      editor.selection = new vscode.Selection(end, end);
      results.viewerEditApplied = await editor.edit((b) => b.insert(end, '!viewer edit!'));
      results.viewerTextAfterEdit = doc.getText();
      // The room answers; the document must come back to the host's text.
      const t = Date.now();
      try {
        await until('the guest document back at the host text', () => doc.getText() === host.text, 10_000);
        results.viewerRestoredMs = Date.now() - t;
      } catch (e) {
        results.viewerRestoreError = (e as Error).message;
      }
      results.viewerText = doc.getText();
      results.viewerState = await state();
      const root = vscode.Uri.parse((results.joined as { folder: string }).folder);
      try {
        await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(root, 'viewer.txt'), Buffer.from('no'));
        results.viewerWrite = 'accepted';
      } catch (e) {
        results.viewerWrite = { code: (e as vscode.FileSystemError).code, message: (e as Error).message };
      }
      signal('viewer-done');
      await waitFor('host-removed');
      const roomId = (results.joined as { roomId: string }).roomId;
      let endedAt = 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const s = await state();
        const g = s.guests?.find((x) => x.roomId === roomId);
        if (g?.ended) {
          endedAt = Date.now();
          results.removedState = g;
          break;
        }
        await sleep(20);
      }
      results.endedAt = endedAt;
      results.rejoin = await vscode.commands.executeCommand(ShareCommands.joinWorkspace, { link, addFolder: false });
      results.guestStateAfterRejoin = await state();
      signal('rejoin-done');
    }
    results.finishedAt = new Date().toISOString();
  } catch (e) {
    results.error = `${(e as Error).stack ?? e}`;
  }
  save();
}
