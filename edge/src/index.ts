/**
 * Worker entry: the HTTP app, the `jobs` queue consumer (and its dead-letter queue), and the Durable Object.
 * @module
 */
import { createApp } from './app.js';
import { consumeDeadLetters, consumeDispatchBatch } from './dispatch/consumer.js';

export { PredictionChannel } from './channel/prediction-channel.js';

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else await consumeDispatchBatch(batch, env);
  },
} satisfies ExportedHandler<Env, unknown>;
