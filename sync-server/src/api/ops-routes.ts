// GET /healthz and GET /metrics: what a load balancer and a Prometheus scraper read.
import express from 'express';
import { sameSecret } from '../auth';
import type { ApiContext } from './api-context';
import { ApiError, wrap } from './api-request';

export function opsRoutes({ relay, cfg, metrics }: ApiContext): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true, connections: relay().connectionCount() });
  });
  // Metrics name no user, room or key, but they show the server's activity: only the scraper holding the token reads
  // them. The token is compared in constant time.
  router.get(
    '/metrics',
    wrap(async (req, res) => {
      if (!cfg.metricsToken) {
        throw new ApiError(
          404,
          'not-found',
          '/metrics is off: start the server with --metrics-token (or ' +
            'KYOZO_SYNC_METRICS_TOKEN) and scrape with Authorization: Bearer <that token>',
        );
      }
      const h = req.headers.authorization ?? '';
      if (!h.startsWith('Bearer ') || !sameSecret(h.slice(7), cfg.metricsToken)) {
        throw new ApiError(401, 'unauthorized', "/metrics needs Authorization: Bearer <the server's --metrics-token>");
      }
      res.set('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    }),
  );
  return router;
}
