/**
 * Worker entry: wires the status listeners (work queue, billing, channel, webhooks, in that order) and hands
 * them to the HTTP app and the crons; the `webhooks` queue consumer; the Durable Objects. Queue bodies are typed
 * from `shared/` schemas but parsed again by the consumer (a bad message is acked and logged).
 * @module
 */
import type { WebhookMessage } from '../../shared/webhooks.js';
import { createApp } from './app.js';
import { settleCredits } from './billing/credits.js';
import { stopQueuedWork } from './fleet/stop-listener.js';
import { runScheduled } from './maintenance/scheduled.js';
import { publishStatus } from './predictions/listeners.js';
import type { StatusListeners } from './predictions/status-change.js';
import { consumeWebhookBatch } from './webhooks/consumer.js';
import { enqueueWebhooks } from './webhooks/listeners.js';

export { AccountMeter } from './billing/account-meter.js';
export { PredictionChannel } from './channel/prediction-channel.js';
export { WorkQueue } from './fleet/work-queue.js';

/**
 * Listeners run, in order, on every recorded status change: work the edge ended early is stopped in the work
 * queue, and credits settle, before anyone is told the prediction ended.
 */
export const statusListeners: StatusListeners = [stopQueuedWork, settleCredits, publishStatus, enqueueWebhooks];

const app = createApp(statusListeners);

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    await consumeWebhookBatch(batch, env);
  },
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(env, statusListeners, controller.cron, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env, WebhookMessage>;
