// The server's parts each resource router uses, and the two checks they share: the API token and the team role.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { tokenHash } from '../auth';
import type { SyncServerConfig } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Relay } from '../relay';
import { ROLE_RANK, type Member, type Role, type SyncStore, type User } from '../store/store';
import { ApiError, type Authed } from './api-request';

export interface ApiContext {
  store: SyncStore;
  relay: () => Relay;
  cfg: SyncServerConfig;
  log: Logger;
  metrics: Metrics;
  /** Middleware: the request carries a valid API token (`Authorization: Bearer ...`); sets req.user and req.token. */
  auth: RequestHandler;
  /** The caller's membership of the team, when their role is at least `min`; else a 404 or 403 ApiError. */
  requireRole(teamId: string, user: User, min: Role): Promise<Member>;
}

export function apiContext(
  store: SyncStore,
  relay: () => Relay,
  cfg: SyncServerConfig,
  log: Logger,
  metrics: Metrics,
): ApiContext {
  const auth = (req: Request, _res: Response, next: NextFunction) => {
    const h = req.headers.authorization ?? '';
    const token = h.startsWith('Bearer ') ? h.slice(7) : '';
    (token ? store.userByTokenHash(tokenHash(token), Date.now()) : Promise.resolve(undefined))
      .then((user) => {
        if (!user)
          throw new ApiError(
            401,
            'unauthorized',
            'missing or invalid API token: send Authorization: Bearer <token> from POST /v1/tokens',
          );
        (req as Authed).user = user;
        (req as Authed).token = token;
        next();
      })
      .catch(next);
  };

  async function requireRole(teamId: string, user: User, min: Role) {
    const m = await store.membership(teamId, user.id);
    if (!m) throw new ApiError(404, 'not-found', `team ${teamId} not found or you are not a member`);
    if (ROLE_RANK[m.role] < ROLE_RANK[min])
      throw new ApiError(403, 'forbidden', `this needs role ${min} in team ${teamId}; you are ${m.role}`);
    return m;
  }

  return { store, relay, cfg, log, metrics, auth, requireRole };
}
