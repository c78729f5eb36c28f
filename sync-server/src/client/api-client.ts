// A typed client for the sync server's HTTP API plus the trust and key-management flows built on it (sign the team
// roster, create a room with its first key, rotate, grant keys to a new member, remove a member and rotate, load my
// keyring). What the server says about members and keys is only ever an input to DeviceTrust, never trusted as is.
import type { DeviceTrust, WrapPolicy } from './device-trust';
import { fingerprint, type DeviceIdentity } from './identity';
import { OpenError, RoomKeyring, newRoomKey, unwrapRoomKey, wrapRoomKey, type Recipient } from './room-crypto';
import {
  RosterError,
  rosterEntry,
  signRoster,
  type RosterMember,
  type RosterRole,
  type TeamRoster,
} from './team-roster';

export class SyncApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface MemberInfo {
  teamId: string;
  userId: string;
  username: string;
  role: string;
  keys: { signPublicKey: string; dhPublicKey: string; fingerprint: string }[];
}
/** What a removal did: sockets closed by the server, rooms it marked for rotation, and the rotations made. */
export interface Removal {
  socketsClosed: number;
  rotationRequired: string[];
  rotated: { roomId: string; epoch: number }[];
}
export interface RemovalOptions {
  keyrings?: Map<string, RoomKeyring>;
  policy?: WrapPolicy;
}
export interface RoomInfo {
  id: string;
  teamId: string;
  name: string;
  keyEpoch: number;
  head: number;
  rotationRequired: boolean;
}

export class SyncApi {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok)
      throw new SyncApiError(
        res.status,
        json.error?.code ?? 'http',
        `${method} ${path} failed (${res.status}): ${json.error?.message ?? 'no error body'}`,
      );
    return json as T;
  }

  createAccount(username: string, password: string) {
    return this.request<{ id: string; username: string }>('POST', '/v1/accounts', { username, password });
  }
  async login(username: string, password: string) {
    const r = await this.request<{ token: string; userId: string }>('POST', '/v1/tokens', { username, password });
    this.token = r.token;
    return r;
  }
  registerDevice(id: DeviceIdentity) {
    return this.request<{ fingerprint: string }>('PUT', '/v1/me/keys', {
      signPublicKey: id.signPublicKey.toString('base64'),
      dhPublicKey: id.dhPublicKey.toString('base64'),
    });
  }
  me() {
    return this.request<{ id: string; username: string }>('GET', '/v1/me');
  }
  createTeam(name: string) {
    return this.request<{ id: string }>('POST', '/v1/teams', { name });
  }
  members(teamId: string) {
    return this.request<MemberInfo[]>('GET', `/v1/teams/${teamId}/members`);
  }
  setRole(teamId: string, userId: string, role: string) {
    return this.request('PATCH', `/v1/teams/${teamId}/members/${userId}`, { role });
  }
  invite(teamId: string, role = 'member', ttlSeconds?: number) {
    return this.request<{ invite: string; expiresAt: number }>('POST', `/v1/teams/${teamId}/invites`, {
      role,
      ttlSeconds,
    });
  }
  acceptInvite(invite: string) {
    return this.request<{ teamId: string; role: string }>('POST', '/v1/invites/accept', { invite });
  }
  createRoomRecord(teamId: string, name: string) {
    return this.request<RoomInfo>('POST', `/v1/teams/${teamId}/rooms`, { name });
  }
  room(roomId: string) {
    return this.request<RoomInfo>('GET', `/v1/rooms/${roomId}`);
  }
  uploadKeys(roomId: string, epoch: number, wraps: { recipient: Buffer; wrapped: Buffer }[]) {
    return this.request<{ epoch: number }>('POST', `/v1/rooms/${roomId}/keys`, {
      epoch,
      wraps: wraps.map((w) => ({ recipient: w.recipient.toString('base64'), wrapped: w.wrapped.toString('base64') })),
    });
  }
  myKeys(roomId: string) {
    return this.request<{ epoch: number; keys: { epoch: number; recipient: string; wrapped: string }[] }>(
      'GET',
      `/v1/rooms/${roomId}/keys`,
    );
  }

  roster(teamId: string) {
    return this.request<{ teamId: string; version: number; roster: string }>('GET', `/v1/teams/${teamId}/roster`);
  }
  putRoster(teamId: string, version: number, blob: Buffer) {
    const body = { version, roster: blob.toString('base64') };
    return this.request<{ version: number }>('PUT', `/v1/teams/${teamId}/roster`, body);
  }
  teamRooms(teamId: string) {
    return this.request<RoomInfo[]>('GET', `/v1/teams/${teamId}/rooms`);
  }

  // ---- trust and key management flows: what the server says is an input to DeviceTrust, never trusted as is ----

  /**
   * Fetches the team's roster and lets `trust` accept it. A roster that is refused (rolled back, forked, signed by a
   * device without authority, showing a changed fingerprint) was reported as a warning; the one accepted before stays.
   */
  async syncRoster(teamId: string, trust: DeviceTrust): Promise<TeamRoster | undefined> {
    let served: { version: number; roster: string };
    try {
      served = await this.roster(teamId);
    } catch (e) {
      if (!(e instanceof SyncApiError && e.code === 'no-roster')) throw e;
      trust.rosterMissing(teamId);
      return trust.roster(teamId);
    }
    try {
      return await trust.acceptRoster(teamId, Buffer.from(served.roster, 'base64'));
    } catch (e) {
      if (e instanceof RosterError) return trust.roster(teamId);
      throw e;
    }
  }

  /**
   * The team's members as the server lists them, each device with its fingerprint computed here and its state in
   * `trust` ('changed' when the server shows a known signing key with another key). The Share UI lists these.
   */
  async teamDevices(teamId: string, trust: DeviceTrust) {
    const out = [];
    for (const m of await this.members(teamId)) {
      for (const k of m.keys) {
        const sign = Buffer.from(k.signPublicKey, 'base64');
        const dh = Buffer.from(k.dhPublicKey, 'base64');
        const same = await trust.observe(sign, dh, { userId: m.userId, username: m.username });
        out.push({
          userId: m.userId,
          username: m.username,
          role: m.role,
          signPublicKey: k.signPublicKey,
          fingerprint: fingerprint(sign, dh),
          state: same ? trust.device(sign)!.state : ('changed' as const),
        });
      }
    }
    return out;
  }

  /**
   * Signs and uploads the next roster if the team changed: the members the server lists, each with the devices the
   * roster listed before plus the ones this device verified, with the keys trusted for them (never a key the server
   * swapped in), and the roles the roster had unless `roles` changes them (a new member: the role invited with).
   * This device must be admin or owner in the roster accepted before.
   */
  async publishRoster(teamId: string, me: DeviceIdentity, trust: DeviceTrust, roles: Record<string, RosterRole> = {}) {
    for (let attempt = 0; ; attempt++) {
      const prev = await this.syncRoster(teamId, trust);
      if (prev && !isAdmin(rosterEntry(prev, me.signPublicKey)?.member.role)) {
        throw new Error(
          `this device is not an admin in version ${prev.version} of the roster of team ${teamId}: ` +
            'an admin must sign a roster that lists it as admin first',
        );
      }
      const members: RosterMember[] = [];
      for (const m of await this.members(teamId)) {
        const before = prev?.members.find((x) => x.userId === m.userId);
        const devices = [];
        for (const k of m.keys) {
          const sign = Buffer.from(k.signPublicKey, 'base64');
          await trust.observe(sign, Buffer.from(k.dhPublicKey, 'base64'), { userId: m.userId, username: m.username });
          const listed = before?.devices.some((d) => d.signPublicKey.equals(sign));
          if (!listed && !trust.wrapsTo(sign)) continue;
          devices.push({ signPublicKey: sign, dhPublicKey: trust.trustedDhKey(sign)! });
        }
        const role = roles[m.userId] ?? before?.role ?? (m.role as RosterRole);
        members.push({ userId: m.userId, username: m.username, role, devices });
      }
      if (prev && sameMembers(prev.members, members)) return prev;
      // Above whatever the server holds, even a roster refused here: an operator's forgery must not block the next.
      const served = await this.roster(teamId).then(
        (r) => r.version,
        () => 0,
      );
      const next = signRoster(teamId, Math.max(prev?.version ?? 0, served) + 1, members, me);
      try {
        await this.putRoster(teamId, next.version, next.blob);
      } catch (e) {
        if (e instanceof SyncApiError && e.code === 'stale-roster' && attempt < 2) continue; // another admin was first
        throw e;
      }
      return trust.acceptRoster(teamId, next.blob);
    }
  }

  /** Devices of current members in the accepted roster that keys may be wrapped to under `policy`, with roster keys. */
  async recipients(teamId: string, trust: DeviceTrust, policy: WrapPolicy = 'verified', userId?: string) {
    const roster = trust.roster(teamId);
    if (!roster) throw new Error(`team ${teamId} has no accepted roster: an admin must publish one (publishRoster)`);
    const current = new Set((await this.members(teamId)).map((m) => m.userId));
    return roster.members
      .filter((m) => current.has(m.userId) && (userId === undefined || m.userId === userId))
      .flatMap((m) => m.devices)
      .filter((d) => trust.wrapsTo(d.signPublicKey, policy));
  }

  /**
   * Creates a room and uploads epoch 1 of its key, wrapped to the devices `policy` allows (verified by default).
   * Without `trust` the key is wrapped to this device alone: nobody else is trusted by default.
   */
  async createRoom(teamId: string, name: string, me: DeviceIdentity, trust?: DeviceTrust, policy?: WrapPolicy) {
    if (trust) await this.publishRoster(teamId, me, trust);
    const room = await this.createRoomRecord(teamId, name);
    const keyring = new RoomKeyring();
    await this.rotateRoomKey(room.id, teamId, me, keyring, trust, policy);
    return { room: { ...room, keyEpoch: keyring.current }, keyring };
  }

  /**
   * Generates the next epoch's key, wraps it to the devices of current members that `policy` allows (verified by
   * default) with the keys the signed roster lists for them, uploads it and adds it to `keyring`. Without `trust`
   * the key is wrapped to this device alone.
   */
  async rotateRoomKey(
    roomId: string,
    teamId: string,
    me: DeviceIdentity,
    keyring: RoomKeyring,
    trust?: DeviceTrust,
    policy: WrapPolicy = 'verified',
  ): Promise<number> {
    if (trust) await this.publishRoster(teamId, me, trust);
    const epoch = (await this.room(roomId)).keyEpoch + 1;
    const key = newRoomKey();
    const to: Recipient[] = trust ? await this.recipients(teamId, trust, policy) : [me];
    await this.uploadKeys(roomId, epoch, wrapsFor(roomId, epoch, key, to, me));
    keyring.set(epoch, key);
    return epoch;
  }

  /** Wraps every epoch in `keyring` to the devices of one member that `policy` allows (after they joined). */
  async grantRoomKeys(
    roomId: string,
    teamId: string,
    userId: string,
    me: DeviceIdentity,
    keyring: RoomKeyring,
    trust: DeviceTrust,
    policy: WrapPolicy = 'verified',
  ): Promise<void> {
    const roster = await this.publishRoster(teamId, me, trust);
    if (!roster.members.some((m) => m.userId === userId)) {
      throw new Error(`user ${userId} is not a member of team ${teamId}`);
    }
    const devices = await this.recipients(teamId, trust, policy, userId);
    for (const epoch of keyring.epochs()) {
      const key = keyring.get(epoch)!;
      if (devices.length) await this.uploadKeys(roomId, epoch, wrapsFor(roomId, epoch, key, devices, me));
    }
  }

  /**
   * Loads the room keys wrapped to this device, after refreshing the team's roster: a wrap opens only if an admin or
   * owner device of the roster that `trust` verified or pinned signed it; a refused one is a 'wrap-refused' warning.
   * A function instead of a DeviceTrust decides alone which signers to take keys from (tools and tests that check
   * the server on its own).
   */
  async loadKeyring(
    roomId: string,
    me: DeviceIdentity,
    trust: DeviceTrust | ((signer: Buffer) => boolean),
    into = new RoomKeyring(),
  ): Promise<RoomKeyring> {
    let accept = trust as (signer: Buffer) => boolean;
    let refused = (_epoch: number, _signer: Buffer | undefined, _why: string): void => undefined;
    if (typeof trust !== 'function') {
      const { teamId } = await this.room(roomId);
      const roster = await this.syncRoster(teamId, trust);
      const none = `team ${teamId} has no signed roster yet: an admin's client must publish one (publishRoster)`;
      accept = (signer) => trust.canWrap(teamId, signer);
      refused = (epoch, signer, why) => trust.wrapRefused(roomId, teamId, epoch, signer, roster ? why : none);
    }
    const mine = me.signPublicKey.toString('base64');
    for (const k of (await this.myKeys(roomId)).keys) {
      if (k.recipient !== mine || into.get(k.epoch)) continue;
      const wrapped = Buffer.from(k.wrapped, 'base64');
      try {
        into.set(k.epoch, unwrapRoomKey(roomId, k.epoch, wrapped, me, accept));
      } catch (e) {
        if (!(e instanceof OpenError)) throw e;
        refused(k.epoch, wrapped.length === 188 ? wrapped.subarray(92, 124) : undefined, e.message);
      }
    }
    return into;
  }

  /**
   * Removes a member and makes the removal hold for their devices: the server closes their sockets, a roster without
   * them is signed, and every room of the team gets a new key wrapped only to the remaining devices `policy` allows
   * (verified by default), so nothing written afterwards opens with a key they kept. `keyrings` (by room id) receive
   * the new keys; a provider using one of them picks its key up from the rotation notice in any case.
   * Clients that load the new roster no longer apply the member's updates, so compact the open rooms afterwards
   * (EncryptedProvider.compact): their past edits then reach later joiners inside a current member's snapshot.
   * Without an identity and trust it removes on the server only: the rooms then refuse writes until an admin rotates.
   */
  removeMember(teamId: string, userId: string): Promise<Removal>;
  removeMember(
    teamId: string,
    userId: string,
    me: DeviceIdentity,
    trust: DeviceTrust,
    o?: RemovalOptions,
  ): Promise<Removal>;
  async removeMember(teamId: string, userId: string, me?: DeviceIdentity, trust?: DeviceTrust, o: RemovalOptions = {}) {
    const path = `/v1/teams/${teamId}/members/${userId}`;
    const removal = await this.request<{ socketsClosed: number; rotationRequired: string[] }>('DELETE', path);
    if (!me || !trust) return { ...removal, rotated: [] };
    await this.publishRoster(teamId, me, trust);
    const rotated: Removal['rotated'] = [];
    for (const room of await this.teamRooms(teamId)) {
      const keyring = o.keyrings?.get(room.id) ?? new RoomKeyring();
      rotated.push({ roomId: room.id, epoch: await this.rotateRoomKey(room.id, teamId, me, keyring, trust, o.policy) });
    }
    return { ...removal, rotated };
  }

  /** Changes a member's role on the server and in the signed roster, which is what other clients go by. */
  async changeRole(teamId: string, userId: string, role: RosterRole, me: DeviceIdentity, trust: DeviceTrust) {
    await this.setRole(teamId, userId, role);
    return this.publishRoster(teamId, me, trust, { [userId]: role });
  }
}

const isAdmin = (role: RosterRole | undefined) => role === 'admin' || role === 'owner';

function wrapsFor(roomId: string, epoch: number, key: Buffer, to: Recipient[], me: DeviceIdentity) {
  return to.map((r) => ({ recipient: r.signPublicKey, wrapped: wrapRoomKey(roomId, epoch, key, r, me) }));
}

/** Whether two member lists hold the same members, roles and devices, in any order. */
function sameMembers(a: RosterMember[], b: RosterMember[]): boolean {
  const canonical = (list: RosterMember[]) =>
    JSON.stringify(
      list
        .map((m) => [m.userId, m.role, m.devices.map((d) => d.signPublicKey.toString('hex')).sort()] as const)
        .sort((x, y) => x[0].localeCompare(y[0])),
    );
  return canonical(a) === canonical(b);
}
