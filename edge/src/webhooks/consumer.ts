/**
 * The `webhooks` queue consumer: one delivery attempt per message. Malformed messages are acked and logged;
 * an attempt that throws (D1 unreachable) is retried by the queue; a repeated message finds its attempt
 * already claimed and is acked without sending.
 * @module
 */
import { WebhookMessage } from './queue-message.js';
import { edgeLogger } from '../logging.js';
import { attemptDelivery } from './sender.js';

/** Consumer for the `webhooks` queue. */
export async function consumeWebhookBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const parsed = WebhookMessage.safeParse(message.body);
    if (!parsed.success) {
      edgeLogger.error('dropping malformed webhook message', { message_id: message.id, issues: parsed.error.issues });
      message.ack();
      continue;
    }
    try {
      const outcome = await attemptDelivery(env, parsed.data);
      edgeLogger.info('webhook attempt', { delivery_id: parsed.data.delivery_id, attempt: parsed.data.attempt, outcome });
      message.ack();
    } catch (err) {
      edgeLogger.error('webhook attempt failed', { delivery_id: parsed.data.delivery_id, error: err });
      message.retry({ delaySeconds: 10 });
    }
  }
}
