// Invites as people pass them around: the bare invite the sync server signs, or a join link
// (vscode://<publisher>.<name>/join?server=...&invite=...) that also names the server. Parsing is plain code (no editor
// API) so the unit tests run it directly; what the invite says is only read to explain a refusal early: the server
// checks its signature, expiry and single use.

/** Why an invite or a server address was refused, worded for the user with what to do next. */
export class InviteError extends Error {}

export interface ParsedInvite {
  /** The invite exactly as the server signed it (`<body>.<mac>`, base64url). */
  invite: string;
  /** The server the link names (normalised), when it came in a link. */
  server?: string;
  /** What the invite's body says: the team, the role it grants and when it expires (ms since 1970). */
  teamId?: string;
  role?: string;
  expiresAt?: number;
}

export const JOIN_PATH = '/join';
const INVITE_SHAPE = /^[A-Za-z0-9_-]{8,1500}\.[A-Za-z0-9_-]{20,200}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * The sync server's base URL without a trailing slash. https anywhere; plain http only on this machine (loopback),
 * since the token and password would otherwise cross the network in the clear.
 */
export function normalizeServerUrl(input: string): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InviteError(`"${text.slice(0, 100)}" is not a server address: give one like https://sync.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InviteError(`the sync server address must start with https:// (got ${url.protocol}//)`);
  }
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw new InviteError(
      `the sync server ${url.host} is named with http://: use https:// (put the server behind a TLS proxy), ` +
        'as your password and token would cross the network unencrypted; http:// is accepted for localhost only',
    );
  }
  if (url.username || url.password) throw new InviteError('the sync server address must not carry a user or password');
  if (url.search || url.hash) throw new InviteError('the sync server address must not carry a query or a #fragment');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** The link that opens Kyozo's Join Team in VS Code, for an extension id `publisher.name`. */
export function joinLink(extensionId: string, server: string, invite: string): string {
  const q = new URLSearchParams({ server: normalizeServerUrl(server), invite });
  return `vscode://${extensionId}${JOIN_PATH}?${q.toString()}`;
}

/** The query of a join link (what a UriHandler receives as `uri.query`). */
export function parseJoinQuery(query: string, now = Date.now()): ParsedInvite {
  const q = new URLSearchParams(query);
  const invite = q.get('invite');
  if (!invite) throw new InviteError('the join link has no invite in it: ask for the link again, copied whole');
  const server = q.get('server');
  const parsed = parseBareInvite(invite, now);
  return server ? { ...parsed, server: normalizeServerUrl(server) } : parsed;
}

/** What a user pasted: a join link (any scheme, path /join) or a bare invite. */
export function parseInvite(text: string, now = Date.now()): ParsedInvite {
  const t = text.trim();
  if (!t) throw new InviteError('no invite given: paste the invite or the join link an admin of the team sent you');
  if (/^[a-z][a-z0-9+.-]*:/i.test(t)) {
    let url: URL;
    try {
      url = new URL(t);
    } catch {
      throw new InviteError('the join link is cut or malformed: ask for the link again, copied whole');
    }
    if (url.pathname.replace(/\/+$/, '') !== JOIN_PATH) {
      throw new InviteError(`"${t.slice(0, 80)}" is not a Kyozo join link (its path is not ${JOIN_PATH})`);
    }
    return parseJoinQuery(url.search, now);
  }
  return parseBareInvite(t, now);
}

function parseBareInvite(invite: string, now: number): ParsedInvite {
  if (!INVITE_SHAPE.test(invite)) {
    throw new InviteError(
      'this is not a Kyozo invite (expected two base64url parts joined by a dot): it may be cut short; ' +
        'ask for the invite again, copied whole',
    );
  }
  let body: { team?: unknown; role?: unknown; exp?: unknown };
  try {
    body = JSON.parse(Buffer.from(invite.split('.')[0], 'base64url').toString('utf8')) as typeof body;
  } catch {
    throw new InviteError('this invite does not decode: it may be cut or altered; ask for the invite again');
  }
  if (typeof body !== 'object' || body === null) throw new InviteError('this invite does not decode: ask again');
  const out: ParsedInvite = { invite };
  if (typeof body.team === 'string') out.teamId = body.team;
  if (typeof body.role === 'string') out.role = body.role;
  if (typeof body.exp === 'number') {
    out.expiresAt = body.exp;
    if (body.exp <= now) {
      const when = new Date(body.exp).toISOString().replace('T', ' ').slice(0, 16);
      throw new InviteError(`this invite expired on ${when} UTC: ask an admin of the team for a new one`);
    }
  }
  return out;
}
