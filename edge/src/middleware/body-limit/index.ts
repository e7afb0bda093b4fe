/**
 * @module
 * Body size limit (Hono's `bodyLimit`, which also counts streamed bodies without Content-Length), answering a
 * `payload-too-large` problem. The limit comes from MAX_BODY_BYTES unless given.
 * @throws ApiError 413 `payload-too-large`.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../../app-env.js';
import { configFrom } from '../../config.js';
import { ApiError } from '../../errors/api-error.js';

export interface BodySizeLimitOptions {
  /** Fixed limit in bytes; default: MAX_BODY_BYTES from the configuration. */
  maxBytes?: number;
}

/** Middleware refusing request bodies above the limit. */
export const bodySizeLimit = (options: BodySizeLimitOptions = {}): MiddlewareHandler<AppEnv> => {
  const limiters = new Map<number, MiddlewareHandler<AppEnv>>();
  const limiterFor = (maxSize: number): MiddlewareHandler<AppEnv> => {
    let limiter = limiters.get(maxSize);
    if (!limiter) {
      limiter = honoBodyLimit({
        maxSize,
        onError: () => {
          throw new ApiError(413, 'payload-too-large', `Request body exceeds ${maxSize} bytes`);
        },
      });
      limiters.set(maxSize, limiter);
    }
    return limiter;
  };
  return async function bodySizeLimit(c, next) {
    return limiterFor(options.maxBytes ?? configFrom(c.env).MAX_BODY_BYTES)(c, next);
  };
};
