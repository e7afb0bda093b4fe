/**
 * @module
 * CORS for the playground and browser clients: Hono's `cors` with the allowed origins read from CORS_ORIGINS
 * ("*" allows any origin). Exposes the headers clients need (request id, Location, Retry-After).
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../../app-env.js';
import { configFrom } from '../../config.js';

export interface CorsFromConfigOptions {
  /** Fixed origins instead of CORS_ORIGINS. */
  origins?: string[];
}

/** Middleware answering preflights and adding CORS headers for allowed origins only. */
export const corsFromConfig = (options: CorsFromConfigOptions = {}): MiddlewareHandler<AppEnv> => {
  const handler = cors({
    origin: (origin, c) => {
      const allowed = options.origins ?? configFrom(c.env as Env).CORS_ORIGINS;
      if (allowed.includes('*')) return '*';
      return allowed.includes(origin) ? origin : null;
    },
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['authorization', 'content-type', 'prefer', 'cancel-after', 'idempotency-key', 'x-request-id'],
    exposeHeaders: [
      'x-request-id',
      'location',
      'retry-after',
      'preference-applied',
      'idempotent-replayed',
      'ratelimit',
      'ratelimit-policy',
    ],
    maxAge: 600,
  });
  return async function corsFromConfig(c, next) {
    return handler(c, next);
  };
};
