// What this device trusts, and the decisions made with it: whose key wraps open, whose updates, snapshots and
// presence are applied, whom room keys are wrapped to. Nothing here believes the server: a device is trusted because
// the user verified its fingerprint, because it was pinned on first use (with a warning), or because a roster signed
// by such a device lists it (team-roster.ts explains the roster).
//
// States: 'verified' (the user compared the fingerprint out of band), 'pinned' (trusted on first use, or listed by a
// signed roster this device accepted), 'unverified' (seen in the server's member list only, or unverified by the user).
// - A key wrap is opened only if its signer is admin or owner in the team's accepted roster and verified or pinned.
// - Room keys are wrapped only to verified devices unless the caller also allows pinned ones.
// - Updates and snapshots are applied only from devices the roster gives a writing role; presence from any member.
// - A known signing key shown with another X25519 key (another fingerprint) is refused, never updated silently.
// Every decision that needs the user's attention is a 'warning' event; 'changed' says the device list changed.
import { EventEmitter } from 'node:events';
import { fingerprint, type DeviceIdentity } from './identity';
import {
  ROSTER_ROLE_RANK,
  RosterError,
  openRoster,
  rosterEntry,
  type RosterRole,
  type TeamRoster,
} from './team-roster';
import { TrustStoreError, type StoredDevice, type TrustState, type TrustStore } from './trust-store';

export interface KnownDevice {
  signPublicKey: string; // base64
  dhPublicKey: string; // base64
  fingerprint: string;
  state: TrustState;
  userId?: string;
  username?: string;
  firstSeen: number;
  /** This device itself. */
  own: boolean;
  /** The role of the device's member in every team whose accepted roster lists it. */
  teams: { teamId: string; role: RosterRole }[];
}

export interface TrustWarning {
  kind: 'pinned-on-first-use' | 'fingerprint-changed' | 'roster-refused' | 'wrap-refused';
  message: string;
  teamId?: string;
  roomId?: string;
  epoch?: number;
  reason?: string;
  /** The device concerned; for fingerprint-changed, the fingerprint trusted before. */
  fingerprint?: string;
  /** fingerprint-changed: the fingerprint now shown for the same signing key. */
  seenFingerprint?: string;
}

/** The two questions a provider asks about a frame's sender (see EncryptedProvider). */
export interface RoomTrust {
  /** A device of a member whose role may write (member, admin, owner) in the team's signed roster. */
  canWrite(sender: Buffer): boolean;
  /** A device of any member in the team's signed roster, viewers included. */
  isMember(sender: Buffer): boolean;
}

/** Whom room keys are wrapped to: verified devices only (the default), or pinned ones as well. */
export type WrapPolicy = 'verified' | 'trusted';

type DeviceRecord = StoredDevice;

const b64 = (b: Buffer) => b.toString('base64');
const isAdmin = (role: RosterRole | undefined) => role === 'admin' || role === 'owner';
const fingerprintOf = (d: StoredDevice) =>
  fingerprint(Buffer.from(d.signPublicKey, 'base64'), Buffer.from(d.dhPublicKey, 'base64'));

export class DeviceTrust extends EventEmitter {
  private readonly known = new Map<string, DeviceRecord>(); // by signing key, base64
  private readonly rosters = new Map<string, TeamRoster>();
  private readonly warnedWraps = new Set<string>();
  private saving: Promise<void> = Promise.resolve();
  private readonly own: string;

  private constructor(
    private readonly store: TrustStore,
    readonly identity: DeviceIdentity,
  ) {
    super();
    this.own = b64(identity.signPublicKey);
  }

  /** Loads what `store` holds; this device's own key is always verified. */
  static async open(store: TrustStore, identity: DeviceIdentity): Promise<DeviceTrust> {
    const t = new DeviceTrust(store, identity);
    const snap = await store.load();
    const key32 = (k: unknown) => typeof k === 'string' && Buffer.from(k, 'base64').length === 32;
    for (const d of snap?.devices ?? []) {
      const ok = typeof d === 'object' && d !== null && key32(d.signPublicKey) && key32(d.dhPublicKey);
      if (!ok || !['verified', 'pinned', 'unverified'].includes(d.state)) {
        const entry = JSON.stringify(d).slice(0, 120);
        throw new TrustStoreError(`the trust store holds a malformed device entry (${entry}): restore it or remove it`);
      }
      t.known.set(d.signPublicKey, { ...d });
    }
    for (const r of snap?.rosters ?? []) {
      try {
        if (typeof r?.teamId !== 'string' || typeof r.blob !== 'string') throw new Error('not { teamId, blob }');
        t.rosters.set(r.teamId, openRoster(Buffer.from(r.blob, 'base64'), r.teamId));
      } catch (e) {
        const why = (e as Error).message;
        throw new TrustStoreError(`the trust store holds a roster of team ${r?.teamId} that does not verify: ${why}`);
      }
    }
    t.known.set(t.own, {
      signPublicKey: t.own,
      dhPublicKey: b64(identity.dhPublicKey),
      state: 'verified',
      firstSeen: t.known.get(t.own)?.firstSeen ?? Date.now(),
      userId: t.known.get(t.own)?.userId,
      username: t.known.get(t.own)?.username,
    });
    return t;
  }

  // ---- what the Share UI shows and manages ----

  /** Every device this device knows of, with its fingerprint, state and roles. */
  devices(): KnownDevice[] {
    return [...this.known.values()].map((d) => this.describe(d));
  }

  /** A known device by fingerprint or signing key. */
  device(ref: string | Buffer): KnownDevice | undefined {
    const d = this.find(ref);
    return d && this.describe(d);
  }

  /** The user compared this fingerprint out of band: keys may be wrapped to the device, and its wraps opened. */
  verify(fingerprintOrKey: string | Buffer): Promise<KnownDevice> {
    return this.setState(fingerprintOrKey, 'verified');
  }

  /** Trusts the device without a comparison (as on first use): its wraps open; keys go to it only if allowed. */
  pin(fingerprintOrKey: string | Buffer): Promise<KnownDevice> {
    return this.setState(fingerprintOrKey, 'pinned');
  }

  /** Withdraws trust: no key is wrapped to the device or taken from it, and no roster re-pins it. */
  unverify(fingerprintOrKey: string | Buffer): Promise<KnownDevice> {
    return this.setState(fingerprintOrKey, 'unverified');
  }

  /** Resolves once every change so far is saved in the trust store. */
  flushed(): Promise<void> {
    return this.saving;
  }

  /**
   * Records a device the server lists (for the Share UI to offer it for verification). Returns false, with a
   * 'fingerprint-changed' warning, when the device's signing key is known with another X25519 key.
   */
  async observe(signPublicKey: Buffer, dhPublicKey: Buffer, who: { userId?: string; username?: string } = {}) {
    const d = this.known.get(b64(signPublicKey));
    if (d) {
      if (d.dhPublicKey !== b64(dhPublicKey)) {
        this.fingerprintChanged(d, dhPublicKey);
        return false;
      }
      if (who.userId && !d.userId) {
        Object.assign(d, who);
        await this.save();
      }
      return true;
    }
    this.known.set(b64(signPublicKey), {
      signPublicKey: b64(signPublicKey),
      dhPublicKey: b64(dhPublicKey),
      state: 'unverified',
      firstSeen: Date.now(),
      ...who,
    });
    await this.save();
    this.emit('changed');
    return true;
  }

  // ---- rosters ----

  roster(teamId: string): TeamRoster | undefined {
    return this.rosters.get(teamId);
  }

  /**
   * Accepts a roster the server served for `teamId` if its signature, signer, version and device keys hold (see
   * team-roster.ts), and remembers it; otherwise warns, keeps the roster accepted before, and throws a RosterError.
   */
  async acceptRoster(teamId: string, blob: Buffer): Promise<TeamRoster> {
    const prev = this.rosters.get(teamId);
    let next: TeamRoster;
    try {
      next = openRoster(blob, teamId);
      if (prev && next.version === prev.version && next.blob.equals(prev.blob)) return prev;
      this.checkSuccessor(teamId, prev, next);
    } catch (e) {
      if (e instanceof RosterError) this.warn({ kind: 'roster-refused', teamId, reason: e.reason, message: e.message });
      throw e;
    }
    const signer = this.known.get(b64(next.signer));
    if (!prev && signer?.state !== 'verified' && next.signer.toString('base64') !== this.own) {
      const { member } = rosterEntry(next, next.signer)!;
      const fp = fingerprint(next.signer, rosterEntry(next, next.signer)!.device.dhPublicKey);
      this.warn({
        kind: 'pinned-on-first-use',
        teamId,
        fingerprint: fp,
        message:
          `first roster of team ${teamId}: trusting its signer, ${member.username} (${member.role}), on first ` +
          `use; compare the fingerprint ${fp} with them out of band and verify it`,
      });
    }
    this.rosters.set(teamId, next);
    for (const m of next.members) {
      for (const dev of m.devices) {
        const d = this.known.get(b64(dev.signPublicKey));
        if (!d) {
          this.known.set(b64(dev.signPublicKey), {
            signPublicKey: b64(dev.signPublicKey),
            dhPublicKey: b64(dev.dhPublicKey),
            state: 'pinned',
            userId: m.userId,
            username: m.username,
            firstSeen: Date.now(),
          });
        } else {
          if (d.state === 'unverified' && !d.revoked) d.state = 'pinned';
          d.userId ??= m.userId;
          d.username ??= m.username;
        }
      }
    }
    await this.save();
    this.emit('changed');
    return next;
  }

  /** The server no longer serves a roster for a team that had one: the one accepted before stays in force. */
  rosterMissing(teamId: string): void {
    const prev = this.rosters.get(teamId);
    if (!prev) return;
    this.warn({
      kind: 'roster-refused',
      teamId,
      reason: 'missing',
      message: `the server has no roster for team ${teamId}, where version ${prev.version} was accepted: keeping it`,
    });
  }

  private checkSuccessor(teamId: string, prev: TeamRoster | undefined, next: TeamRoster): void {
    if (prev && next.version < prev.version) {
      throw new RosterError(
        'rollback',
        `the server served version ${next.version} of the roster of team ${teamId}, ` +
          `older than version ${prev.version} accepted before: refused, keeping version ${prev.version}`,
      );
    }
    if (prev && next.version === prev.version) {
      throw new RosterError(
        'fork',
        `the server served another roster under version ${next.version} of team ${teamId}: ` +
          `refused, keeping the one accepted before`,
      );
    }
    const entry = rosterEntry(next, next.signer);
    if (!entry || !isAdmin(entry.member.role)) {
      throw new RosterError(
        'untrusted-signer',
        `roster version ${next.version} of team ${teamId} is signed by a ` +
          'device it does not list as admin or owner: refused',
      );
    }
    const signer = this.known.get(b64(next.signer));
    const wasAdmin = prev && isAdmin(rosterEntry(prev, next.signer)?.member.role);
    if (signer?.revoked || (prev && !wasAdmin && signer?.state !== 'verified')) {
      throw new RosterError(
        'untrusted-signer',
        `roster version ${next.version} of team ${teamId} is signed by ` +
          `${fingerprint(next.signer, entry.device.dhPublicKey)}, which was not an admin in version ${prev?.version} ` +
          `nor verified by you: refused; verify that device if you trust it`,
      );
    }
    for (const m of next.members) {
      for (const dev of m.devices) {
        const d = this.known.get(b64(dev.signPublicKey));
        if (d && d.dhPublicKey !== b64(dev.dhPublicKey)) {
          this.fingerprintChanged(d, dev.dhPublicKey, teamId);
          throw new RosterError(
            'fingerprint-changed',
            `roster version ${next.version} of team ${teamId} shows ` +
              `device ${fingerprintOf(d)} with another key: refused`,
          );
        }
      }
    }
  }

  // ---- decisions ----

  /** The role the accepted roster of `teamId` gives the device with signing key `signPublicKey`. */
  roleOf(teamId: string, signPublicKey: Buffer): RosterRole | undefined {
    const roster = this.rosters.get(teamId);
    return roster && rosterEntry(roster, signPublicKey)?.member.role;
  }

  /** Whether a key wrap signed by `signer` may be opened: an admin or owner device, verified or pinned. */
  canWrap(teamId: string, signer: Buffer): boolean {
    const role = this.roleOf(teamId, signer);
    const state = this.known.get(b64(signer))?.state;
    return isAdmin(role) && (state === 'verified' || state === 'pinned');
  }

  canWrite(teamId: string, sender: Buffer): boolean {
    const role = this.roleOf(teamId, sender);
    return role !== undefined && ROSTER_ROLE_RANK[role] >= ROSTER_ROLE_RANK.member;
  }

  isMember(teamId: string, sender: Buffer): boolean {
    return this.roleOf(teamId, sender) !== undefined;
  }

  forTeam(teamId: string): RoomTrust {
    return { canWrite: (s) => this.canWrite(teamId, s), isMember: (s) => this.isMember(teamId, s) };
  }

  /** Whether room keys may be wrapped to the device under `policy`; this device itself always qualifies. */
  wrapsTo(signPublicKey: Buffer, policy: WrapPolicy = 'verified'): boolean {
    const state = this.known.get(b64(signPublicKey))?.state;
    return state === 'verified' || (policy === 'trusted' && state === 'pinned');
  }

  /** The X25519 key trusted for a device (the one its fingerprint was verified or pinned with). */
  trustedDhKey(signPublicKey: Buffer): Buffer | undefined {
    const d = this.known.get(b64(signPublicKey));
    return d && Buffer.from(d.dhPublicKey, 'base64');
  }

  /** A key wrap of `roomId` could not be used: warns once per room, epoch and signer. */
  wrapRefused(roomId: string, teamId: string, epoch: number, signer: Buffer | undefined, why: string): void {
    const id = `${roomId}|${epoch}|${signer ? b64(signer) : ''}`;
    if (this.warnedWraps.has(id)) return;
    this.warnedWraps.add(id);
    const d = signer && this.known.get(b64(signer));
    this.warn({
      kind: 'wrap-refused',
      roomId,
      teamId,
      epoch,
      reason: why,
      fingerprint: d ? fingerprint(signer!, Buffer.from(d.dhPublicKey, 'base64')) : undefined,
      message: `the room key of epoch ${epoch} for room ${roomId} was refused: ${why}`,
    });
  }

  // ---- internals ----

  private find(ref: string | Buffer): DeviceRecord | undefined {
    if (Buffer.isBuffer(ref)) return this.known.get(b64(ref));
    const wanted = ref
      .trim()
      .toLowerCase()
      .replace(/[^0-9a-f]/g, '');
    if (wanted.length !== 64) return this.known.get(ref);
    for (const d of this.known.values()) if (fingerprintOf(d).replace(/ /g, '') === wanted) return d;
    return undefined;
  }

  private async setState(ref: string | Buffer, state: TrustState): Promise<KnownDevice> {
    const d = this.find(ref);
    if (!d) {
      throw new Error(
        `no known device has the fingerprint or key ${String(Buffer.isBuffer(ref) ? b64(ref) : ref)}: ` +
          "list the team's devices first (SyncApi.teamDevices) so the device is known, then try again",
      );
    }
    if (d.signPublicKey === this.own && state !== 'verified') throw new Error('this device trusts its own key always');
    d.state = state;
    d.revoked = state === 'unverified';
    await this.save();
    this.emit('changed');
    return this.describe(d);
  }

  private describe(d: DeviceRecord): KnownDevice {
    const sign = Buffer.from(d.signPublicKey, 'base64');
    const teams: KnownDevice['teams'] = [];
    for (const [teamId, r] of this.rosters) {
      const e = rosterEntry(r, sign);
      if (e) teams.push({ teamId, role: e.member.role });
    }
    return {
      signPublicKey: d.signPublicKey,
      dhPublicKey: d.dhPublicKey,
      fingerprint: fingerprintOf(d),
      state: d.state,
      userId: d.userId,
      username: d.username,
      firstSeen: d.firstSeen,
      own: d.signPublicKey === this.own,
      teams,
    };
  }

  private fingerprintChanged(d: DeviceRecord, dh: Buffer, teamId?: string): void {
    const before = fingerprintOf(d);
    const now = fingerprint(Buffer.from(d.signPublicKey, 'base64'), dh);
    this.warn({
      kind: 'fingerprint-changed',
      teamId,
      fingerprint: before,
      seenFingerprint: now,
      message:
        `the device of ${d.username ?? d.userId ?? 'an unknown member'} trusted as ${before} is now shown as ` +
        `${now}: refused, no key is wrapped to the new key; ask them out of band whether they replaced the device`,
    });
  }

  private warn(w: TrustWarning): void {
    this.emit('warning', w);
  }

  private save(): Promise<void> {
    const snapshot = {
      format: 1 as const,
      devices: [...this.known.values()].map((d) => ({ ...d })),
      rosters: [...this.rosters.values()].map((r) => ({ teamId: r.teamId, blob: r.blob.toString('base64') })),
    };
    this.saving = this.saving.catch(() => undefined).then(() => this.store.save(snapshot));
    return this.saving;
  }
}
