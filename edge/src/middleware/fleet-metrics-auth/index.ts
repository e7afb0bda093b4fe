/**
 * @module
 * Fleet metrics authentication (`GET /internal/fleet/backlog`, read by KEDA's `metrics-api` scaler):
 * `Authorization: Bearer <FLEET_METRICS_TOKEN>`, compared in constant time. The token only reads queue sizes.
 * @throws ApiError 401 `unauthorized` when the token is missing or wrong.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { bearerToken } from '../bearer-token/index.js';

/** Middleware guarding the backlog endpoint. */
export const fleetMetricsAuth = (): MiddlewareHandler<AppEnv> =>
  bearerToken({ realm: 'fleet-metrics', token: (config) => config.FLEET_METRICS_TOKEN, refusal: 'Fleet metrics token missing or invalid' });
