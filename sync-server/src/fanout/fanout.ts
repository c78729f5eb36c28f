// Fan-out between sync server instances serving the same rooms (several processes on one PostgreSQL database): what
// one instance accepts or learns must reach the sockets the others hold. A single instance has no fan-out; its relay
// reaches every socket itself. The Redis implementation is redis-fanout.ts.
import type { Role } from '../store/store';

/** Changes made through one instance's HTTP API that the relays of all instances act on. */
export type ControlMessage =
  | { type: 'member-removed'; teamId: string; userId: string }
  | { type: 'role-changed'; teamId: string; userId: string; role: Role }
  | { type: 'rotation-required'; teamId: string }
  | { type: 'token-revoked'; hash: string }
  | { type: 'keys-rotated'; roomId: string; epoch: number };

export interface FanoutHandlers {
  /** A frame (update, awareness or head) another instance published for a room this one has joined. */
  frame(roomId: string, frame: Buffer): void;
  control(message: ControlMessage): void;
  /** Messages may have been missed (the connection to the broker dropped and came back). */
  gap(): void;
}

export interface Fanout {
  /** This instance's name among its peers; its own messages come back to it and are dropped by this id. */
  readonly instanceId: string;
  start(handlers: FanoutHandlers): Promise<void>;
  /** From when this resolves, frames published for the room reach `frame`. */
  joinRoom(roomId: string): Promise<void>;
  leaveRoom(roomId: string): void;
  publish(roomId: string, frame: Buffer): void;
  publishControl(message: ControlMessage): void;
  close(): Promise<void>;
}
