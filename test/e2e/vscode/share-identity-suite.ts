// The extensionTestsPath module for vscode-share-identity.test.ts: runs in the extension host of a code-server window
// and drives Kyozo Share's identity and team commands with arguments against the real sync server the outer test
// started (KYOZO_SHARE_SERVER). A second user, on a device of its own, is the outer test's process: the two meet
// through signal files in KYOZO_E2E_DIR, and every step's answer goes to results.json for the outer test to check.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ShareCommands } from '../../../server/src/protocol';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = fn();
    if (v !== undefined) return v;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A command's answer; one that answers { error } fails the suite (refusal() expects one). */
async function cmd<T>(id: string, args?: unknown): Promise<T> {
  const r = (await vscode.commands.executeCommand(id, args)) as T & { error?: string };
  if (r && typeof r === 'object' && 'error' in r) throw new Error(`${id} failed: ${r.error}`);
  return r;
}
async function refusal(id: string, args?: unknown): Promise<string> {
  const r = (await vscode.commands.executeCommand(id, args)) as { error?: string } | undefined;
  if (!r?.error) throw new Error(`${id} was expected to fail, and answered ${JSON.stringify(r)}`);
  return r.error;
}

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_E2E_DIR!;
  const server = process.env.KYOZO_SHARE_SERVER!;
  const password = process.env.KYOZO_SHARE_PASSWORD!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  const save = () => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  const signal = (name: string) => {
    save();
    writeFileSync(join(dir, name), new Date().toISOString());
  };
  const fromOuter = (name: string) =>
    until(
      `signal ${name}`,
      () => (existsSync(join(dir, name)) ? JSON.parse(readFileSync(join(dir, name), 'utf8')) : undefined),
      120_000,
    );
  try {
    const ext = vscode.extensions.getExtension('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    await ext.activate();

    // Not signed in yet: a team command says so instead of throwing.
    results.beforeSignIn = await refusal(ShareCommands.createTeam, { name: 'early' });
    results.created = await cmd(ShareCommands.createAccount, { server, username: 'alice', password });
    results.wrongPassword = await refusal(ShareCommands.signIn, {
      server,
      username: 'alice',
      password: 'not-it-at-all',
    });
    results.signedIn = await cmd(ShareCommands.signIn, { server, username: 'alice', password });
    results.fingerprint = await cmd(ShareCommands.showFingerprint);
    const cfg = vscode.workspace.getConfiguration('kyozo');
    results.serverSetting = cfg.inspect('sync.server');
    results.kyozoSettings = JSON.stringify(cfg);

    const team = await cmd<{ teamId: string }>(ShareCommands.createTeam, { name: 'Shop team' });
    results.team = team;
    results.invite = await cmd(ShareCommands.invite, { teamId: team.teamId, role: 'member' });
    results.clipboard = await vscode.env.clipboard.readText();
    signal('invited');

    // The outer test's user joined with the link; both devices are listed with their fingerprints.
    const bob = (await fromOuter('joined')) as { userId: string; fingerprint: string };
    results.members = await cmd(ShareCommands.manageMembers, { teamId: team.teamId, action: 'list' });
    results.verified = await cmd(ShareCommands.manageMembers, {
      teamId: team.teamId,
      action: 'verify',
      fingerprint: bob.fingerprint,
    });
    results.roleChange = await cmd(ShareCommands.manageMembers, {
      teamId: team.teamId,
      action: 'setRole',
      userId: bob.userId,
      role: 'admin',
    });
    results.membersAfterRole = await cmd(ShareCommands.manageMembers, { teamId: team.teamId, action: 'list' });
    // Without an action the command shows the members in a quick pick; the outer test picks one and reads the card.
    await vscode.commands.executeCommand('notifications.clearAll');
    const picking = vscode.commands.executeCommand(ShareCommands.manageMembers, { teamId: team.teamId });
    signal('role-changed');
    void Promise.resolve(picking).then((r) => (results.memberPick = r ?? null));

    // Bob, now admin, made a room; removing him rotates its key and closes him out.
    await fromOuter('room-made');
    results.removal = await cmd(ShareCommands.manageMembers, {
      teamId: team.teamId,
      action: 'remove',
      userId: bob.userId,
    });
    results.membersAfterRemoval = await cmd(ShareCommands.manageMembers, { teamId: team.teamId, action: 'list' });

    // Bad invites: garbage, her own team's link, a link to another server (never followed without a yes).
    const link = (results.invite as { link: string }).link;
    results.badInvites = {
      garbage: await refusal(ShareCommands.joinTeam, { invite: 'not an invite' }),
      own: await refusal(ShareCommands.joinTeam, { invite: link }),
      otherServer: await refusal(ShareCommands.joinTeam, {
        invite: link.replace(encodeURIComponent(server), encodeURIComponent('https://sync.example.com')),
      }),
    };
    results.serverAfterForeignLink = vscode.workspace.getConfiguration('kyozo').get('sync.server');
    // The notification the user sees, with its Copy button (the outer test reads it in the workbench).
    await vscode.commands.executeCommand('notifications.clearAll');
    await sleep(500);
    await cmd(ShareCommands.showFingerprint);
    signal('removed');

    // Another team's join link, opened as a user pasting it: the team joins, and the one key wrapped to this device,
    // signed by a member who is no admin, is refused with an error naming that device.
    const second = (await fromOuter('checked')) as { link: string };
    await vscode.commands.executeCommand('notifications.clearAll');
    results.joinedSecond = await cmd(ShareCommands.joinTeam, { invite: second.link });
    signal('joined-second');

    await fromOuter('checked-second');
    results.signOut = await cmd(ShareCommands.signOut);
    results.fingerprintAfterSignOut = await cmd(ShareCommands.showFingerprint, { copy: true });
    results.afterSignOut = await refusal(ShareCommands.createTeam, { name: 'late' });
    results.ok = true;
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
  } finally {
    results.finishedAt = new Date().toISOString();
    signal('done');
  }
}
