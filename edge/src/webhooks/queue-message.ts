/**
 * Messages on the edge's `webhooks` queue: one per delivery attempt of a signed webhook (Standard Webhooks v1).
 * The D1 delivery row holds everything else; `attempt` lets the consumer drop a redelivered message.
 * @module
 */
import { z } from 'zod';

/** Delivery ids are the Standard Webhooks message ids (`webhook-id`): `msg_` + 24 base-36 characters. */
export const WebhookDeliveryId = z.string().regex(/^msg_[a-z0-9]{24}$/, 'not a webhook delivery id');
export type WebhookDeliveryId = z.infer<typeof WebhookDeliveryId>;

/** Make attempt number `attempt` (1-based, counted over the delivery's life, replays included). */
export const WebhookMessage = z.strictObject({
  type: z.literal('deliver'),
  delivery_id: WebhookDeliveryId,
  attempt: z.number().int().min(1),
  /** A manual replay: one attempt, no automatic retries. */
  replay: z.boolean().default(false),
});
export type WebhookMessage = z.infer<typeof WebhookMessage>;
