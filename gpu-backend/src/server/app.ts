/**
 * The backend's HTTP server (Hono). Work does not arrive here: the work puller leases it from the edge
 * (`work-puller.ts`). What is left is for operators and Kubernetes: `GET /health-check` (always 200, internal
 * signature required, 401 problem+json before any work otherwise), `GET /metrics` (Prometheus; the internal
 * signature or the metrics bearer token), and three unauthenticated probes that answer only the status word,
 * with 200 or 503: `GET /started` (READY or BUSY: models loaded), `GET /ready` (READY), `GET /live` (STARTING,
 * READY or BUSY; SETUP_FAILED and DEFUNCT need a restart).
 * @module
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from '../../../shared/http/request-id.js';
import type { BackendHealthStatus } from '../../../shared/internal.js';
import { timingSafeEqual } from '../../../shared/signing.js';
import { internalAuth, type InternalAuthVariables } from './internal-auth.js';
import type { Logger } from './logger.js';
import { PROMETHEUS_CONTENT_TYPE, type BackendMetricsRegistry } from './metrics.js';
import type { PredictionService } from './prediction-service.js';
import { problemResponse } from './problem-response.js';

export interface AppOptions {
  service: PredictionService;
  secret: string;
  /** Accepted too during a rotation of the internal secret. */
  previousSecret?: string;
  metricsToken: string | undefined;
  logger: Logger;
  metrics: BackendMetricsRegistry;
}

type Env = { Variables: InternalAuthVariables };

/** Unauthenticated probe paths and the health states each one answers 200 for. */
export const probes = {
  '/started': ['READY', 'BUSY'],
  '/ready': ['READY'],
  '/live': ['STARTING', 'READY', 'BUSY'],
} as const satisfies Record<string, readonly BackendHealthStatus[]>;

export function createApp(options: AppOptions): Hono<Env> {
  const app = new Hono<Env>();
  const auth = internalAuth({
    secret: options.previousSecret === undefined ? options.secret : [options.secret, options.previousSecret],
    logger: options.logger,
    metrics: options.metrics,
  });

  app.use('*', requestId());

  for (const [path, ok] of Object.entries(probes)) {
    app.get(path, (c) => {
      const { status } = options.service.health();
      return c.text(status, (ok as readonly string[]).includes(status) ? 200 : 503);
    });
  }

  app.get('/metrics', async (c) => {
    const bearer = c.req.header('authorization');
    const tokenOk = options.metricsToken !== undefined && bearer !== undefined && timingSafeEqual(bearer, `Bearer ${options.metricsToken}`);
    if (!tokenOk) {
      const refused = await auth(c, async () => {});
      if (refused) return refused;
    }
    return c.body(options.metrics.expose(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
  });

  app.use(
    '*',
    bodyLimit({
      maxSize: 256 * 1024,
      onError: (c) => problemResponse('payload-too-large', 413, 'body over 256 KiB', { requestId: c.get('requestId') }),
    }),
  );
  // Everything below (and any unknown path) needs the internal signature.
  app.use('*', auth);

  app.get('/health-check', (c) => c.json(options.service.health(), 200));

  app.notFound((c) =>
    problemResponse('not-found', 404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, { requestId: c.get('requestId') }),
  );
  app.onError((err, c) => {
    options.logger.error('unhandled error', { request_id: c.get('requestId'), err });
    return problemResponse('internal-error', 500, 'internal error', { requestId: c.get('requestId') });
  });
  return app;
}
