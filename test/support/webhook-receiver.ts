/**
 * A webhook receiver for end-to-end tests: a real HTTP server on 127.0.0.1 that verifies every delivery with the
 * `standardwebhooks` package (what a customer's service would use) against the account's `whsec_` secret,
 * records what arrived, and answers what the test's `answer` function decides (204 by default; 401 for a
 * delivery that does not verify).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { startHttpReceiver } from './http-receiver.js';

/** One request the receiver got. */
export interface ReceivedDelivery {
  /** `webhook-id` header (the delivery id, stable across retries). */
  id: string;
  /** `webhook-timestamp` header (seconds). */
  timestamp: string;
  body: string;
  /** The verified payload (the prediction object); null when verification failed. */
  payload: unknown;
  verified: boolean;
  /** Why verification failed. */
  error: string | null;
  /** 1 for the first request with this `webhook-id`, 2 for the next, … */
  attemptForId: number;
  /** Status the receiver answered. */
  answered: number;
}

export interface WebhookReceiverOptions {
  /** The account's signing secret (`whsec_…`, from `GET /v1/webhooks/secret`). */
  secret: string;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** Status to answer a verified delivery with (default 204). */
  answer?: (delivery: Omit<ReceivedDelivery, 'answered'>) => number;
}

/** A running receiver. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`; deliveries may go to any path. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly deliveries: readonly ReceivedDelivery[];
  close(): Promise<void>;
}

/** Starts a receiver; it listens until `close()`. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const verifier = new Webhook(options.secret);
  const deliveries: ReceivedDelivery[] = [];
  const header = (req: IncomingMessage, name: string): string => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : '';
  };
  const server = await startHttpReceiver((req, body, res) => {
    const headers = {
      'webhook-id': header(req, 'webhook-id'),
      'webhook-timestamp': header(req, 'webhook-timestamp'),
      'webhook-signature': header(req, 'webhook-signature'),
    };
    let payload: unknown = null;
    let error: string | null = null;
    try {
      payload = verifier.verify(body, headers);
    } catch (err) {
      error = String(err);
    }
    const received = {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      body,
      payload,
      verified: error === null,
      error,
      attemptForId: deliveries.filter((d) => d.id === headers['webhook-id']).length + 1,
    };
    const answered = error === null ? (options.answer?.(received) ?? 204) : 401;
    deliveries.push({ ...received, answered });
    res.writeHead(answered).end();
  }, options.port ?? 0);
  return { url: server.origin, port: server.port, deliveries, close: () => server.close() };
}
