// HTTP API: accounts, tokens, device keys, teams, members, invites, rooms and wrapped room keys, one express Router
// per resource (sync-server/src/api/). Every body is validated with zod (precise, typed errors); every error has the
// shape { error: { code, message, details? } } so clients can branch on `code` and show `message`.
import express, { type NextFunction, type Request, type Response } from 'express';
import { HashingBusyError } from './auth';
import type { SyncServerConfig } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Relay } from './relay';
import type { SyncStore } from './store/store';
import { accountRoutes } from './api/account-routes';
import { apiContext } from './api/api-context';
import { ApiError } from './api/api-request';
import { opsRoutes } from './api/ops-routes';
import { roomRoutes } from './api/room-routes';
import { teamRoutes } from './api/team-routes';

export { ApiError, fingerprint } from './api/api-request';

export function createApi(
  store: SyncStore,
  relay: () => Relay,
  cfg: SyncServerConfig,
  log: Logger,
  metrics: Metrics,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '2mb' }));
  app.use((req, res, next) => {
    const t0 = performance.now();
    // The path only: query strings and bodies may carry secrets and are never logged.
    res.on('finish', () =>
      log.info(
        { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - t0) },
        'http',
      ),
    );
    next();
  });
  const ctx = apiContext(store, relay, cfg, log, metrics);
  app.use(opsRoutes(ctx));
  app.use(accountRoutes(ctx));
  app.use(teamRoutes(ctx));
  app.use(roomRoutes(ctx));

  app.use((_req, _res, next) =>
    next(new ApiError(404, 'not-found', 'no such endpoint: see the README section "Sync server" for the API')),
  );
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    if (err instanceof ApiError) {
      res
        .status(err.status)
        .json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
      return;
    }
    if (err instanceof HashingBusyError) {
      const message = 'too many password checks at once: retry in a second';
      res
        .set('Retry-After', '1')
        .status(503)
        .json({ error: { code: 'busy', message } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed' || e.type === 'entity.too.large') {
      res
        .status(e.status ?? 400)
        .json({ error: { code: 'invalid-input', message: `request body rejected: ${e.message}; send JSON` } });
      return;
    }
    log.error({ err: e.message, path: req.path }, 'request failed');
    res
      .status(500)
      .json({ error: { code: 'internal', message: 'internal error; nothing was changed if the request was a write' } });
  });
  return app;
}
