/**
 * @module
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * @throws ApiError 401 `unauthorized` when the token is missing or wrong.
 */
import type { MiddlewareHandler } from 'hono';
import { timingSafeEqual } from '../../../../shared/signing.js';
import type { AppEnv } from '../../app-env.js';
import { configFrom } from '../../config.js';
import { ApiError } from '../../errors/api-error.js';

/** Middleware guarding the admin routes. */
export const adminAuth = (): MiddlewareHandler<AppEnv> => {
  const headers = { 'www-authenticate': 'Bearer realm="admin"' };
  return async function adminAuth(c, next) {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (token === undefined || !timingSafeEqual(token, configFrom(c.env).ADMIN_TOKEN)) {
      throw new ApiError(401, 'unauthorized', 'Admin token missing or invalid', { headers });
    }
    await next();
  };
};
