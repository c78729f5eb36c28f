// The host of `npm run bench:share`'s VS Code row: the extensionTestsPath module a code-server window runs. In the real
// extension host, with the extension's own commands, it creates an account and a team, invites the bench's
// participants, marks their devices verified (as a user does after comparing fingerprints), shares its folder, and
// then types into shared.txt like the Node participants of share-participant.ts: its own character (U+4E00) at the end
// of line 0, 5 keystrokes per second with a random gap, through TextEditor.edit as the editor does for a typed key.
//
// Times are performance.timeOrigin + performance.now(), the clock every process of the machine shares. A keystroke's
// time is when its change event reaches the extension host (the document holds it then, as in a participant's model);
// an arrival's is when the change event carrying a participant's character does.
//
// It meets the bench through files in KYOZO_BENCH_DIR: it writes host-<step> (JSON, written whole) and reads the
// files the bench writes (enrolled, go, report).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cmd } from '../e2e/vscode/share-command';
import { ShareCommands } from '../../server/src/protocol';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const charOf = (i: number) => String.fromCharCode(0x4e00 + i);

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_BENCH_DIR!;
  const server = process.env.KYOZO_BENCH_SERVER!;
  const password = process.env.KYOZO_BENCH_PASSWORD!;
  const participants = Number(process.env.KYOZO_BENCH_PARTICIPANTS);
  const rate = Number(process.env.KYOZO_BENCH_RATE);
  const count = Number(process.env.KYOZO_BENCH_KEYSTROKES);
  const write = (step: string, body: unknown) => {
    writeFileSync(join(dir, `host-${step}.tmp`), JSON.stringify(body));
    renameSync(join(dir, `host-${step}.tmp`), join(dir, `host-${step}`));
  };
  const read = <T>(name: string) =>
    existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined;
  const waitFor = async <T>(name: string, ms = 300_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = read<T>(name);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${name}`);
      await sleep(50);
    }
  };
  try {
    const ext = vscode.extensions.getExtension('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    await ext.activate();
    await cmd(ShareCommands.createAccount, { server, username: 'host', password });
    const { teamId } = await cmd<{ teamId: string }>(ShareCommands.createTeam, { name: 'Bench' });
    // An invite is used once: one for each participant.
    const invites: string[] = [];
    for (let i = 1; i < participants; i++)
      invites.push((await cmd<{ invite: string }>(ShareCommands.invite, { teamId, role: 'member' })).invite);
    write('invited', { invites, teamId });
    const { fingerprints } = await waitFor<{ fingerprints: string[] }>('enrolled');
    for (const fingerprint of fingerprints)
      await cmd(ShareCommands.manageMembers, { teamId, action: 'verify', fingerprint });
    const folder = vscode.workspace.workspaceFolders![0];
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'shared.txt'));
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const shared = await cmd<{ link: string; roomId: string }>(ShareCommands.shareWorkspace, { teamId });

    const arrivals: number[][] = Array.from({ length: participants }, () => []);
    const codes = new Map(Array.from({ length: participants }, (_, i) => [charOf(i), i]));
    const mine = charOf(0);
    const sent: number[] = [];
    let pending = false;
    // VS Code's own share of the latency: from an extension's TextEditor.edit call to its change event (the document
    // model lives in the window; the extension host holds a copy), timed on the host's keystrokes.
    const roundTrips: number[] = [];
    let calledAt = 0;
    const listener = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document !== doc) return;
      const at = now();
      for (const c of e.contentChanges) {
        if (pending && c.text === mine && c.rangeLength === 0) {
          sent.push(at);
          roundTrips.push(at - calledAt);
          pending = false;
          continue;
        }
        for (const ch of c.text) {
          const who = codes.get(ch);
          if (who !== undefined && who !== 0) arrivals[who].push(at);
        }
      }
    });
    write('shared', { roomId: shared.roomId, teamId });
    await waitFor('go');

    let refused = 0;
    const gap = 1000 / rate;
    for (let k = 0; k < count; k++) {
      await sleep(gap * (0.5 + Math.random()));
      pending = true;
      // Refused (false) when a remote edit changed the document in between: typed again, as the editor would.
      const type = () =>
        editor.edit((b) => b.insert(doc.lineAt(0).range.end, mine), { undoStopBefore: false, undoStopAfter: false });
      for (;;) {
        calledAt = now();
        if (await type()) break;
        refused++;
      }
      for (let t = 0; sent.length !== k + 1; t++) {
        if (t > 100) throw new Error(`keystroke ${k}: no change event carried it within 1 s of the edit's answer`);
        await sleep(10);
      }
    }
    write('typed', { sent, refused, roundTrips });
    await waitFor('report', 600_000);
    listener.dispose();
    write('result', { arrivals, text: doc.getText() });
  } catch (e) {
    write('error', { message: (e as Error).stack ?? String(e) });
  }
}
