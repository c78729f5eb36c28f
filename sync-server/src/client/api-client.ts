// A typed client for the sync server's HTTP API plus the key-management flows built on it (register a device,
// create a room with its first key, rotate after a removal, grant keys to a new member, load my keyring).
import { fingerprint, type DeviceIdentity } from './identity';
import { RoomKeyring, newRoomKey, unwrapRoomKey, wrapRoomKey, type Recipient } from './room-crypto';

export class SyncApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface MemberInfo {
  teamId: string; userId: string; username: string; role: string;
  keys: { signPublicKey: string; dhPublicKey: string; fingerprint: string }[];
}
export interface RoomInfo { id: string; teamId: string; name: string; keyEpoch: number; head: number; rotationRequired: boolean }

export class SyncApi {
  constructor(readonly baseUrl: string, public token?: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok) throw new SyncApiError(res.status, json.error?.code ?? 'http', `${method} ${path} failed (${res.status}): ${json.error?.message ?? 'no error body'}`);
    return json as T;
  }

  createAccount(username: string, password: string) { return this.request<{ id: string; username: string }>('POST', '/v1/accounts', { username, password }); }
  async login(username: string, password: string) {
    const r = await this.request<{ token: string; userId: string }>('POST', '/v1/tokens', { username, password });
    this.token = r.token;
    return r;
  }
  registerDevice(id: DeviceIdentity) {
    return this.request<{ fingerprint: string }>('PUT', '/v1/me/keys', { signPublicKey: id.signPublicKey.toString('base64'), dhPublicKey: id.dhPublicKey.toString('base64') });
  }
  me() { return this.request<{ id: string; username: string }>('GET', '/v1/me'); }
  createTeam(name: string) { return this.request<{ id: string }>('POST', '/v1/teams', { name }); }
  members(teamId: string) { return this.request<MemberInfo[]>('GET', `/v1/teams/${teamId}/members`); }
  setRole(teamId: string, userId: string, role: string) { return this.request('PATCH', `/v1/teams/${teamId}/members/${userId}`, { role }); }
  removeMember(teamId: string, userId: string) { return this.request<{ socketsClosed: number; rotationRequired: string[] }>('DELETE', `/v1/teams/${teamId}/members/${userId}`); }
  invite(teamId: string, role = 'member', ttlSeconds?: number) { return this.request<{ invite: string; expiresAt: number }>('POST', `/v1/teams/${teamId}/invites`, { role, ttlSeconds }); }
  acceptInvite(invite: string) { return this.request<{ teamId: string; role: string }>('POST', '/v1/invites/accept', { invite }); }
  createRoomRecord(teamId: string, name: string) { return this.request<RoomInfo>('POST', `/v1/teams/${teamId}/rooms`, { name }); }
  room(roomId: string) { return this.request<RoomInfo>('GET', `/v1/rooms/${roomId}`); }
  uploadKeys(roomId: string, epoch: number, wraps: { recipient: Buffer; wrapped: Buffer }[]) {
    return this.request<{ epoch: number }>('POST', `/v1/rooms/${roomId}/keys`, { epoch, wraps: wraps.map((w) => ({ recipient: w.recipient.toString('base64'), wrapped: w.wrapped.toString('base64') })) });
  }
  myKeys(roomId: string) { return this.request<{ epoch: number; keys: { epoch: number; recipient: string; wrapped: string }[] }>('GET', `/v1/rooms/${roomId}/keys`); }

  // ---- key management flows ----

  /** Every device of every current member, optionally restricted to fingerprints the caller verified. */
  async recipients(teamId: string, allowFingerprints?: Set<string>): Promise<Recipient[]> {
    const out: Recipient[] = [];
    for (const m of await this.members(teamId)) {
      for (const k of m.keys) {
        const r = { signPublicKey: Buffer.from(k.signPublicKey, 'base64'), dhPublicKey: Buffer.from(k.dhPublicKey, 'base64') };
        // Recompute rather than trust the server's fingerprint field.
        if (allowFingerprints && !allowFingerprints.has(fingerprint(r.signPublicKey, r.dhPublicKey))) continue;
        out.push(r);
      }
    }
    return out;
  }

  /** Creates a room and uploads epoch 1 of its key wrapped to every member device. */
  async createRoom(teamId: string, name: string, me: DeviceIdentity, allowFingerprints?: Set<string>): Promise<{ room: RoomInfo; keyring: RoomKeyring }> {
    const room = await this.createRoomRecord(teamId, name);
    const keyring = new RoomKeyring();
    await this.rotateRoomKey(room.id, teamId, me, keyring, allowFingerprints);
    return { room: { ...room, keyEpoch: keyring.current }, keyring };
  }

  /** Generates the next epoch's key, wraps it to current members only, uploads it and adds it to `keyring`. */
  async rotateRoomKey(roomId: string, teamId: string, me: DeviceIdentity, keyring: RoomKeyring, allowFingerprints?: Set<string>): Promise<number> {
    const room = await this.room(roomId);
    const epoch = room.keyEpoch + 1;
    const key = newRoomKey();
    const wraps = (await this.recipients(teamId, allowFingerprints)).map((r) => ({ recipient: r.signPublicKey, wrapped: wrapRoomKey(roomId, epoch, key, r, me) }));
    await this.uploadKeys(roomId, epoch, wraps);
    keyring.set(epoch, key);
    return epoch;
  }

  /** Wraps every epoch in `keyring` to the devices of one member (for example after they accepted an invite). */
  async grantRoomKeys(roomId: string, teamId: string, userId: string, me: DeviceIdentity, keyring: RoomKeyring): Promise<void> {
    const member = (await this.members(teamId)).find((m) => m.userId === userId);
    if (!member) throw new Error(`user ${userId} is not a member of team ${teamId}`);
    for (const epoch of keyring.epochs()) {
      const wraps = member.keys.map((k) => {
        const r = { signPublicKey: Buffer.from(k.signPublicKey, 'base64'), dhPublicKey: Buffer.from(k.dhPublicKey, 'base64') };
        return { recipient: r.signPublicKey, wrapped: wrapRoomKey(roomId, epoch, keyring.get(epoch)!, r, me) };
      });
      if (wraps.length) await this.uploadKeys(roomId, epoch, wraps);
    }
  }

  /**
   * Loads the room keys wrapped to this device. `trust` decides which wrapping devices may hand out keys; pass a
   * check against fingerprints you compared out of band. Wraps that fail verification are skipped.
   */
  async loadKeyring(roomId: string, me: DeviceIdentity, trust: (wrapperSignPub: Buffer) => boolean = () => true, into = new RoomKeyring()): Promise<RoomKeyring> {
    const mine = me.signPublicKey.toString('base64');
    const r = await this.myKeys(roomId);
    for (const k of r.keys) {
      if (k.recipient !== mine || into.get(k.epoch)) continue;
      try { into.set(k.epoch, unwrapRoomKey(roomId, k.epoch, Buffer.from(k.wrapped, 'base64'), me, trust)); } catch { /* unusable wrap: skipped */ }
    }
    return into;
  }
}
