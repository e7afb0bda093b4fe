/**
 * Internal callback route for GPU backends: `POST /internal/predictions/:id/events` with a signed
 * `BackendEvent`. Duplicates and stale events answer 200 (so the backend stops retrying) without effect.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { PredictionId } from '../../../shared/internal.js';
import type { AppEnv } from '../app-env.js';
import { ApiError } from '../errors/api-error.js';
import { defaultHook } from '../errors/default-hook.js';
import { applyBackendEvent } from '../predictions/transition.js';
import { BackendEventSchema, problemResponse } from '../schemas/components.js';

export const backendEventRoute = createRoute({
  method: 'post',
  path: '/internal/predictions/{id}/events',
  tags: ['internal'],
  summary: 'Backend progress and completion callback (HMAC-signed)',
  security: [{ internalSignature: [] }],
  request: {
    params: z.object({ id: PredictionId }),
    body: { required: true, content: { 'application/json': { schema: BackendEventSchema } } },
  },
  responses: {
    200: {
      description: 'Recorded, or ignored as duplicate/stale/already ended',
      content: { 'application/json': { schema: z.object({ result: z.enum(['applied', 'duplicate', 'stale', 'refused']) }) } },
    },
    400: problemResponse('Malformed body'),
    401: problemResponse('Missing or wrong signature'),
    404: problemResponse('No such prediction'),
    422: problemResponse('Not a backend event, or for another prediction'),
  },
});

/** Sub-app with the internal routes (mount behind `internalAuth`). */
export const internalRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(backendEventRoute, async (c) => {
  const event = c.req.valid('json');
  if (event.prediction_id !== c.req.valid('param').id) {
    throw new ApiError(422, 'validation-failed', 'The event is for another prediction', {
      errors: [{ pointer: '/prediction_id', message: 'does not match the path' }],
    });
  }
  const outcome = await applyBackendEvent(c.env, c.get('statusListeners'), event);
  if (outcome.kind === 'not-found') throw new ApiError(404, 'not-found', 'No such prediction');
  return c.json({ result: outcome.kind }, 200);
});
