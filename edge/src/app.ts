/**
 * The edge application: middleware (request id, secure headers, CORS, body limit; on `/v1/*` a per-address
 * limit before API key auth,
 * per-key rate limit, and Idempotency-Key on the two create routes), the public, admin, internal and fleet route
 * groups, the OpenAPI document and one error handler. The status listeners are wired by the Worker's entry and
 * handed to every route through the context (`statusListeners`).
 * @module
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './app-env.js';
import { ApiError } from './errors/api-error.js';
import { defaultHook } from './errors/default-hook.js';
import { onError } from './errors/on-error.js';
import { renderApiError } from './errors/render.js';
import { adminAuth } from './middleware/admin-auth/index.js';
import { apiKeyAuth } from './middleware/api-key-auth/index.js';
import { bodySizeLimit } from './middleware/body-limit/index.js';
import { INPUT_IMAGE_BODY_BYTES as IMAGE_BODY_BYTES } from '../../shared/input-image.js';
import { clientRateLimit } from './middleware/client-rate-limit/index.js';
import { corsFromConfig } from './middleware/cors/index.js';
import { errorStyle } from './middleware/error-style/index.js';
import { fleetMetricsAuth } from './middleware/fleet-metrics-auth/index.js';
import { idempotency } from './middleware/idempotency/index.js';
import { internalAuth } from './middleware/internal-auth/index.js';
import { rateLimit } from './middleware/rate-limit/index.js';
import { requestId } from './middleware/request-id/index.js';
import { requestLogger } from './logging.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { adminBillingRoutes } from './routes/admin-billing.js';
import { mountDocs } from './routes/docs.js';
import { imageRoutes } from './routes/images.js';
import { imageEditRoutes } from './routes/image-edits.js';
import { fleetRoutes } from './routes/fleet.js';
import { internalRoutes } from './routes/internal.js';
import { playgroundRoutes } from './playground/index.js';
import { modelRoutes } from './routes/models.js';
import { predictionEventRoutes } from './routes/prediction-events.js';
import { predictionRoutes } from './routes/predictions.js';
import { replicateRoutes } from './routes/replicate.js';
import { webhookRoutes } from './routes/webhooks.js';
import { FLEET_PATHS } from '../../shared/fleet.js';
import type { StatusListeners } from './predictions/status-change.js';

/** Builds the app. Routes are chained so `AppType` carries their schema for `hc<AppType>`. */
export function createApp(statusListeners: StatusListeners) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook });
  app.use('*', requestId());
  app.use('*', requestLogger());
  app.use('*', async function defaultErrorStyle(c, next) {
    c.set('errorStyle', 'problem');
    c.set('statusListeners', statusListeners);
    await next();
  });
  app.use('*', secureHeaders());
  app.use('/v1/*', corsFromConfig());
  // Routes that take input images (data: URIs, multipart uploads) allow bodies the size of two of them.
  app.use('/v1/predictions', bodySizeLimit({ maxBytes: IMAGE_BODY_BYTES }));
  app.use('/v1/images/edits', bodySizeLimit({ maxBytes: IMAGE_BODY_BYTES }));
  const defaultBodyLimit = bodySizeLimit();
  app.use('*', async (c, next) =>
    c.req.path === '/v1/predictions' || c.req.path === '/v1/images/edits' ? next() : defaultBodyLimit(c, next),
  );

  app.use('/v1/images/*', errorStyle('openai'));
  app.use('/v1/*', clientRateLimit());
  app.use('/v1/*', apiKeyAuth());
  app.use('/v1/*', rateLimit());
  app.use('/v1/predictions', idempotency());
  app.use('/v1/images/generations', idempotency());
  app.use('/v1/models/:owner/:name/predictions', idempotency());
  app.use('/admin/*', adminAuth());
  // Backends sign every internal request; KEDA reads the backlog with a bearer token instead.
  const signedInternal = internalAuth();
  const metricsAuth = fleetMetricsAuth();
  app.use('/internal/*', async (c, next) => (c.req.path === FLEET_PATHS.backlog ? metricsAuth(c, next) : signedInternal(c, next)));

  const routes = app
    .route('/', predictionRoutes)
    .route('/', predictionEventRoutes)
    .route('/', imageRoutes)
    .route('/', imageEditRoutes)
    .route('/', modelRoutes)
    .route('/', replicateRoutes)
    .route('/', accountRoutes)
    .route('/', webhookRoutes)
    .route('/', adminRoutes)
    .route('/', adminBillingRoutes)
    .route('/', internalRoutes)
    .route('/', fleetRoutes);
  mountDocs(app);
  app.route('/', playgroundRoutes);

  app.notFound((c) => renderApiError(c, new ApiError(404, 'not-found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError(onError);
  return routes;
}

/** The app's type, for Hono's typed client: `hc<AppType>(baseUrl)`. */
export type AppType = ReturnType<typeof createApp>;
