/**
 * @module
 * Per-API-key request rate limit, counted atomically in the account's meter (Durable Object). Every response
 * of a limited route carries the IETF `RateLimit-Policy` / `RateLimit` fields
 * (draft-ietf-httpapi-ratelimit-headers, structured-field syntax), e.g.
 * `RateLimit-Policy: "default";q=60;w=60, "concurrency";q=8;qu="concurrent-requests"` and
 * `RateLimit: "default";r=12;t=30, "concurrency";r=6`. Over the limit: 429 `rate-limited` with `Retry-After`.
 * Runs after `apiKeyAuth` (it needs `c.var.caller`).
 * @throws ApiError 429 `rate-limited`.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { meterOf } from '../../billing/account-meter.js';
import type { HitResult } from '../../billing/rpc.js';
import { ApiError } from '../../errors/api-error.js';

export interface RateLimitOptions {
  /** Name of the request-rate policy in the headers. Default `default`. */
  policy?: string;
}

/** The two header fields for one counted request. */
export function rateLimitHeaders(policy: string, hit: HitResult): Record<string, string> {
  const concurrentLeft = Math.max(0, hit.concurrency.limit - hit.concurrency.active);
  return {
    'ratelimit-policy': `"${policy}";q=${hit.limit};w=${hit.windowSeconds}, "concurrency";q=${hit.concurrency.limit};qu="concurrent-requests"`,
    ratelimit: `"${policy}";r=${hit.remaining};t=${hit.resetSeconds}, "concurrency";r=${concurrentLeft}`,
  };
}

/** Middleware counting each request of the calling key and refusing those over its per-minute limit. */
export const rateLimit = (options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> => {
  const policy = options.policy ?? 'default';
  return async function rateLimit(c, next) {
    const { accountId, keyId } = c.get('caller');
    const hit = await meterOf(c.env, accountId).hit({ accountId, keyId });
    const headers = rateLimitHeaders(policy, hit);
    if (!hit.allowed) {
      throw new ApiError(
        429,
        'rate-limited',
        `This API key is limited to ${hit.limit} requests per ${hit.windowSeconds} s; retry in ${hit.resetSeconds} s`,
        {
          headers: { ...headers, 'retry-after': String(hit.resetSeconds) },
        },
      );
    }
    await next();
    // A response with immutable headers (e.g. streamed from a Durable Object) is re-wrapped first.
    try {
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    } catch {
      c.res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    }
  };
};
