// A team's rooms and their wrapped keys: /v1/teams/:teamId/rooms, /v1/rooms/:roomId[/keys].
import express from 'express';
import { newId } from '../auth';
import type { Role } from '../store/store';
import type { ApiContext } from './api-context';
import { ApiError, parse, schemas, wrap, type Authed } from './api-request';

export function roomRoutes({ store, relay, cfg, auth, requireRole }: ApiContext): express.Router {
  const router = express.Router();

  router.post(
    '/v1/teams/:teamId/rooms',
    auth,
    wrap(async (req, res) => {
      const teamId = String(req.params.teamId);
      await requireRole(teamId, req.user, 'admin');
      const b = parse(schemas.room, req.body, 'room');
      if ((await store.rooms(teamId)).length >= cfg.maxRoomsPerTeam)
        throw new ApiError(
          409,
          'limit',
          `team ${teamId} already has ${cfg.maxRoomsPerTeam} rooms (the limit); delete or reuse one`,
        );
      const room = {
        id: newId('room'),
        teamId,
        name: b.name,
        keyEpoch: 0,
        head: 0,
        rotationRequired: false,
        createdAt: Date.now(),
      };
      await store.createRoom(room);
      res.status(201).json(room);
    }),
  );

  router.get(
    '/v1/teams/:teamId/rooms',
    auth,
    wrap(async (req, res) => {
      await requireRole(String(req.params.teamId), req.user, 'viewer');
      res.json(await store.rooms(String(req.params.teamId)));
    }),
  );

  /** The room in the path, once the caller holds at least `min` in its team. */
  async function roomFor(req: Authed, min: Role) {
    const room = await store.room(String(req.params.roomId));
    if (!room) throw new ApiError(404, 'not-found', `room ${req.params.roomId} not found`);
    await requireRole(room.teamId, req.user, min);
    return room;
  }

  router.get(
    '/v1/rooms/:roomId',
    auth,
    wrap(async (req, res) => {
      res.json(await roomFor(req, 'viewer'));
    }),
  );

  // Upload room keys wrapped to member devices. epoch = current + 1 rotates; epoch <= current grants older keys.
  router.post(
    '/v1/rooms/:roomId/keys',
    auth,
    wrap(async (req, res) => {
      const room = await roomFor(req, 'admin');
      const b = parse(schemas.keys, req.body, 'wrapped keys');
      if (b.epoch > room.keyEpoch + 1)
        throw new ApiError(
          409,
          'stale-epoch',
          `epoch ${b.epoch} skips ahead: the room is at ${room.keyEpoch}; rotate to ${room.keyEpoch + 1}`,
        );
      const members = new Set((await store.members(room.teamId)).map((m) => m.userId));
      const wraps = [];
      for (const w of b.wraps) {
        const recipient = Buffer.from(w.recipient, 'base64');
        const key = await store.deviceKey(recipient);
        if (!key || !members.has(key.userId))
          throw new ApiError(400, 'invalid-input', `recipient ${w.recipient} is not a device of a current team member`);
        wraps.push({ roomId: room.id, epoch: b.epoch, recipient, wrapped: Buffer.from(w.wrapped, 'base64') });
      }
      const rotate = b.epoch === room.keyEpoch + 1;
      await store.addWrappedKeys(room.id, b.epoch, wraps, rotate);
      if (rotate) relay().keysRotated(room.id, b.epoch);
      res.status(201).json({ roomId: room.id, epoch: rotate ? b.epoch : room.keyEpoch, stored: wraps.length });
    }),
  );

  router.get(
    '/v1/rooms/:roomId/keys',
    auth,
    wrap(async (req, res) => {
      const room = await roomFor(req, 'viewer');
      const mine = (await store.deviceKeysOf(req.user.id)).map((k) => k.signPublicKey);
      const wraps = await store.wrappedKeysFor(room.id, mine);
      res.json({
        roomId: room.id,
        epoch: room.keyEpoch,
        rotationRequired: room.rotationRequired,
        keys: wraps.map((w) => ({
          epoch: w.epoch,
          recipient: w.recipient.toString('base64'),
          wrapped: w.wrapped.toString('base64'),
        })),
      });
    }),
  );
  return router;
}
