// Joining a room's encrypted Yjs document, the same way for the host that shares a folder and the guest that opens it.
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { EncryptedProvider, type RoomKeyring } from '../../../sync-server/src/client';
import type { ShareSession } from './share-account';
import { ShareError } from './share-errors';
import { websocketUrl } from './share-link';

export interface RoomConnection {
  doc: Y.Doc;
  awareness: Awareness;
  provider: EncryptedProvider;
}

const SYNC_TIMEOUT_MS = 15_000;

// Features that are handed only a room's document (presence, through share-rooms.ts) find its awareness here.
const connections = new WeakMap<Y.Doc, RoomConnection & { teamId: string }>();

/** The awareness, provider and team of a room's document that connectRoom made, or undefined. */
export function connectionOf(doc: Y.Doc): (RoomConnection & { teamId: string }) | undefined {
  return connections.get(doc);
}

/** Connects to a room with the keys this device holds and waits until its document has synced (15 s at most). */
export async function connectRoom(
  session: ShareSession,
  room: { roomId: string; teamId: string; keyring: RoomKeyring },
  role: 'host' | 'guest',
): Promise<RoomConnection> {
  const { roomId, teamId, keyring } = room;
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  awareness.setLocalState({ user: { name: session.username }, role });
  const provider = new EncryptedProvider(doc, {
    url: websocketUrl(session.server),
    roomId,
    token: session.api.token!,
    identity: session.identity,
    keyring,
    awareness,
    trust: session.trust.forTeam(teamId),
    refreshKeys: async () => {
      await session.api.loadKeyring(roomId, session.identity, session.trust, keyring);
    },
  });
  const synced = await Promise.race([
    provider.whenSynced().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), SYNC_TIMEOUT_MS)),
  ]);
  if (!synced) {
    provider.destroy();
    throw new ShareError(`the sync server ${session.server} did not open room ${roomId} within 15 s; try again`);
  }
  connections.set(doc, { doc, awareness, provider, teamId });
  return { doc, awareness, provider };
}
