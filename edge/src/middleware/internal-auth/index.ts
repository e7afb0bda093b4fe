/**
 * @module
 * Internal request authentication (backend → edge callbacks): HMAC over timestamp, method, path and body
 * with INTERNAL_SECRET or, during a rotation, INTERNAL_SECRET_PREVIOUS (`shared/signing.ts`), fresh within the
 * tolerance window.
 * @throws ApiError 401 `unauthorized` when the signature is missing, stale or wrong.
 */
import type { MiddlewareHandler } from 'hono';
import { verifyInternalRequest } from '../../../../shared/signing.js';
import type { AppEnv } from '../../app-env.js';
import { configFrom } from '../../config.js';
import { ApiError } from '../../errors/api-error.js';

export interface InternalAuthOptions {
  /** Clock for tests; default `Date.now`. */
  now?: () => number;
}

/** Middleware that verifies signed internal requests. The body stays readable for the route (Hono caches it). */
export const internalAuth = (options: InternalAuthOptions = {}): MiddlewareHandler<AppEnv> => {
  const now = options.now ?? Date.now;
  return async function internalAuth(c, next) {
    const url = new URL(c.req.url);
    const body = await c.req.text();
    const { INTERNAL_SECRET, INTERNAL_SECRET_PREVIOUS } = configFrom(c.env);
    const secrets = INTERNAL_SECRET_PREVIOUS === undefined ? [INTERNAL_SECRET] : [INTERNAL_SECRET, INTERNAL_SECRET_PREVIOUS];
    const reason = await verifyInternalRequest(secrets, c.req.method, url.pathname + url.search, body, c.req.raw.headers, now());
    if (reason !== null) throw new ApiError(401, 'unauthorized', `Internal request refused: ${reason}`);
    await next();
  };
};
