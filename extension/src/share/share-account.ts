// The account on the sync server named by kyozo.sync.server: sign in, create an account, sign out. The API token is
// kept in SecretStorage (one entry per server, so a token is only ever sent to the server that issued it), never in
// settings, logs or memory beyond a call. Signing in also registers this device's public keys with the server.
import * as vscode from 'vscode';
import { SyncApi } from '../../../sync-server/src/client/api-client';
import type { DeviceTrust, TrustWarning } from '../../../sync-server/src/client/device-trust';
import type { DeviceIdentity } from '../../../sync-server/src/client/identity';
import { deviceFingerprint, deviceIdentity, deviceTrust } from './device-keys';
import { normalizeServerUrl } from './join-uri';
import { ShareError, describeShareError, describeTrustWarning } from './share-errors';

export const SERVER_SETTING = 'sync.server';

interface StoredSession {
  token: string;
  userId: string;
  username: string;
}

/** A signed-in session: the API with its token, this device's keys and what it trusts on that server. */
export interface ShareSession {
  server: string;
  api: SyncApi;
  identity: DeviceIdentity;
  trust: DeviceTrust;
  userId: string;
  username: string;
}

export interface SignInArgs {
  server?: string;
  username?: string;
  password?: string;
}

/** A command's answer to a caller that passed arguments: its result, or the message the user was shown. */
export type CommandResult<T> = T | { error: string } | undefined;

export class ShareAccount {
  private readonly watched = new WeakSet<DeviceTrust>();

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
  ) {}

  /** kyozo.sync.server as set in user (or remote) settings, normalised; undefined when unset. */
  configuredServer(): string | undefined {
    const raw = vscode.workspace.getConfiguration('kyozo').get<string>(SERVER_SETTING, '').trim();
    return raw ? normalizeServerUrl(raw) : undefined;
  }

  /**
   * The server to use: `given` (saved to user settings when it differs), else the setting, else asked for when
   * `ask`. Undefined when the user dismissed the box.
   */
  async server(given: string | undefined, ask: boolean): Promise<string | undefined> {
    if (given) {
      const server = normalizeServerUrl(given);
      if (server !== this.configuredServer()) {
        await vscode.workspace
          .getConfiguration('kyozo')
          .update(SERVER_SETTING, server, vscode.ConfigurationTarget.Global);
      }
      return server;
    }
    const configured = this.configuredServer();
    if (configured || !ask) {
      if (!configured) {
        throw new ShareError('no sync server is set: set kyozo.sync.server in your user settings, then try again');
      }
      return configured;
    }
    const typed = await vscode.window.showInputBox({
      title: 'Kyozo Share: sync server',
      prompt: 'The address of your team’s Kyozo sync server (saved as kyozo.sync.server in your user settings)',
      placeHolder: 'https://sync.example.com',
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          normalizeServerUrl(v);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    return typed === undefined ? undefined : this.server(typed, false);
  }

  private tokenKey(server: string): string {
    return `kyozo-share/session/${server}`;
  }

  private async stored(server: string): Promise<StoredSession | undefined> {
    const raw = await this.context.secrets.get(this.tokenKey(server));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as StoredSession;
    } catch {
      return undefined;
    }
  }

  /** Who is signed in to `server` on this device, read from SecretStorage. */
  async signedInAs(server: string): Promise<string | undefined> {
    return (await this.stored(server))?.username;
  }

  /** The session for the configured server; a ShareError saying to sign in when there is none. */
  async session(serverArg?: string): Promise<ShareSession> {
    const server = serverArg ? normalizeServerUrl(serverArg) : await this.server(undefined, false);
    const s = await this.stored(server!);
    if (!s) throw new ShareError(`you are not signed in to ${server}: run "Kyozo Share: Sign In" first`);
    return this.open(server!, s);
  }

  private async open(server: string, s: StoredSession): Promise<ShareSession> {
    const identity = await deviceIdentity(this.context.secrets);
    const trust = await deviceTrust(this.context.globalStorageUri.fsPath, server, identity);
    this.watch(trust);
    return { server, api: new SyncApi(server, s.token), identity, trust, userId: s.userId, username: s.username };
  }

  /** Shows the trust library's warnings: a refused key wrap or a changed fingerprint as an error, naming the device. */
  private watch(trust: DeviceTrust): void {
    if (this.watched.has(trust)) return;
    this.watched.add(trust);
    trust.on('warning', (w: TrustWarning) => {
      const username = w.fingerprint ? trust.device(w.fingerprint)?.username : undefined;
      const text = describeTrustWarning(w, username);
      this.output.appendLine(text);
      if (w.kind === 'wrap-refused' || w.kind === 'fingerprint-changed') void vscode.window.showErrorMessage(text);
      else void vscode.window.showWarningMessage(text);
    });
  }

  async signIn(
    args: SignInArgs = {},
    create = false,
  ): Promise<CommandResult<{ server: string; username: string; userId: string; fingerprint: string }>> {
    const what = create ? 'create the account' : 'sign in';
    let server: string | undefined;
    try {
      server = await this.server(args.server, !args.username);
      if (!server) return undefined;
      const username =
        args.username ??
        (await vscode.window.showInputBox({
          title: `Kyozo Share: ${create ? 'create an account on' : 'sign in to'} ${server}`,
          prompt: create ? 'Username: lowercase letters, digits, . _ -, 2-39 characters' : 'Username',
          ignoreFocusOut: true,
        }));
      if (!username) return undefined;
      const password =
        args.password ??
        (await vscode.window.showInputBox({
          title: `Kyozo Share: password for ${username} on ${server}`,
          prompt: create ? 'Password: at least 10 characters' : 'Password',
          password: true,
          ignoreFocusOut: true,
        }));
      if (!password) return undefined;
      const api = new SyncApi(server);
      if (create) await api.createAccount(username, password);
      const { token, userId } = await api.login(username, password);
      const identity = await deviceIdentity(this.context.secrets);
      try {
        await api.registerDevice(identity);
      } catch (e) {
        await api.request('DELETE', '/v1/tokens/current').catch(() => undefined);
        throw e;
      }
      const before = await this.stored(server);
      await this.context.secrets.store(this.tokenKey(server), JSON.stringify({ token, userId, username }));
      // The token this one replaces is revoked, so signing in again leaves no valid token behind on the server.
      if (before)
        await new SyncApi(server, before.token).request('DELETE', '/v1/tokens/current').catch(() => undefined);
      const fp = deviceFingerprint(identity);
      this.output.appendLine(`Kyozo Share: signed in to ${server} as ${username} (device ${fp})`);
      void vscode.window.showInformationMessage(
        `Kyozo Share: ${create ? 'account created; ' : ''}signed in to ${server} as ${username}. This device's fingerprint: ${fp}`,
      );
      return { server, username, userId, fingerprint: fp };
    } catch (e) {
      return this.fail(e, what, server);
    }
  }

  async signOut(args: { server?: string } = {}): Promise<CommandResult<{ server: string; signedOut: boolean }>> {
    let server: string | undefined;
    try {
      server = args.server ? normalizeServerUrl(args.server) : this.configuredServer();
      if (!server) throw new ShareError('no sync server is set (kyozo.sync.server), so there is no session to end');
      const s = await this.stored(server);
      if (!s) {
        void vscode.window.showInformationMessage(`Kyozo Share: you were not signed in to ${server}.`);
        return { server, signedOut: false };
      }
      // The secret goes first: even when the server cannot be reached, this device holds no token afterwards.
      await this.context.secrets.delete(this.tokenKey(server));
      const revoked = await new SyncApi(server, s.token).request('DELETE', '/v1/tokens/current').then(
        () => true,
        () => false,
      );
      const note = revoked ? '' : ' The server could not be told, so the token stays valid there until it expires.';
      void vscode.window.showInformationMessage(`Kyozo Share: signed out of ${server}.${note}`);
      return { server, signedOut: true };
    } catch (e) {
      return this.fail(e, 'sign out', server);
    }
  }

  /** Shows (and logs) the error as a sentence with a next step; the caller gets it back as { error }. */
  fail(e: unknown, what: string, server?: string): { error: string } {
    const error = describeShareError(e, what, server);
    this.output.appendLine(error);
    void vscode.window.showErrorMessage(error);
    return { error };
  }
}
