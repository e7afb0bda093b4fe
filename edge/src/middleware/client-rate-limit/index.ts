/**
 * @module
 * Requests per client address on `/v1/*`, before the API key is looked up: an unauthenticated flood is refused
 * by the `CLIENT_RATE_LIMITER` binding (Workers rate limiting, `wrangler.toml`: 300 per 60 s per address) instead
 * of costing a D1 read per request. The address is `CF-Connecting-IP`, which Cloudflare sets on every request
 * (clients cannot forge it); a request without it (local tests) is not counted.
 * @throws ApiError 429 `rate-limited` with `Retry-After`.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { ApiError } from '../../errors/api-error.js';

/** Seconds a client over its limit is told to wait (the limiter's period). */
export const CLIENT_LIMIT_PERIOD_S = 60;

export const clientRateLimit = (): MiddlewareHandler<AppEnv> =>
  async function clientRateLimit(c, next) {
    const address = c.req.header('cf-connecting-ip');
    if (address !== undefined) {
      const { success } = await c.env.CLIENT_RATE_LIMITER.limit({ key: address });
      if (!success) {
        throw new ApiError(429, 'rate-limited', 'Too many requests from this address; retry later', {
          headers: { 'retry-after': String(CLIENT_LIMIT_PERIOD_S) },
        });
      }
    }
    await next();
  };
