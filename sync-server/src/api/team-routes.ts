// Teams, their members and roles, the signed roster, and invites: /v1/teams/..., /v1/invites/accept.
import express from 'express';
import { randomBytes } from 'node:crypto';
import { newId, signInvite, verifyInvite } from '../auth';
import { ROLE_RANK } from '../store/store';
import type { ApiContext } from './api-context';
import { ApiError, keyJson, parse, schemas, wrap } from './api-request';

export function teamRoutes({ store, relay, log, auth, requireRole }: ApiContext): express.Router {
  const router = express.Router();
  const inviteSecret = store.secret('invite-hmac', () => randomBytes(32));

  router.post(
    '/v1/teams',
    auth,
    wrap(async (req, res) => {
      const b = parse(schemas.team, req.body, 'team');
      const team = { id: newId('team'), name: b.name, createdAt: Date.now() };
      await store.createTeam(team, req.user.id);
      res.status(201).json({ ...team, role: 'owner' });
    }),
  );

  router.get(
    '/v1/teams',
    auth,
    wrap(async (req, res) => {
      res.json(await store.teamsOf(req.user.id));
    }),
  );

  router.get(
    '/v1/teams/:teamId/members',
    auth,
    wrap(async (req, res) => {
      await requireRole(String(req.params.teamId), req.user, 'viewer');
      const members = await store.members(String(req.params.teamId));
      res.json(
        await Promise.all(
          members.map(async (m) => ({ ...m, keys: (await store.deviceKeysOf(m.userId)).map(keyJson) })),
        ),
      );
    }),
  );

  router.patch(
    '/v1/teams/:teamId/members/:userId',
    auth,
    wrap(async (req, res) => {
      const teamId = String(req.params.teamId);
      const userId = String(req.params.userId);
      const b = parse(schemas.memberRole, req.body, 'role change');
      const me = await requireRole(teamId, req.user, 'admin');
      const target = await store.membership(teamId, userId);
      if (!target) throw new ApiError(404, 'not-found', `user ${userId} is not a member of team ${teamId}`);
      // Admin-level grants are the owner's, and so is acting on an admin: an admin cannot mint admins or demote a peer.
      if ((ROLE_RANK[b.role] >= ROLE_RANK.admin || ROLE_RANK[target.role] >= ROLE_RANK.admin) && me.role !== 'owner') {
        const message = 'only an owner can grant the admin or owner role, or change the role of an admin or owner';
        throw new ApiError(403, 'forbidden', message);
      }
      const owners = async () => (await store.members(teamId)).filter((m) => m.role === 'owner').length;
      if (target.role === 'owner' && b.role !== 'owner' && (await owners()) === 1) {
        throw new ApiError(409, 'conflict', 'cannot demote the last owner; make someone else owner first');
      }
      await store.setMember(teamId, userId, b.role);
      relay().roleChanged(teamId, userId, b.role);
      // What a demoted admin handed out but nobody used yet goes with the role.
      if (ROLE_RANK[b.role] < ROLE_RANK[target.role]) {
        const revoked = await store.revokeInvitesBy(teamId, userId);
        if (revoked)
          log.info({ team: teamId, user: userId, revoked }, 'role lowered; their unused invites are revoked');
      }
      res.json({ teamId, userId, role: b.role });
    }),
  );

  router.delete(
    '/v1/teams/:teamId/members/:userId',
    auth,
    wrap(async (req, res) => {
      const teamId = String(req.params.teamId);
      const userId = String(req.params.userId);
      const me = await requireRole(teamId, req.user, userId === req.user.id ? 'viewer' : 'admin');
      const target = await store.membership(teamId, userId);
      if (!target) throw new ApiError(404, 'not-found', `user ${userId} is not a member of team ${teamId}`);
      if (target.role === 'owner' && (await store.members(teamId)).filter((m) => m.role === 'owner').length === 1)
        throw new ApiError(409, 'conflict', 'cannot remove the last owner; make someone else owner first');
      if (ROLE_RANK[target.role] >= ROLE_RANK.admin && me.role !== 'owner' && userId !== req.user.id)
        throw new ApiError(403, 'forbidden', 'only an owner can remove an admin');
      await store.removeMember(teamId, userId);
      const revoked = await store.revokeInvitesBy(teamId, userId);
      // Writes would be sealed under a key the removed member holds: none is taken until an admin rotates each room key.
      await store.setRoomsRotationRequired(teamId);
      relay().rotationRequired(teamId);
      const closed = relay().memberRemoved(teamId, userId);
      log.info(
        { team: teamId, user: userId, closed, invitesRevoked: revoked },
        'member removed; room keys must rotate',
      );
      res.json({
        removed: userId,
        socketsClosed: closed,
        rotationRequired: (await store.rooms(teamId)).filter((r) => r.rotationRequired).map((r) => r.id),
      });
    }),
  );

  // The team roster (devices, roles, version) is signed by an admin's client (sync-server/src/client/team-roster.ts);
  // the server keeps the newest one so clients can fetch it, and refuses an upload that does not raise the version.
  router.get(
    '/v1/teams/:teamId/roster',
    auth,
    wrap(async (req, res) => {
      const teamId = String(req.params.teamId);
      await requireRole(teamId, req.user, 'viewer');
      const r = await store.roster(teamId);
      const none = `team ${teamId} has no signed roster yet: an admin's client signs one`;
      if (!r) throw new ApiError(404, 'no-roster', none);
      res.json({ teamId, version: r.version, roster: r.blob.toString('base64') });
    }),
  );

  router.put(
    '/v1/teams/:teamId/roster',
    auth,
    wrap(async (req, res) => {
      const teamId = String(req.params.teamId);
      await requireRole(teamId, req.user, 'admin');
      const b = parse(schemas.roster, req.body, 'roster');
      if (!(await store.putRoster({ teamId, version: b.version, blob: Buffer.from(b.roster, 'base64') }))) {
        const current = (await store.roster(teamId))?.version ?? 0;
        const next = `fetch the roster, apply your change and sign version ${current + 1}`;
        throw new ApiError(409, 'stale-roster', `roster version ${b.version} is not above ${current}: ${next}`);
      }
      res.status(201).json({ teamId, version: b.version });
    }),
  );

  router.post(
    '/v1/teams/:teamId/invites',
    auth,
    wrap(async (req, res) => {
      const teamId = String(req.params.teamId);
      const me = await requireRole(teamId, req.user, 'admin');
      const b = parse(schemas.invite, req.body, 'invite');
      if (b.role === 'admin' && me.role !== 'owner') {
        throw new ApiError(403, 'forbidden', 'only an owner can invite admins: invite a member for an owner to raise');
      }
      const id = randomBytes(16).toString('base64url'); // 128 random bits
      const expiresAt = Date.now() + b.ttlSeconds * 1000;
      await store.createInvite({ id, teamId, role: b.role, expiresAt, usedBy: null, createdBy: req.user.id });
      res.status(201).json({
        invite: signInvite(await inviteSecret, { id, team: teamId, role: b.role, exp: expiresAt }),
        role: b.role,
        expiresAt,
      });
    }),
  );

  router.post(
    '/v1/invites/accept',
    auth,
    wrap(async (req, res) => {
      const b = parse(schemas.accept, req.body, 'invite acceptance');
      const payload = verifyInvite(await inviteSecret, b.invite);
      if (!payload)
        throw new ApiError(400, 'invalid-invite', 'the invite signature does not verify: ask for a new invite');
      const inv = await store.invite(payload.id);
      if (!inv || inv.teamId !== payload.team || inv.role !== payload.role)
        throw new ApiError(400, 'invalid-invite', 'unknown invite');
      const revoked = new ApiError(
        410,
        'invite-revoked',
        'the invite was revoked (the admin who made it was removed or demoted): ask an admin for a new one',
      );
      if (inv.revokedAt) throw revoked;
      if (inv.expiresAt <= Date.now())
        throw new ApiError(410, 'invite-expired', 'the invite has expired: ask an admin for a new one');
      // Its maker must still be allowed to grant it now, also for invites made before revocation on removal existed.
      const maker = await store.membership(inv.teamId, inv.createdBy);
      if (!maker || ROLE_RANK[maker.role] < ROLE_RANK[inv.role === 'admin' ? 'owner' : 'admin']) throw revoked;
      if (await store.membership(inv.teamId, req.user.id))
        throw new ApiError(409, 'conflict', 'you are already a member of this team');
      if (!(await store.markInviteUsed(inv.id, req.user.id))) {
        if ((await store.invite(inv.id))?.revokedAt) throw revoked;
        throw new ApiError(410, 'invite-used', 'the invite was already used');
      }
      await store.setMember(inv.teamId, req.user.id, inv.role);
      res.json({ teamId: inv.teamId, role: inv.role });
    }),
  );
  return router;
}
