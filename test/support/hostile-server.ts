// What the operator of a sync server can do to its clients, for the tests that check the client library does not
// trust the server: edit the server's SQLite database directly (insert key wraps, log rows, snapshots and rosters
// the relay would never have accepted, swap a device's public key), and run a tiny WebSocket server that speaks the
// wire protocol to a real client, to deliver frames the real relay refuses to relay.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameKind, decodeAuth, encodeJsonFrame, readDataHeader, type HelloBody } from '../../sync-server/src/wire';
import { waitFor } from './sync-harness';

/** Direct access to a running server's database, as its operator has. */
export class OperatorDb {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'sync.db'));
    this.db.pragma('busy_timeout = 10000');
  }

  /** Adds (or replaces) a wrapped room key, as if an admin had uploaded it. */
  putWrap(roomId: string, epoch: number, recipient: Buffer, wrapped: Buffer): void {
    this.db
      .prepare('INSERT OR REPLACE INTO room_keys (room_id, epoch, recipient, wrapped) VALUES (?, ?, ?, ?)')
      .run(roomId, epoch, recipient, wrapped);
  }

  setRoomEpoch(roomId: string, epoch: number): void {
    this.db.prepare('UPDATE rooms SET key_epoch = ? WHERE id = ?').run(epoch, roomId);
  }

  /** Appends a sealed update frame to a room's log, as if the relay had accepted it. */
  appendUpdate(roomId: string, frame: Buffer): void {
    const h = readDataHeader(frame);
    this.db.prepare('INSERT OR IGNORE INTO room_numbers (room_id) VALUES (?)').run(roomId);
    const room = '(SELECT no FROM room_numbers WHERE room_id = ?)';
    this.db
      .prepare(`INSERT INTO log (room, sender, clock, frame) VALUES (${room}, ?, ?, ?)`)
      .run(roomId, h.sender, h.clock, frame);
  }

  /** Replaces a room's snapshot (its log stays as it is). */
  putSnapshot(roomId: string, head: number, frame: Buffer): void {
    this.db
      .prepare('INSERT OR REPLACE INTO snapshots (room_id, head, frame) VALUES (?, ?, ?)')
      .run(roomId, head, frame);
    this.db.prepare('UPDATE rooms SET head = ? WHERE id = ?').run(head, roomId);
  }

  /** Registers another X25519 key under an existing device signing key. */
  swapDeviceDh(signPublicKey: Buffer, dhPublicKey: Buffer): void {
    this.db.prepare('UPDATE device_keys SET dh_pub = ? WHERE sign_pub = ?').run(dhPublicKey, signPublicKey);
  }

  roster(teamId: string): { version: number; blob: Buffer } | undefined {
    return this.db.prepare('SELECT version, blob FROM team_rosters WHERE team_id = ?').get(teamId) as
      { version: number; blob: Buffer } | undefined;
  }

  /** Serves `blob` as the team's roster, whatever version was stored before. */
  setRoster(teamId: string, version: number, blob: Buffer): void {
    this.db
      .prepare('INSERT OR REPLACE INTO team_rosters (team_id, version, blob) VALUES (?, ?, ?)')
      .run(teamId, version, blob);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Waits until the server holds no authenticated socket, so the relay has dropped its in-memory room state and the
 * next join reads the room (epoch, head, clocks) back from the database the operator edited.
 */
export async function untilIdle(server: { url: string }): Promise<void> {
  let connections = -1;
  const read = async () => {
    connections = ((await (await fetch(`${server.url}/healthz`)).json()) as { connections: number }).connections;
  };
  await read();
  const deadline = Date.now() + 5000;
  while (connections !== 0) {
    if (Date.now() > deadline) throw new Error(`the server still holds ${connections} sockets after 5 s`);
    await new Promise((r) => setTimeout(r, 20));
    await read();
  }
}

/** One client socket on the hostile relay: what it sent, and a way to send it anything. */
export interface HostileConnection {
  ws: WebSocket;
  /** The device key the client authenticated with. */
  sender: Buffer;
  received: Buffer[];
  send(frame: Buffer): void;
  hello(body: Partial<HelloBody> & { room: string }): void;
}

/** A WebSocket server that authenticates nobody and relays nothing: the test decides every frame a client gets. */
export async function startHostileRelay() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const connections: HostileConnection[] = [];
  wss.on('connection', (ws) => {
    const conn: HostileConnection = {
      ws,
      sender: Buffer.alloc(0),
      received: [],
      send: (frame) => ws.send(frame),
      hello: (body) =>
        ws.send(
          encodeJsonFrame(FrameKind.Hello, {
            role: 'member',
            lastClock: 0,
            epoch: 1,
            head: 0,
            trailing: 0,
            ...body,
          } satisfies HelloBody),
        ),
    };
    ws.on('message', (data: Buffer) => {
      if (data[0] === FrameKind.Auth && conn.sender.length === 0) {
        conn.sender = Buffer.from(decodeAuth(data).signPublicKey);
        connections.push(conn);
      } else conn.received.push(data);
    });
    ws.send(Buffer.concat([Buffer.from([FrameKind.Challenge]), randomBytes(32)]));
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    connections,
    /** The next client to authenticate (after `count` earlier ones). */
    async connection(count = connections.length): Promise<HostileConnection> {
      await waitFor(() => connections.length > count, 'a client to authenticate on the hostile relay');
      return connections[count];
    },
    async close() {
      for (const c of connections) c.ws.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}
