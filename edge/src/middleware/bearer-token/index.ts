/**
 * @module
 * Bearer-token guards for the operator surfaces (admin routes, the fleet backlog): `Authorization: Bearer <token>`
 * compared in constant time with the configured token; each guard names its realm in `WWW-Authenticate`.
 * @throws ApiError 401 `unauthorized` when the token is missing or wrong.
 */
import type { MiddlewareHandler } from 'hono';
import { timingSafeEqual } from '../../../../shared/signing.js';
import type { AppEnv } from '../../app-env.js';
import { type EdgeConfig, configFrom } from '../../config.js';
import { ApiError } from '../../errors/api-error.js';

export interface BearerTokenGuard {
  /** `WWW-Authenticate` realm. */
  realm: string;
  /** The configured token the header must carry. */
  token: (config: EdgeConfig) => string;
  /** Problem detail when it does not. */
  refusal: string;
}

/** Middleware that lets a request through only with the guard's bearer token. */
export function bearerToken(guard: BearerTokenGuard): MiddlewareHandler<AppEnv> {
  const headers = { 'www-authenticate': `Bearer realm="${guard.realm}"` };
  return async function bearerToken(c, next) {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (token === undefined || !timingSafeEqual(token, guard.token(configFrom(c.env)))) {
      throw new ApiError(401, 'unauthorized', guard.refusal, { headers });
    }
    await next();
  };
}
