// A team's signed roster: which devices belong to which member, and each member's role. Clients decide from it whose
// key wraps, updates, snapshots and presence they accept; the server stores it and hands it out, but cannot forge it
// (an admin's device signs it) nor roll it back (clients remember the newest version they accepted).
//
// DESIGN:
// - Blob: body || signer's Ed25519 public key (32) || Ed25519 signature (64) over "kyozo-team-roster-v1" 0x00 body.
//   The body is UTF-8 JSON { format: 1, teamId, version, members: [{ userId, username, role, devices }] } where each
//   device is { sign, dh } (base64 public keys). The body bytes are signed as they are, so no canonical JSON is needed.
// - Version: an integer that every new roster raises. The server refuses an upload that does not raise it; clients
//   refuse a roster below the one they accepted (rollback) and one with the same version but other bytes (fork).
// - Signer: a device the roster itself lists as admin or owner. The first roster a client sees for a team is trusted
//   on first use: its signer is pinned, with a warning the application shows, unless the user verified it already.
//   After that a roster is accepted only if its signer was admin or owner in the roster accepted before, or is a
//   device the user verified; trust flows from the first signer along signatures the server cannot make.
// - Keys: a device is its signing key. A roster that lists a known signing key with another X25519 key (another
//   fingerprint) is refused: only the operator of a server would swap the key that room keys are wrapped to.
// This module encodes, signs and checks one roster; device-trust.ts holds the memory the checks above compare with.
import { z } from 'zod';
import { signBytes, verifyBytes, type DeviceIdentity } from './identity';

export type RosterRole = 'owner' | 'admin' | 'member' | 'viewer';
export const ROSTER_ROLE_RANK: Record<RosterRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export interface RosterDevice {
  signPublicKey: Buffer;
  dhPublicKey: Buffer;
}
export interface RosterMember {
  userId: string;
  username: string;
  role: RosterRole;
  devices: RosterDevice[];
}
export interface TeamRoster {
  teamId: string;
  version: number;
  members: RosterMember[];
  /** The device that signed this roster. */
  signer: Buffer;
  /** The signed bytes, exactly as stored and served. */
  blob: Buffer;
}

export type RosterRefusal =
  | 'malformed'
  | 'bad-signature'
  | 'other-team'
  | 'rollback'
  | 'fork'
  | 'untrusted-signer'
  | 'fingerprint-changed'
  | 'missing';

export class RosterError extends Error {
  constructor(
    readonly reason: RosterRefusal,
    message: string,
  ) {
    super(message);
  }
}

const DOMAIN = Buffer.from('kyozo-team-roster-v1\0', 'utf8');
const b64 = (b: Buffer) => b.toString('base64');
const TAIL = 32 + 64;
export const MAX_ROSTER_BYTES = 1024 * 1024;

const key32 = z.string().refine((s) => Buffer.from(s, 'base64').length === 32 && /^[A-Za-z0-9+/]+=*$/.test(s), {
  message: 'must be a 32-byte key in base64',
});
const bodySchema = z.object({
  format: z.literal(1),
  teamId: z.string().min(1).max(200),
  version: z
    .number()
    .int()
    .min(1)
    .max(2 ** 53 - 1),
  members: z
    .array(
      z.object({
        userId: z.string().min(1).max(200),
        username: z.string().max(200),
        role: z.enum(['owner', 'admin', 'member', 'viewer']),
        devices: z.array(z.object({ sign: key32, dh: key32 })).max(100),
      }),
    )
    .max(10_000),
});

export function signRoster(teamId: string, version: number, members: RosterMember[], by: DeviceIdentity): TeamRoster {
  const body = Buffer.from(
    JSON.stringify({
      format: 1,
      teamId,
      version,
      members: members.map((m) => ({
        userId: m.userId,
        username: m.username,
        role: m.role,
        devices: m.devices.map((d) => ({ sign: b64(d.signPublicKey), dh: b64(d.dhPublicKey) })),
      })),
    }),
    'utf8',
  );
  const blob = Buffer.concat([body, by.signPublicKey, signBytes(by, Buffer.concat([DOMAIN, body]))]);
  return { teamId, version, members, signer: by.signPublicKey, blob };
}

/** Parses a roster blob and checks its signature and shape; says nothing yet about whether its signer is trusted. */
export function openRoster(blob: Buffer, teamId: string): TeamRoster {
  if (blob.length <= TAIL || blob.length > MAX_ROSTER_BYTES) {
    throw new RosterError('malformed', `the roster of team ${teamId} is ${blob.length} bytes: not a signed roster`);
  }
  const body = blob.subarray(0, blob.length - TAIL);
  const signer = Buffer.from(blob.subarray(blob.length - TAIL, blob.length - 64));
  if (!verifyBytes(signer, Buffer.concat([DOMAIN, body]), blob.subarray(blob.length - 64))) {
    throw new RosterError('bad-signature', `the roster of team ${teamId} is not signed by the device it names`);
  }
  let parsed: z.infer<typeof bodySchema>;
  try {
    parsed = bodySchema.parse(JSON.parse(body.toString('utf8')));
  } catch (e) {
    const why = (e as Error).message.slice(0, 300);
    throw new RosterError('malformed', `the roster of team ${teamId} does not parse: ${why}`);
  }
  if (parsed.teamId !== teamId) {
    const other = parsed.teamId;
    throw new RosterError('other-team', `the server answered for team ${teamId} with the roster of team ${other}`);
  }
  const seen = new Set<string>();
  const members = parsed.members.map((m) => ({
    userId: m.userId,
    username: m.username,
    role: m.role,
    devices: m.devices.map((d) => {
      if (seen.has(d.sign)) {
        throw new RosterError('malformed', `the roster of team ${teamId} lists device ${d.sign} twice`);
      }
      seen.add(d.sign);
      return { signPublicKey: Buffer.from(d.sign, 'base64'), dhPublicKey: Buffer.from(d.dh, 'base64') };
    }),
  }));
  return { teamId, version: parsed.version, members, signer, blob: Buffer.from(blob) };
}

/** The member a device belongs to in `roster`, with the device's keys as the roster lists them. */
export interface RosterEntry {
  member: RosterMember;
  device: RosterDevice;
}

export function rosterEntry(roster: TeamRoster, signPublicKey: Buffer): RosterEntry | undefined {
  for (const member of roster.members) {
    for (const device of member.devices) if (device.signPublicKey.equals(signPublicKey)) return { member, device };
  }
  return undefined;
}
