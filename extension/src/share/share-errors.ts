// What a failed Share call tells the user: the cause in plain words and the next step, from the sync server's error
// codes (docs/sync-server.md), a network failure, or a refusal made on this device. Plain code, no editor API.
import { SyncApiError } from '../../../sync-server/src/client/api-client';
import type { TrustWarning } from '../../../sync-server/src/client/device-trust';
import { InviteError } from './join-uri';

/** An error worded for the user already (a refusal this device made); shown as it is. */
export class ShareError extends Error {}

/** The server's own sentence, without the "METHOD /path failed (status): " prefix SyncApi adds. */
function serverSays(e: SyncApiError): string {
  return e.message.replace(/^[A-Z]+ \S+ failed \(\d+\): /, '');
}

/**
 * One sentence for an error met while doing `what` (e.g. "sign in") against `server`. Never includes a token,
 * password or invite: SyncApi's messages carry none, and nothing else is quoted.
 */
export function describeShareError(e: unknown, what: string, server?: string): string {
  const at = server ? ` at ${server}` : '';
  if (e instanceof ShareError || e instanceof InviteError) return `Kyozo Share: cannot ${what}: ${e.message}`;
  if (e instanceof SyncApiError) {
    const says = serverSays(e);
    if (e.status === 429) return `Kyozo Share: cannot ${what}: ${says}. The server${at} slows down repeated attempts.`;
    if (e.status === 401 && /^POST \/v1\/tokens /.test(e.message)) {
      return (
        `Kyozo Share: cannot ${what}: wrong username or password for the sync server${at}. ` +
        'Check them, or run "Kyozo Share: Create Account" if you have no account there.'
      );
    }
    if (e.status === 401) {
      return `Kyozo Share: cannot ${what}: the sync server${at} no longer accepts your session. Run "Kyozo Share: Sign In".`;
    }
    if (e.code === 'conflict' && /^POST \/v1\/accounts /.test(e.message)) {
      return `Kyozo Share: cannot ${what}: ${says}. Pick another username, or sign in if the account is yours.`;
    }
    if (e.code === 'conflict' && /\/v1\/me\/keys/.test(e.message)) {
      return (
        `Kyozo Share: cannot ${what}: this device's key is registered to another account on${at || ' this server'}. ` +
        'Sign in with that account; one device belongs to one account per server.'
      );
    }
    if (/^invite-|^invalid-invite$/.test(e.code)) {
      return `Kyozo Share: cannot ${what}: ${says.replace(/:.*$/, '')}. Ask an admin of the team for a new invite.`;
    }
    if (e.status === 409) return `Kyozo Share: cannot ${what}: ${says}.`;
    if (e.status === 403) return `Kyozo Share: cannot ${what}: ${says}. Ask an owner or admin of the team.`;
    if (e.status === 404) return `Kyozo Share: cannot ${what}: ${says}.`;
    if (e.status === 400) return `Kyozo Share: cannot ${what}: ${says}.`;
    return `Kyozo Share: cannot ${what}: the sync server${at} answered ${e.status} (${says}). Try again later.`;
  }
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err instanceof TypeError && /fetch failed/.test(err.message)) {
    const why = err.cause?.code ?? err.cause?.message ?? 'no answer';
    return (
      `Kyozo Share: cannot ${what}: the sync server${at} cannot be reached (${why}). Check the setting ` +
      'kyozo.sync.server and that the server is running, then try again.'
    );
  }
  return `Kyozo Share: cannot ${what}: ${err?.message ?? String(e)}`;
}

/** The message shown for a trust warning of the client library, naming the device concerned. */
export function describeTrustWarning(w: TrustWarning, username?: string): string {
  const who = w.fingerprint
    ? ` device ${w.fingerprint}${username ? ` (${username})` : ''}`
    : ' a device this one does not know';
  switch (w.kind) {
    case 'wrap-refused':
      return (
        `Kyozo Share: refused a room key signed by${who}: ${w.reason ?? w.message}. The room stays closed to ` +
        'this device until a verified admin device of the team grants its key; compare fingerprints in Manage Members.'
      );
    case 'fingerprint-changed':
      return `Kyozo Share: ${w.message}`;
    case 'pinned-on-first-use':
      return `Kyozo Share: ${w.message}`;
    case 'roster-refused':
      return `Kyozo Share: the member list of team ${w.teamId ?? '?'} was refused: ${w.message}`;
  }
}
