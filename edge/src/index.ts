/**
 * Worker entry: the HTTP app, the `jobs` queue consumer (and its dead-letter queue), the `webhooks` queue
 * consumer, the maintenance cron, and the Durable Objects. Queue bodies are typed from `shared/` schemas but
 * parsed again by the consumers (a bad message is acked and logged).
 * @module
 */
import { createApp } from './app.js';
import type { DispatchMessage } from '../../shared/dispatch.js';
import type { WebhookMessage } from './webhooks/queue-message.js';
import { consumeDeadLetters, consumeDispatchBatch } from './dispatch/consumer.js';
import { runMaintenance } from './maintenance/scheduled.js';
import { consumeWebhookBatch } from './webhooks/consumer.js';

export { AccountMeter } from './billing/account-meter.js';
export { PredictionChannel } from './channel/prediction-channel.js';

/** Every message body the Worker's queues carry. */
export type QueueMessage = DispatchMessage | WebhookMessage;

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.startsWith('webhooks')) await consumeWebhookBatch(batch, env);
    else if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else await consumeDispatchBatch(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runMaintenance(env));
  },
} satisfies ExportedHandler<Env, QueueMessage>;
