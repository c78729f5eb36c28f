// Kyozo Share's identity and team commands, and the join-link handler. Each command takes optional arguments so
// other commands and tests can drive it without UI (e.g. { teamId, role }); without them it asks with input boxes and
// quick picks. Each returns its result, { error } with the message the user was shown, or undefined when dismissed.
import * as vscode from 'vscode';
import { ShareCommands } from '../../../server/src/protocol';
import type { Removal } from '../../../sync-server/src/client/api-client';
import type { RosterRole } from '../../../sync-server/src/client/team-roster';
import { deviceFingerprint, deviceIdentity } from './device-keys';
import { JOIN_PATH, joinLink, parseInvite, parseJoinQuery, type ParsedInvite } from './join-uri';
import { ShareAccount, type CommandResult, type ShareSession, type SignInArgs } from './share-account';
import { ShareError } from './share-errors';
import { handleShareUri } from './share-filesystem';
import { SHARE_COMPACT_COMMAND } from './share-link';

const ROLES: { role: RosterRole; detail: string }[] = [
  { role: 'member', detail: 'edits shared workspaces and acts on shared services' },
  { role: 'viewer', detail: 'reads shared workspaces; cannot edit or act' },
  { role: 'admin', detail: 'also invites, removes members and hands out room keys (an owner grants this)' },
];

export interface MemberView {
  userId: string;
  username: string;
  role: string;
  you: boolean;
  devices: { fingerprint: string; state: string }[];
}

interface ManageArgs {
  teamId?: string;
  action?: 'list' | 'setRole' | 'remove' | 'verify';
  userId?: string;
  role?: RosterRole;
  fingerprint?: string;
}

/** Registers the Share identity and team commands and the join-link handler; returns the account for other parts. */
export function registerShareIdentity(context: vscode.ExtensionContext, output: vscode.OutputChannel): ShareAccount {
  const account = new ShareAccount(context, output);
  const teams = new TeamCommands(account);
  const reg = (id: string, fn: (args?: never) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, (args?: never) => fn(args)));
  reg(ShareCommands.signIn, (a?: SignInArgs) => account.signIn(a));
  reg(ShareCommands.createAccount, (a?: SignInArgs) => account.signIn(a, true));
  reg(ShareCommands.signOut, (a?: { server?: string }) => account.signOut(a));
  reg(ShareCommands.createTeam, (a?: { name?: string }) => teams.createTeam(a));
  reg(ShareCommands.invite, (a?: { teamId?: string; role?: RosterRole; ttlSeconds?: number }) => teams.invite(a));
  reg(ShareCommands.joinTeam, (a?: { invite?: string; switchServer?: boolean }) => teams.join(a));
  reg(ShareCommands.manageMembers, (a?: ManageArgs) => teams.manage(a));
  reg(ShareCommands.showFingerprint, (a?: { copy?: boolean }) => teams.showFingerprint(a));
  context.subscriptions.push(
    vscode.window.registerUriHandler({
      handleUri: async (uri) => {
        if (handleShareUri(uri)) return;
        if (uri.path !== JOIN_PATH) {
          void vscode.window.showErrorMessage(`Kyozo: unknown link ${uri.path}; Kyozo opens only ${JOIN_PATH} links.`);
          return;
        }
        let parsed: ParsedInvite;
        try {
          parsed = parseJoinQuery(uri.query);
        } catch (e) {
          account.fail(e, 'join the team');
          return;
        }
        await teams.join({ parsed });
      },
    }),
  );
  return account;
}

class TeamCommands {
  constructor(private readonly account: ShareAccount) {}

  private get extensionId(): string {
    return this.account.context.extension.id;
  }

  async createTeam(args: { name?: string } = {}): Promise<CommandResult<{ teamId: string; name: string }>> {
    let s: ShareSession | undefined;
    try {
      s = await this.account.session();
      const name =
        args.name ??
        (await vscode.window.showInputBox({
          title: 'Kyozo Share: create a team',
          prompt: `Team name on ${s.server} (the server sees it)`,
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() ? undefined : 'give the team a name'),
        }));
      if (!name) return undefined;
      const team = await s.api.createTeam(name.trim());
      // The first roster, signed by this device as owner: every member's device checks later rosters against it.
      await s.api.publishRoster(team.id, s.identity, s.trust);
      void vscode.window.showInformationMessage(
        `Kyozo Share: team "${name.trim()}" created; you are its owner. Invite people with "Kyozo Share: Invite to Team".`,
      );
      return { teamId: team.id, name: name.trim() };
    } catch (e) {
      return this.account.fail(e, 'create the team', s?.server);
    }
  }

  /** The team to act on: given, or picked among the user's teams. */
  private async pickTeam(s: ShareSession, given: string | undefined, title: string): Promise<string | undefined> {
    if (given) return given;
    const list = await s.api.request<{ id: string; name: string; role: string }[]>('GET', '/v1/teams');
    if (!list.length) {
      throw new ShareError('you are in no team yet: run "Kyozo Share: Create Team", or join one with an invite');
    }
    const picked = await vscode.window.showQuickPick(
      list.map((t) => ({ label: t.name, description: t.role, id: t.id })),
      { title, ignoreFocusOut: true },
    );
    return picked?.id;
  }

  async invite(
    args: { teamId?: string; role?: RosterRole; ttlSeconds?: number } = {},
  ): Promise<CommandResult<{ invite: string; link: string; role: string; expiresAt: number }>> {
    let s: ShareSession | undefined;
    try {
      s = await this.account.session();
      const teamId = await this.pickTeam(s, args.teamId, 'Kyozo Share: invite to which team?');
      if (!teamId) return undefined;
      const role =
        args.role ??
        (
          await vscode.window.showQuickPick(
            ROLES.map((r) => ({ label: r.role, detail: r.detail })),
            { title: 'Kyozo Share: the invitee’s role', ignoreFocusOut: true },
          )
        )?.label;
      if (!role) return undefined;
      const made = await s.api.invite(teamId, role, args.ttlSeconds);
      const link = joinLink(this.extensionId, s.server, made.invite);
      await vscode.env.clipboard.writeText(link);
      const until = new Date(made.expiresAt).toISOString().replace('T', ' ').slice(0, 16);
      void vscode.window.showInformationMessage(
        `Kyozo Share: invite link (${role}, single use, valid until ${until} UTC) copied to the clipboard. ` +
          'Send it over a channel you trust; once they joined, compare fingerprints in "Kyozo Share: Manage Members".',
      );
      return { invite: made.invite, link, role, expiresAt: made.expiresAt };
    } catch (e) {
      return this.account.fail(e, 'create the invite', s?.server);
    }
  }

  async join(
    args: { invite?: string; switchServer?: boolean; parsed?: ParsedInvite } = {},
  ): Promise<
    CommandResult<{ teamId: string; role: string; server: string; rooms: { roomId: string; epochs: number[] }[] }>
  > {
    let server: string | undefined;
    try {
      let parsed = args.parsed;
      if (!parsed) {
        const text =
          args.invite ??
          (await vscode.window.showInputBox({
            title: 'Kyozo Share: join a team',
            prompt: 'Paste the invite or the join link an admin of the team sent you',
            ignoreFocusOut: true,
            validateInput: (v) => {
              try {
                parseInvite(v);
                return undefined;
              } catch (e) {
                return (e as Error).message;
              }
            },
          }));
        if (!text) return undefined;
        parsed = parseInvite(text);
      }
      const configured = this.account.configuredServer();
      server = parsed.server ?? configured;
      if (!server) throw new ShareError('no sync server is set: set kyozo.sync.server, or use the full join link');
      if (parsed.server && configured && parsed.server !== configured) {
        // A link must not redirect this user's token to a server of the link's choosing: only an explicit yes does.
        const yes = 'Switch Server';
        // Driven with arguments (no one to ask), only switchServer: true switches.
        const ok =
          args.switchServer ??
          (args.invite === undefined &&
            (await vscode.window.showWarningMessage(
              `Kyozo Share: this invite is for the sync server ${parsed.server}, but you use ${configured}. ` +
                `Switch to ${parsed.server}? You will sign in there; your token for ${configured} is never sent to it.`,
              { modal: true },
              yes,
            )) === yes);
        if (!ok) {
          throw new ShareError(
            `the invite is for ${parsed.server} and you use ${configured}: nothing was sent; ` +
              'set kyozo.sync.server to that address if you trust it, then open the link again',
          );
        }
        await this.account.server(parsed.server, false);
      }
      if (!(await this.account.signedInAs(server))) {
        const signIn = 'Sign In';
        const create = 'Create Account';
        const pick = args.invite
          ? undefined
          : await vscode.window.showInformationMessage(
              `Kyozo Share: sign in to ${server} to join the team.`,
              signIn,
              create,
            );
        if (pick) await this.account.signIn({ server }, pick === create);
        if (!(await this.account.signedInAs(server))) {
          throw new ShareError(`you are not signed in to ${server}: run "Kyozo Share: Sign In", then join again`);
        }
      }
      const s = await this.account.session(server);
      const joined = await s.api.acceptInvite(parsed.invite);
      // The team's signed roster: its signer is pinned on first use, with a warning naming the fingerprint to check.
      await s.api.syncRoster(joined.teamId, s.trust);
      // The room keys already wrapped to this device, checked now: a wrap no trusted admin device signed is refused
      // with an error naming its signer (shown by ShareAccount from the trust warning), not found out later.
      const rooms = [];
      for (const room of await s.api.teamRooms(joined.teamId)) {
        const keyring = await s.api.loadKeyring(room.id, s.identity, s.trust);
        rooms.push({ roomId: room.id, name: room.name, epochs: keyring.epochs() });
      }
      const fp = deviceFingerprint(s.identity);
      void vscode.window.showInformationMessage(
        `Kyozo Share: you joined the team as ${joined.role}. Read your device fingerprint ${fp} to an admin of the ` +
          'team out of band so they can verify it; room keys reach verified devices only.',
      );
      return { teamId: joined.teamId, role: joined.role, server, rooms };
    } catch (e) {
      return this.account.fail(e, 'join the team', server);
    }
  }

  private async members(s: ShareSession, teamId: string): Promise<MemberView[]> {
    await s.api.syncRoster(teamId, s.trust);
    const devices = await s.api.teamDevices(teamId, s.trust);
    return (await s.api.members(teamId)).map((m) => ({
      userId: m.userId,
      username: m.username,
      role: m.role,
      you: m.userId === s.userId,
      devices: devices
        .filter((d) => d.userId === m.userId)
        .map((d) => ({ fingerprint: d.fingerprint, state: d.state })),
    }));
  }

  async manage(args: ManageArgs = {}): Promise<CommandResult<unknown>> {
    let s: ShareSession | undefined;
    try {
      s = await this.account.session();
      const teamId = await this.pickTeam(s, args.teamId, 'Kyozo Share: manage the members of which team?');
      if (!teamId) return undefined;
      let action = args.action;
      let userId = args.userId;
      let fp = args.fingerprint;
      if (!action) {
        const list = await this.members(s, teamId);
        const picked = await vscode.window.showQuickPick(
          list.map((m) => ({
            label: `${m.username}${m.you ? ' (you)' : ''}`,
            description: m.role,
            detail: m.devices.length
              ? m.devices.map((d) => `${d.fingerprint} · ${d.state}`).join('   ')
              : 'no device registered',
            member: m,
          })),
          {
            title: 'Kyozo Share: members, roles and device fingerprints (compare them out of band)',
            matchOnDetail: true,
            ignoreFocusOut: true,
          },
        );
        if (!picked) return undefined;
        userId = picked.member.userId;
        // A notification shows the member's whole fingerprints (a quick pick row cuts them) and what can be done.
        const m = picked.member;
        const unverified = m.devices.filter((d) => d.state !== 'verified');
        const buttons = [
          'Change Role…',
          ...(unverified.length ? ['Mark Verified…'] : []),
          ...(m.you ? [] : ['Remove…']),
        ];
        const devices = m.devices.length
          ? m.devices.map((d, n) => `device ${n + 1} (${d.state}): ${d.fingerprint}`).join('; ')
          : 'no device registered yet';
        const compare = unverified.length
          ? '. Compare a fingerprint with its owner over a channel you trust before marking it verified.'
          : '.';
        const chosen = await vscode.window.showInformationMessage(
          `Kyozo Share: ${m.username}${m.you ? ' (you)' : ''} · ${m.role} · ${devices}${compare}`,
          ...buttons,
        );
        if (!chosen) return undefined;
        action = chosen === 'Remove…' ? 'remove' : chosen === 'Mark Verified…' ? 'verify' : 'setRole';
        if (action === 'verify') {
          fp =
            unverified.length === 1
              ? unverified[0].fingerprint
              : (
                  await vscode.window.showQuickPick(
                    unverified.map((d) => ({ label: d.fingerprint })),
                    { title: `Mark which device of ${m.username} verified?`, ignoreFocusOut: true },
                  )
                )?.label;
          if (!fp) return undefined;
        }
        if (action === 'remove') {
          const yes = 'Remove';
          const sure = await vscode.window.showWarningMessage(
            `Remove ${m.username} from the team? Their sockets close and the keys of the team's rooms ` +
              'this device administers are rotated.',
            { modal: true },
            yes,
          );
          if (sure !== yes) return undefined;
        }
      }
      if (action === 'list') return { teamId, members: await this.members(s, teamId) };
      if (action === 'verify') return await this.verify(s, teamId, fp);
      if (!userId) throw new ShareError(`"${action}" needs the member's userId`);
      if (action === 'setRole') return await this.setRole(s, teamId, userId, args.role);
      if (action === 'remove') return await this.remove(s, teamId, userId);
      throw new ShareError(`unknown action "${String(action)}": use list, setRole, remove or verify`);
    } catch (e) {
      return this.account.fail(e, 'manage the members', s?.server);
    }
  }

  private async verify(s: ShareSession, teamId: string, fp: string | undefined) {
    if (!fp) throw new ShareError('give the fingerprint to mark verified');
    await s.api.teamDevices(teamId, s.trust); // so the device is known
    const d = await s.trust.verify(fp);
    // An admin device lists the verified device in the next signed roster, so others take keys for it too.
    if (s.trust.canWrap(teamId, s.identity.signPublicKey)) await s.api.publishRoster(teamId, s.identity, s.trust);
    void vscode.window.showInformationMessage(
      `Kyozo Share: ${d.username ?? 'the device'} ${d.fingerprint} is verified.`,
    );
    return { teamId, fingerprint: d.fingerprint, state: d.state };
  }

  private async setRole(s: ShareSession, teamId: string, userId: string, given: RosterRole | undefined) {
    const role =
      given ??
      ((
        await vscode.window.showQuickPick(
          [...ROLES, { role: 'owner' as const, detail: 'everything an admin does, and grants admin' }].map((r) => ({
            label: r.role,
            detail: r.detail,
          })),
          { title: 'Kyozo Share: new role', ignoreFocusOut: true },
        )
      )?.label as RosterRole | undefined);
    if (!role) return undefined;
    let note = '';
    try {
      await s.api.changeRole(teamId, userId, role, s.identity, s.trust);
    } catch (e) {
      if (!/is not an admin in version/.test((e as Error).message)) throw e;
      note = ' The server has it; the signed member list waits for an admin device of the roster to publish it.';
    }
    // Peers stop applying a former writer's updates from the room's log: a snapshot this device signs keeps them.
    if (role === 'viewer') await vscode.commands.executeCommand(SHARE_COMPACT_COMMAND, { teamId });
    void vscode.window.showInformationMessage(`Kyozo Share: the role is now ${role}.${note}`);
    return { teamId, userId, role };
  }

  private async remove(s: ShareSession, teamId: string, userId: string): Promise<Removal & { teamId: string }> {
    let removal: Removal;
    let note = '';
    try {
      removal = await s.api.removeMember(teamId, userId, s.identity, s.trust);
    } catch (e) {
      // The server removed them first; this device may not be an admin of the signed roster, so it cannot rotate.
      if (!/is not an admin in version/.test((e as Error).message)) throw e;
      removal = { socketsClosed: 0, rotationRequired: [], rotated: [] };
      note =
        ' This device is not an admin in the team’s signed roster, so it rotated no room key: the rooms refuse ' +
        'writes until an admin device rotates them.';
    }
    // As for a viewer: the removed member's past edits reach later joiners only inside a snapshot of a writer.
    for (const r of removal.rotated) await vscode.commands.executeCommand(SHARE_COMPACT_COMMAND, { teamId, ...r });
    void vscode.window.showInformationMessage(
      `Kyozo Share: member removed; ${removal.socketsClosed} connection(s) closed, ` +
        `${removal.rotated.length} room key(s) rotated.${note}`,
    );
    return { teamId, ...removal };
  }

  async showFingerprint(
    args: { copy?: boolean } = {},
  ): Promise<CommandResult<{ fingerprint: string; server?: string; signedInAs?: string }>> {
    try {
      const fp = deviceFingerprint(await deviceIdentity(this.account.context.secrets));
      const server = this.account.configuredServer();
      const signedInAs = server ? await this.account.signedInAs(server) : undefined;
      if (args.copy) {
        await vscode.env.clipboard.writeText(fp);
      } else {
        const copy = 'Copy';
        void vscode.window
          .showInformationMessage(`Kyozo Share: this device's fingerprint is ${fp}`, copy)
          .then((b) => (b === copy ? vscode.env.clipboard.writeText(fp) : undefined));
      }
      return { fingerprint: fp, server, signedInAs };
    } catch (e) {
      return this.account.fail(e, 'show the fingerprint');
    }
  }
}
