// Fan-out over Redis pub/sub (`--redis redis://...`). ioredis: the maintained client with automatic reconnects,
// re-subscription after them, and Buffer messages (frames are binary ciphertext, never decoded here).
//
// One channel per room (`kyozo-sync:room:<id>`, subscribed while the room has sockets on this instance) carries the
// frames the relay sends its own sockets: accepted updates once durable, awareness, and the new head after a snapshot.
// One control channel carries membership, role, token and key changes. Every message starts with the publishing
// instance's 16-byte id, so an instance drops its own. Redis delivers one connection's messages in order, so each
// room's updates reach the other instances in the order the publishing instance committed them.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ControlMessage, Fanout, FanoutHandlers } from './fanout';
import { redactUrl } from '../service-url';

const ROOM_PREFIX = 'kyozo-sync:room:';
const CONTROL = 'kyozo-sync:control';
const ID_BYTES = 16;

export class RedisFanout implements Fanout {
  readonly instanceId = randomUUID();
  private readonly id = Buffer.from(this.instanceId.replace(/-/g, ''), 'hex');
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly rooms = new Set<string>();
  private handlers: FanoutHandlers | null = null;
  private readyOnce = false;
  private lastError = ''; // ioredis rejects a failed connect() with "Connection is closed": the cause came before

  constructor(
    private readonly url: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    const opts = { lazyConnect: true, connectionName: `kyozo-sync-${this.instanceId.slice(0, 8)}` };
    this.pub = new Redis(url, opts);
    this.sub = new Redis(url, opts);
    for (const c of [this.pub, this.sub])
      c.on('error', (err: Error) => {
        this.lastError = err.message;
        if (this.readyOnce) this.onError(err.message);
      });
  }

  async start(handlers: FanoutHandlers): Promise<void> {
    this.handlers = handlers;
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
    } catch (err) {
      this.pub.disconnect();
      this.sub.disconnect();
      const why = this.lastError || (err as Error).message;
      throw new Error(`Redis ${redactUrl(this.url)}: ${why}: start Redis there, or fix --redis`, { cause: err });
    }
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    // After a reconnect ioredis subscribes again by itself, but whatever was published meanwhile is gone.
    this.sub.on('ready', () => {
      if (this.readyOnce) this.handlers?.gap();
    });
    await this.sub.subscribe(CONTROL);
    this.readyOnce = true;
  }

  private onMessage(channel: Buffer, message: Buffer): void {
    if (message.length < ID_BYTES || message.subarray(0, ID_BYTES).equals(this.id)) return;
    const name = channel.toString();
    const body = message.subarray(ID_BYTES);
    if (name === CONTROL) {
      let m: ControlMessage;
      try {
        m = JSON.parse(body.toString()) as ControlMessage;
      } catch {
        return this.onError('unreadable control message on the fan-out channel');
      }
      this.handlers?.control(m);
      return;
    }
    if (name.startsWith(ROOM_PREFIX)) this.handlers?.frame(name.slice(ROOM_PREFIX.length), body);
  }

  async joinRoom(roomId: string): Promise<void> {
    if (this.rooms.has(roomId)) return;
    this.rooms.add(roomId);
    await this.sub.subscribe(ROOM_PREFIX + roomId);
  }

  leaveRoom(roomId: string): void {
    if (!this.rooms.delete(roomId)) return;
    this.sub.unsubscribe(ROOM_PREFIX + roomId).catch((err: Error) => this.onError(err.message));
  }

  publish(roomId: string, frame: Buffer): void {
    this.pub
      .publish(ROOM_PREFIX + roomId, Buffer.concat([this.id, frame]))
      .catch((err: Error) => this.onError(err.message));
  }

  publishControl(message: ControlMessage): void {
    this.pub
      .publish(CONTROL, Buffer.concat([this.id, Buffer.from(JSON.stringify(message))]))
      .catch((err: Error) => this.onError(err.message));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
