/**
 * @module
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * @throws ApiError 401 `unauthorized` when the token is missing or wrong.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { bearerToken } from '../bearer-token/index.js';

/** Middleware guarding the admin routes. */
export const adminAuth = (): MiddlewareHandler<AppEnv> =>
  bearerToken({ realm: 'admin', token: (config) => config.ADMIN_TOKEN, refusal: 'Admin token missing or invalid' });
