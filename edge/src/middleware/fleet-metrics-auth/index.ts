/**
 * @module
 * Fleet metrics authentication (`GET /internal/fleet/backlog`, read by KEDA's `metrics-api` scaler):
 * `Authorization: Bearer <FLEET_METRICS_TOKEN>`, compared in constant time. The token only reads queue sizes.
 * @throws ApiError 401 `unauthorized` when the token is missing or wrong.
 */
import type { MiddlewareHandler } from 'hono';
import { timingSafeEqual } from '../../../../shared/signing.js';
import type { AppEnv } from '../../app-env.js';
import { configFrom } from '../../config.js';
import { ApiError } from '../../errors/api-error.js';

/** Middleware guarding the backlog endpoint. */
export const fleetMetricsAuth = (): MiddlewareHandler<AppEnv> => {
  const headers = { 'www-authenticate': 'Bearer realm="fleet-metrics"' };
  return async function fleetMetricsAuth(c, next) {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (token === undefined || !timingSafeEqual(token, configFrom(c.env).FLEET_METRICS_TOKEN)) {
      throw new ApiError(401, 'unauthorized', 'Fleet metrics token missing or invalid', { headers });
    }
    await next();
  };
};
