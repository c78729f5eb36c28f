// The storage contract. SQLite (sqlite-store.ts) implements it for one instance, PostgreSQL (postgres-store.ts) for
// several instances sharing one database; the log methods are asynchronous and store an update at most once per
// (room, sender, clock).

export type Role = 'owner' | 'admin' | 'member' | 'viewer';
export const ROLE_RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  createdAt: number;
}
export interface DeviceKey {
  signPublicKey: Buffer;
  dhPublicKey: Buffer;
  userId: string;
  createdAt: number;
}
export interface Team {
  id: string;
  name: string;
  createdAt: number;
}
export interface Member {
  teamId: string;
  userId: string;
  username: string;
  role: Role;
}
export interface Room {
  id: string;
  teamId: string;
  name: string;
  keyEpoch: number;
  head: number;
  rotationRequired: boolean;
  createdAt: number;
}
export interface Invite {
  id: string;
  teamId: string;
  role: Role;
  expiresAt: number;
  usedBy: string | null;
  createdBy: string;
  /** Set when its creator was removed or demoted before it was used. */
  revokedAt?: number | null;
}
export interface WrappedKey {
  roomId: string;
  epoch: number;
  recipient: Buffer;
  wrapped: Buffer;
}
/** A team's signed roster as an admin's client uploaded it: the server never parses the blob, only keeps the newest. */
export interface StoredRoster {
  teamId: string;
  version: number;
  blob: Buffer;
}

/** One accepted update: the sealed frame exactly as received. */
export interface LogUpdate {
  roomId: string;
  sender: Buffer;
  clock: number;
  frame: Buffer;
}

export interface SnapshotWrite {
  roomId: string;
  head: number; // new head number (previous + 1)
  frame: Buffer;
  covers: Map<string, number>; // hex sender -> highest clock included; updates at or below are dropped
}

export interface RoomLog {
  head: number;
  snapshot: Buffer | null;
  updates: Buffer[]; // in acceptance order
}

/**
 * A log write the store itself refused because the database holds something newer than the instance that accepted it
 * knew: another instance stored that sender's clock first ('replay', 'clock-gap'), or a snapshot on a head another
 * instance moved ('stale-head'). `expected` is the clock (or head) the store would take next. Only a store shared by
 * several instances refuses; SQLite's single instance has already checked all of it in memory.
 */
export class StoreRefusal extends Error {
  constructor(
    readonly code: 'replay' | 'clock-gap' | 'stale-head',
    readonly expected: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SyncStore {
  // Accounts, teams, rooms: low volume, request path.
  createUser(user: User): Promise<void>;
  userByName(username: string): Promise<User | undefined>;
  userById(id: string): Promise<User | undefined>;
  addToken(tokenHash: string, userId: string, name: string, expiresAt: number): Promise<void>;
  userByTokenHash(tokenHash: string, now: number): Promise<User | undefined>;
  /** When the token expires; undefined once it is deleted (revoked) or if it never existed. */
  tokenExpiresAt(tokenHash: string): Promise<number | undefined>;
  deleteToken(tokenHash: string): Promise<void>;
  setPasswordHash(userId: string, passwordHash: string): Promise<void>;
  addDeviceKey(key: DeviceKey): Promise<void>;
  deviceKey(signPublicKey: Buffer): Promise<DeviceKey | undefined>;
  deviceKeysOf(userId: string): Promise<DeviceKey[]>;
  createTeam(team: Team, ownerId: string): Promise<void>;
  teamsOf(userId: string): Promise<(Team & { role: Role })[]>;
  team(id: string): Promise<Team | undefined>;
  members(teamId: string): Promise<Member[]>;
  membership(teamId: string, userId: string): Promise<Member | undefined>;
  setMember(teamId: string, userId: string, role: Role): Promise<void>;
  removeMember(teamId: string, userId: string): Promise<void>;
  createInvite(invite: Invite): Promise<void>;
  invite(id: string): Promise<Invite | undefined>;
  markInviteUsed(id: string, userId: string): Promise<boolean>;
  /** Revokes the unused invites `userId` created for the team; returns how many. */
  revokeInvitesBy(teamId: string, userId: string): Promise<number>;
  createRoom(room: Room): Promise<void>;
  room(id: string): Promise<Room | undefined>;
  rooms(teamId: string): Promise<Room[]>;
  setRoomsRotationRequired(teamId: string): Promise<void>;
  addWrappedKeys(roomId: string, epoch: number, wraps: WrappedKey[], bumpEpoch: boolean): Promise<void>;
  wrappedKeysFor(roomId: string, recipients: Buffer[]): Promise<WrappedKey[]>;
  roster(teamId: string): Promise<StoredRoster | undefined>;
  /** Keeps `roster` only if its version is above the stored one (no rollback); returns whether it was kept. */
  putRoster(roster: StoredRoster): Promise<boolean>;
  secret(name: string, create: () => Buffer): Promise<Buffer>;

  // The encrypted log: hot path. Resolves only once the write is durable.
  appendUpdate(update: LogUpdate): Promise<void>;
  putSnapshot(snapshot: SnapshotWrite): Promise<void>;
  loadRoomLog(roomId: string): Promise<RoomLog>;
  senderClocks(roomId: string): Promise<Map<string, number>>;
  /** The sender's updates with clocks in (after, upTo], in clock order; those a snapshot dropped are missing. */
  updatesBetween(roomId: string, sender: Buffer, after: number, upTo: number): Promise<Buffer[]>;
  storedBytes(roomId: string): Promise<number>;
  /** Bytes of updates in the log per sender (hex), over every room, or over one room. */
  logBytesBySender(roomId?: string): Promise<Map<string, number>>;
  /** Commits everything queued; resolves when durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
