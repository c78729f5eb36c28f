// The rooms this window is in right now, as host or as guest, for the features that ride on a room's document beside
// the shared files (shared services, remote actions). Share Workspace and Join Shared Workspace report a room when it
// is connected and when it is left or ends; features subscribe without either of them knowing the features.
import type * as Y from 'yjs';
import type { ShareSession } from './share-account';

export interface OpenRoom {
  side: 'host' | 'guest';
  roomId: string;
  doc: Y.Doc;
  session: ShareSession;
  /** This user's role in the room's team, as the sync server reported it when connecting. */
  role: string;
  /** The host's name. */
  host: string;
  /** The host's workspace folder (file:) or the guest's kyozo-share:/<room>/ folder. */
  folderUri: string;
}

export interface RoomListener {
  opened(room: OpenRoom): void;
  closed(room: OpenRoom, reason: string): void;
}

const rooms = new Map<string, OpenRoom>();
const listeners = new Set<RoomListener>();

export function roomOpened(room: OpenRoom): void {
  const before = rooms.get(room.roomId);
  if (before) roomClosed(before.roomId, 'joined again');
  rooms.set(room.roomId, room);
  for (const l of listeners) l.opened(room);
}

export function roomClosed(roomId: string, reason: string): void {
  const room = rooms.get(roomId);
  if (!room) return;
  rooms.delete(roomId);
  for (const l of listeners) l.closed(room, reason);
}

/** Subscribes; rooms already open are reported at once. Returns the unsubscribe. */
export function onRooms(listener: RoomListener): () => void {
  listeners.add(listener);
  for (const r of rooms.values()) listener.opened(r);
  return () => listeners.delete(listener);
}

export function openRooms(): OpenRoom[] {
  return [...rooms.values()];
}
