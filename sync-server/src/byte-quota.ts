// Byte quotas: how much one room, and one user's devices across all rooms, may hold in the store, so a member cannot
// fill the server's disk (with garbage every client refuses, or with anything else). Counted in memory: every sender's
// update bytes from one scan of the log at start, and a room's own bytes (log and snapshot) when it is loaded; kept
// current as updates are accepted, and recounted from the database after a snapshot drops the updates it covers. An
// update counts from its acceptance, not its commit, so a burst cannot pass a quota while it waits to be durable.
// A snapshot counts toward its room only: it replaces what it covers, written by every member.
import type { SyncStore } from './store/store';

export class RoomBytes {
  pending = 0; // accepted, not yet durable
  constructor(
    public durable: number,
    public bySender: Map<string, number>,
  ) {} // bySender: durable update bytes
  get total(): number {
    return this.durable + this.pending;
  }
}

export class ByteQuota {
  private constructor(
    private readonly store: SyncStore,
    readonly roomLimit: number,
    readonly userLimit: number,
    private readonly bySender: Map<string, number>, // every sender's update bytes in every room, accepted ones included
  ) {}

  static async load(store: SyncStore, roomLimit: number, userLimit: number): Promise<ByteQuota> {
    return new ByteQuota(store, roomLimit, userLimit, await store.logBytesBySender());
  }

  async room(roomId: string): Promise<RoomBytes> {
    const [total, bySender] = await Promise.all([this.store.storedBytes(roomId), this.store.logBytesBySender(roomId)]);
    return new RoomBytes(total, bySender);
  }

  /** Why `bytes` more from a device of a user (whose devices are `userSenders`, hex) must be refused, or null. */
  refusal(roomId: string, room: RoomBytes, userSenders: readonly string[], bytes: number): string | null {
    if (room.total + bytes > this.roomLimit) {
      return (
        `room ${roomId} holds ${room.total} bytes of its ${this.roomLimit}-byte quota and this update is ` +
        `${bytes}: a member's client compacts it by uploading a snapshot, or the operator raises --room-quota-bytes`
      );
    }
    let user = 0;
    for (const s of userSenders) user += this.bySender.get(s) ?? 0;
    if (user + bytes > this.userLimit) {
      return (
        `your updates hold ${user} bytes across all rooms, of your ${this.userLimit}-byte quota, and this one is ` +
        `${bytes}: compacting the rooms you write to frees it, or the operator raises --user-quota-bytes`
      );
    }
    return null;
  }

  snapshotRefusal(roomId: string, bytes: number): string | null {
    if (bytes <= this.roomLimit) return null;
    return (
      `a snapshot of ${bytes} bytes is larger than room ${roomId}'s ${this.roomLimit}-byte quota: ` +
      'the operator raises --room-quota-bytes'
    );
  }

  accepted(room: RoomBytes, sender: string, bytes: number): void {
    room.pending += bytes;
    this.add(sender, bytes);
  }

  durable(room: RoomBytes, sender: string, bytes: number): void {
    room.pending -= bytes;
    room.durable += bytes;
    room.bySender.set(sender, (room.bySender.get(sender) ?? 0) + bytes);
  }

  /** An accepted update that was not stored (the commit failed): it no longer counts for its sender. */
  lost(sender: string, bytes: number): void {
    this.add(sender, -bytes);
  }

  /**
   * After a snapshot is durable: the room's bytes and its senders' shares as the database has them. Call it once
   * every write committed with the snapshot has been counted durable, or those would count twice.
   */
  async recount(roomId: string, room: RoomBytes): Promise<void> {
    const fresh = await this.room(roomId);
    for (const [s, n] of room.bySender) this.add(s, -n);
    for (const [s, n] of fresh.bySender) this.add(s, n);
    room.durable = fresh.durable;
    room.bySender = fresh.bySender;
  }

  private add(sender: string, delta: number): void {
    const n = (this.bySender.get(sender) ?? 0) + delta;
    if (n > 0) this.bySender.set(sender, n);
    else this.bySender.delete(sender);
  }
}
