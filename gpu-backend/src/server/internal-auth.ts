/**
 * Middleware that admits only requests signed with the internal secret (HMAC over
 * `timestamp.METHOD.path.body`, see `shared/signing.ts`). Anything else gets 401 problem+json before any handler
 * runs. The verified raw body is kept in the context as `rawBody` so handlers parse exactly what was signed.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { verifyInternalRequest } from '../../../shared/signing.js';
import type { Logger } from './logger.js';
import type { BackendMetricsRegistry } from './metrics.js';
import { problemResponse } from './problem-response.js';

export interface InternalAuthOptions {
  /** The secret, or during a rotation the current and the previous one. */
  secret: string | readonly string[];
  logger: Logger;
  metrics?: BackendMetricsRegistry;
  now?: () => number;
}

export type InternalAuthVariables = { rawBody: string; requestId: string };

export const internalAuth = (options: InternalAuthOptions): MiddlewareHandler<{ Variables: InternalAuthVariables }> => {
  const now = options.now ?? Date.now;
  return async function internalAuth(c, next) {
    const body = await c.req.text();
    const url = new URL(c.req.url);
    const why = await verifyInternalRequest(options.secret, c.req.method, url.pathname + url.search, body, c.req.raw.headers, now());
    if (why !== null) {
      options.metrics?.errors.inc({ kind: 'auth' });
      options.logger.warn('unauthenticated request refused', {
        request_id: c.get('requestId'),
        method: c.req.method,
        path: url.pathname,
        reason: why,
      });
      return problemResponse('unauthorized', 401, 'the request is not signed with the internal secret', { requestId: c.get('requestId') });
    }
    c.set('rawBody', body);
    return next();
  };
};
