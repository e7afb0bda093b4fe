/**
 * The app's one error handler: `ApiError` → its status and body; Hono's `HTTPException` (malformed JSON,
 * body limit) → the matching problem; anything else → logged, generic 500 problem.
 * @module
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../app-env.js';
import { loggerOf } from '../logging.js';
import { ApiError } from './api-error.js';
import { renderApiError } from './render.js';

/** Maps an HTTPException raised by Hono itself to an ApiError. */
function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 400) return new ApiError(400, 'malformed-request', err.message || 'Malformed request body');
  if (err.status === 413) return new ApiError(413, 'payload-too-large', err.message || 'Request body too large');
  if (err.status === 401) return new ApiError(401, 'unauthorized', err.message || 'Unauthorized');
  return new ApiError(err.status, 'internal-error', err.message || 'Request failed');
}

/** `app.onError` handler. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ApiError) return renderApiError(c, err);
  if (err instanceof HTTPException) return renderApiError(c, fromHttpException(err));
  loggerOf(c).error('unhandled error', { error: err });
  return renderApiError(c, new ApiError(500, 'internal-error', 'Internal error'));
}
