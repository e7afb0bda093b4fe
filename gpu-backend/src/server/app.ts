/**
 * The backend's HTTP API (Hono), modelled on Cog's: `PUT /predictions/:id`, `GET /predictions/:id`,
 * `POST /predictions/:id/cancel`, `GET /health-check` (always 200), `GET /metrics` (Prometheus). All of these
 * require the internal signature (401 before any work). Three unauthenticated probes for Kubernetes answer
 * only the status word, with 200 or 503: `GET /started` (READY or BUSY: models loaded), `GET /ready` (READY),
 * `GET /live` (STARTING, READY or BUSY; SETUP_FAILED and DEFUNCT need a restart).
 * @module
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { fieldErrors } from '../../../shared/http/field-errors.js';
import { requestId } from '../../../shared/http/request-id.js';
import { BackendJob, PredictionId, type BackendHealthStatus } from '../../../shared/internal.js';
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
  retryAfterS: number;
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

export function createApp(o: AppOptions): Hono<Env> {
  const app = new Hono<Env>();
  const auth = internalAuth({ secret: o.previousSecret === undefined ? o.secret : [o.secret, o.previousSecret], logger: o.logger, metrics: o.metrics });

  app.use('*', requestId());

  for (const [path, ok] of Object.entries(probes)) {
    app.get(path, (c) => {
      const { status } = o.service.health();
      return c.text(status, (ok as readonly string[]).includes(status) ? 200 : 503);
    });
  }

  app.get('/metrics', async (c) => {
    const bearer = c.req.header('authorization');
    const tokenOk = o.metricsToken !== undefined && bearer !== undefined && timingSafeEqual(bearer, `Bearer ${o.metricsToken}`);
    if (!tokenOk) {
      const refused = await auth(c, async () => {});
      if (refused) return refused;
    }
    return c.body(o.metrics.expose(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
  });

  app.use('*', bodyLimit({ maxSize: 256 * 1024, onError: (c) => problemResponse('payload-too-large', 413, 'body over 256 KiB', { requestId: c.get('requestId') }) }));
  // Everything below (and any unknown path) needs the internal signature.
  app.use('*', auth);

  app.get('/health-check', (c) => c.json(o.service.health(), 200));

  app.put('/predictions/:id', (c) => {
    const requestId = c.get('requestId');
    const log = o.logger.child({ request_id: requestId });
    const pathId = PredictionId.safeParse(c.req.param('id'));
    if (!pathId.success) return problemResponse('validation-failed', 422, 'the path id is not a prediction id', { requestId, errors: [{ pointer: '/id', message: 'not a prediction id' }] });
    let json: unknown;
    try {
      json = JSON.parse(c.get('rawBody'));
    } catch {
      return problemResponse('malformed-request', 400, 'the body is not valid JSON', { requestId });
    }
    const parsed = BackendJob.safeParse(json);
    if (!parsed.success) {
      o.metrics.errors.inc({ kind: 'validation' });
      return problemResponse('validation-failed', 422, 'the job failed validation', { requestId, errors: fieldErrors(parsed.error) });
    }
    if (parsed.data.id !== pathId.data) {
      return problemResponse('validation-failed', 422, 'body id differs from the path id', { requestId, errors: [{ pointer: '/id', message: 'must equal the id in the path' }] });
    }
    const result = o.service.submit(parsed.data, log);
    const retryAfter = { 'retry-after': String(o.retryAfterS) };
    switch (result.kind) {
      case 'accepted':
        return c.json(result.state, 202);
      case 'existing':
        return c.json(result.state, 200);
      case 'queue-full':
        log.warn('queue full; prediction refused', { prediction_id: parsed.data.id });
        return problemResponse('queue-full', 409, 'the backend queue is full; retry later or elsewhere', { requestId, headers: retryAfter });
      case 'unavailable':
        return problemResponse('backend-unavailable', 503, result.reason, { requestId, headers: retryAfter });
      case 'invalid':
        o.metrics.errors.inc({ kind: 'validation' });
        return problemResponse('validation-failed', 422, result.message, { requestId, errors: [{ pointer: result.pointer, message: result.message }] });
    }
  });

  const badId = (c: Context<Env>) =>
    PredictionId.safeParse(c.req.param('id')).success
      ? undefined
      : problemResponse('validation-failed', 422, 'the path id is not a prediction id', { requestId: c.get('requestId'), errors: [{ pointer: '/id', message: 'not a prediction id' }] });

  app.get('/predictions/:id', (c) => {
    const invalid = badId(c);
    if (invalid) return invalid;
    const state = o.service.get(c.req.param('id'));
    return state ? c.json(state, 200) : problemResponse('not-found', 404, 'no such prediction on this backend', { requestId: c.get('requestId') });
  });

  app.post('/predictions/:id/cancel', (c) => {
    const invalid = badId(c);
    if (invalid) return invalid;
    const state = o.service.cancel(c.req.param('id'));
    if (state) o.logger.info('cancel requested', { request_id: c.get('requestId'), prediction_id: state.id, status: state.status });
    return state ? c.json(state, 200) : problemResponse('not-found', 404, 'no such prediction on this backend', { requestId: c.get('requestId') });
  });

  app.notFound((c) => problemResponse('not-found', 404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, { requestId: c.get('requestId') }));
  app.onError((err, c) => {
    o.logger.error('unhandled error', { request_id: c.get('requestId'), err });
    return problemResponse('internal-error', 500, 'internal error', { requestId: c.get('requestId') });
  });
  return app;
}
