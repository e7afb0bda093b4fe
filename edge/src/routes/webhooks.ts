/**
 * Webhook routes: the account's signing secret (read, rotate), a prediction's delivery log, and manual replay
 * of one delivery (same `webhook-id`, freshly signed).
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { PredictionId } from '../../../shared/internal.js';
import { WebhookEvent } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { ApiError } from '../errors/api-error.js';
import { defaultHook } from '../errors/default-hook.js';
import { getOwnPredictionRow } from '../predictions/row.js';
import { problemResponse, rateLimitedResponse } from '../schemas/components.js';
import { WebhookDeliveryId } from '../webhooks/queue-message.js';
import { listDeliveries, replayDelivery, type AttemptRow, type DeliveryRow } from '../webhooks/deliveries.js';
import { isEndpointDisabled, rotateWebhookSecret, webhookSecret } from '../webhooks/endpoints.js';

const security = [{ bearerAuth: [] }];
const tags = ['webhooks'];
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } }) as const;
const IdParam = z.object({ id: PredictionId.openapi({ param: { name: 'id', in: 'path' } }) });
const DeliveryParam = IdParam.extend({ delivery_id: WebhookDeliveryId.openapi({ param: { name: 'delivery_id', in: 'path' } }) });
const authFailed = problemResponse('Missing, invalid or revoked API key');

export const WebhookSecretSchema = z.object({ key: z.string().regex(/^whsec_/), created_at: z.iso.datetime() }).openapi('WebhookSecret', {
  description: 'Standard Webhooks signing secret; verify `webhook-signature` with it (e.g. the `standardwebhooks` package)',
});

const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    started_at: z.iso.datetime(),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    duration_ms: z.number().int(),
  })
  .openapi('WebhookAttempt');

export const WebhookDeliverySchema = z
  .object({
    id: z.string().openapi({ description: 'The `webhook-id` header value, stable across retries and replays' }),
    event: WebhookEvent,
    url: z.string(),
    status: z.enum(['pending', 'sending', 'delivered', 'failed', 'disabled', 'refused']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
    attempt_log: z.array(AttemptSchema),
  })
  .openapi('WebhookDelivery');

export const getSecretRoute = createRoute({
  method: 'get',
  path: '/v1/webhooks/secret',
  tags,
  security,
  summary: "The account's webhook signing secret (created on first use)",
  responses: { 200: { description: 'The secret', content: json(WebhookSecretSchema) }, 401: authFailed, 429: rateLimitedResponse() },
});

export const rotateSecretRoute = createRoute({
  method: 'post',
  path: '/v1/webhooks/secret',
  tags,
  security,
  summary: 'Rotate the webhook signing secret (deliveries from now on use the new one)',
  responses: { 200: { description: 'The new secret', content: json(WebhookSecretSchema) }, 401: authFailed, 429: rateLimitedResponse() },
});

export const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/v1/predictions/{id}/webhooks',
  tags,
  security,
  summary: "A prediction's webhook deliveries and their attempts",
  request: { params: IdParam },
  responses: {
    200: { description: 'Delivery log, oldest first', content: json(z.object({ data: z.array(WebhookDeliverySchema) })) },
    400: problemResponse('Malformed id'),
    401: authFailed,
    404: problemResponse('No prediction with this id for this account'),
    429: rateLimitedResponse(),
  },
});

export const replayDeliveryRoute = createRoute({
  method: 'post',
  path: '/v1/predictions/{id}/webhooks/{delivery_id}/replay',
  tags,
  security,
  summary: 'Send a finished delivery again now (same webhook-id, fresh payload and signature; one attempt)',
  request: { params: DeliveryParam },
  responses: {
    202: { description: 'Queued', content: json(WebhookDeliverySchema) },
    400: problemResponse('Malformed id'),
    401: authFailed,
    404: problemResponse('No such prediction or delivery'),
    409: problemResponse('The delivery is still pending, or its endpoint is disabled (410)'),
    429: rateLimitedResponse(),
  },
});

function present(d: DeliveryRow & { attempt_log: AttemptRow[] }): z.infer<typeof WebhookDeliverySchema> {
  return {
    id: d.id,
    event: d.event,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    next_attempt_at: d.next_attempt_at,
    created_at: d.created_at,
    delivered_at: d.delivered_at,
    attempt_log: d.attempt_log.map(({ delivery_id: _, ...a }) => a),
  };
}

/** Sub-app with the webhook routes (mount under an authenticated app). */
export const webhookRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(getSecretRoute, async (c) => {
    const row = await webhookSecret(c.env.DB, c.get('caller').accountId);
    return c.json({ key: row.secret, created_at: row.created_at }, 200);
  })
  .openapi(rotateSecretRoute, async (c) => {
    const row = await rotateWebhookSecret(c.env.DB, c.get('caller').accountId);
    return c.json({ key: row.secret, created_at: row.created_at }, 200);
  })
  .openapi(listDeliveriesRoute, async (c) => {
    const row = await getOwnPredictionRow(c.env.DB, c.get('caller').accountId, c.req.valid('param').id);
    if (!row) throw new ApiError(404, 'not-found', 'No prediction with this id');
    return c.json({ data: (await listDeliveries(c.env.DB, row.id)).map(present) }, 200);
  })
  .openapi(replayDeliveryRoute, async (c) => {
    const { id, delivery_id } = c.req.valid('param');
    const { accountId } = c.get('caller');
    const row = await getOwnPredictionRow(c.env.DB, accountId, id);
    if (!row) throw new ApiError(404, 'not-found', 'No prediction with this id');
    const existing = (await listDeliveries(c.env.DB, row.id)).find((d) => d.id === delivery_id);
    if (!existing) throw new ApiError(404, 'not-found', 'No such delivery for this prediction');
    if (await isEndpointDisabled(c.env.DB, accountId, existing.url)) {
      throw new ApiError(
        409,
        'conflict',
        'The endpoint answered 410 Gone and is disabled; name it in a new prediction or ask an admin to re-enable it',
      );
    }
    const replayed = await replayDelivery(c.env, delivery_id);
    if (!replayed) throw new ApiError(409, 'conflict', `The delivery is ${existing.status}; only finished deliveries can be replayed`);
    return c.json(present({ ...replayed, attempt_log: existing.attempt_log }), 202);
  });
