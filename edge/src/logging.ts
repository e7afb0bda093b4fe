/**
 * The edge's structured JSON logs: the shared logger (`shared/http/logger.ts`) writing to the Workers console
 * (one JSON document per line, `service: "edge"` on each), and the middleware that gives every request a child
 * logger bound to its request id (`c.var.logger`).
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import { createLogger, type Logger } from '../../shared/http/logger.js';
import type { AppEnv } from './app-env.js';

/** The edge's root logger, for code that runs outside a request (queue consumers, Durable Objects, streams). */
export const edgeLogger: Logger = createLogger({}, { service: 'edge' });

/** The request's logger: the one `requestLogger` set, else one bound to the request id. */
export function loggerOf(c: Context<AppEnv>): Logger {
  return c.get('logger') ?? edgeLogger.child({ request_id: c.get('requestId') });
}

/** Middleware that sets `c.var.logger` to a child of the root logger bound to the request id (run after `requestId`). */
export function requestLogger(): MiddlewareHandler<AppEnv> {
  return async function requestLogger(c, next) {
    c.set('logger', edgeLogger.child({ request_id: c.get('requestId') }));
    await next();
  };
}
