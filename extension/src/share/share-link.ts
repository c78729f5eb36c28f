// Links to a shared workspace (vscode://<publisher>.<name>/share?server=...&room=...) and the paths of the guest's
// kyozo-share: file system (kyozo-share:/<room>/<path>). Plain code (no editor API) so the unit tests run it directly.
import { InviteError, normalizeServerUrl } from './join-uri';
import { normalizeSharePath } from './workspace-doc';

export const SHARE_PATH = '/share';
export const SHARE_SCHEME = 'kyozo-share';
const ROOM_SHAPE = /^[A-Za-z0-9_-]{1,100}$/;

export interface ParsedShareLink {
  server: string;
  roomId: string;
}

/** The link that opens Join Shared Workspace in VS Code, for an extension id `publisher.name`. */
export function shareLink(extensionId: string, server: string, roomId: string): string {
  const q = new URLSearchParams({ server: normalizeServerUrl(server), room: roomId });
  return `vscode://${extensionId}${SHARE_PATH}?${q.toString()}`;
}

/** The query of a share link (what a UriHandler receives as `uri.query`). */
export function parseShareQuery(query: string): ParsedShareLink {
  const q = new URLSearchParams(query);
  const server = q.get('server');
  const room = q.get('room');
  if (!server || !room) {
    throw new InviteError('the share link needs both server= and room=: ask the host to copy the link again, whole');
  }
  if (!ROOM_SHAPE.test(room)) throw new InviteError(`"${room.slice(0, 80)}" is not a room id: the link may be cut`);
  return { server: normalizeServerUrl(server), roomId: room };
}

/** What a user pasted: a share link (any scheme, path /share). */
export function parseShareLink(text: string): ParsedShareLink {
  const t = text.trim();
  if (!t) throw new InviteError('no link given: paste the share link the host copied with "Share Workspace"');
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new InviteError('this is not a share link (vscode://kyozo.kyozo/share?server=...&room=...)');
  }
  if (url.pathname.replace(/\/+$/, '') !== SHARE_PATH) {
    throw new InviteError(`"${t.slice(0, 80)}" is not a Kyozo share link (its path is not ${SHARE_PATH})`);
  }
  return parseShareQuery(url.search);
}

/** The WebSocket address of a sync server's HTTP address (http -> ws, https -> wss). */
export function websocketUrl(server: string): string {
  return normalizeServerUrl(server).replace(/^http/, 'ws');
}

/**
 * The room and the workspace-relative path of a kyozo-share: URI's path ('/<room>/<path>'); the path is '' for the
 * room's root. Throws SharePathError for a path the shared layout refuses.
 */
export function splitSharePath(uriPath: string): { roomId: string; path: string } {
  const m = /^\/([^/]+)\/?(.*)$/.exec(uriPath);
  if (!m) throw new InviteError(`${uriPath} is not a kyozo-share path (kyozo-share:/<room>/<path>)`);
  const rest = m[2].replace(/\/+$/, '');
  return { roomId: m[1], path: rest === '' ? '' : normalizeSharePath(rest) };
}

/** The command that reports what this window shares and has joined (for diagnostics and the end-to-end tests). */
export const SHARE_STATE_COMMAND = 'kyozo.share.state';
export const SHARE_HOST_STATE_COMMAND = 'kyozo.share.hostState';
/**
 * Internal: the host writes a snapshot of its shared room now. Run after a member of the room's team lost the writing
 * role or was removed: peers then refuse that member's updates from the log, so their past edits reach later joiners
 * only inside a snapshot a current writer signed. Takes { teamId, roomId?, epoch? } (the room key epoch to wait for).
 */
export const SHARE_COMPACT_COMMAND = 'kyozo.share.compactTeamRoom';

/** The shared document's kyozo.meta key the host sets when it stops sharing; a guest that sees it turns read-only. */
export const SHARE_ENDED_KEY = 'ended';
