/**
 * Worker entry: the HTTP app, the `jobs` queue consumer (and its dead-letter queue), and the Durable Object.
 * Queue bodies are typed as `DispatchMessage` but parsed again by the consumers (a bad message is acked and logged).
 * @module
 */
import { createApp } from './app.js';
import type { DispatchMessage } from '../../shared/dispatch.js';
import { consumeDeadLetters, consumeDispatchBatch } from './dispatch/consumer.js';

export { AccountMeter } from './billing/account-meter.js';
export { PredictionChannel } from './channel/prediction-channel.js';

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else await consumeDispatchBatch(batch, env);
  },
} satisfies ExportedHandler<Env, DispatchMessage>;
