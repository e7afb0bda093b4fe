/**
 * Webhooks end to end: the edge in `wrangler dev` signs and sends Standard Webhooks deliveries through its local
 * `webhooks` queue to a receiver on 127.0.0.1 that verifies each one with the `standardwebhooks` package and the
 * account's secret. Retries come after one or two seconds here (WEBHOOK_RETRY_SCHEDULE).
 */
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/ports.js';
import { call, eventually, tinyRequest, WAIT_DEADLINE_MS, waitForEnd, type PredictionJson } from './helpers/api.js';
import { useStack } from './helpers/stack-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const h = useStack({ edgeVars: { WEBHOOK_RETRY_SCHEDULE: '1s,1s,2s,2s,2s,2s' } });

/** The delivery log entry (`GET /v1/predictions/:id/webhooks`), as far as these tests read it. */
interface DeliveryJson {
  id: string;
  event: string;
  url: string;
  status: string;
  attempts: number;
  delivered_at: string | null;
  attempt_log: { attempt: number; status_code: number | null; error: string | null }[];
}

let secret: string;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  const res = await call<{ key: string }>(h.stack, 'GET', '/v1/webhooks/secret');
  expect(res.status).toBe(200);
  expect(res.body.key).toMatch(/^whsec_/);
  secret = res.body.key;
});
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function deliveryLog(id: string): Promise<DeliveryJson[]> {
  const res = await call<{ data: DeliveryJson[] }>(h.stack, 'GET', `/v1/predictions/${id}/webhooks`);
  expect(res.status).toBe(200);
  return res.body.data;
}

/** The log once every delivery in it has finished (none pending or sending) and there are `count` of them. */
async function settledLog(id: string, count: number, timeoutMs = WAIT_DEADLINE_MS): Promise<DeliveryJson[]> {
  return eventually(
    `${count} finished webhook deliveries of ${id}`,
    async () => {
      const log = await deliveryLog(id);
      return log.length === count && log.every((d) => d.status !== 'pending' && d.status !== 'sending') ? log : undefined;
    },
    timeoutMs,
  );
}

describe('webhook deliveries to a local receiver', () => {
  it('sends signed start and completed deliveries carrying the prediction, with the same webhook-id on a retry', async () => {
    // Every delivery's first attempt is refused with 503, so each one is retried once.
    const receiver = await startWebhookReceiver({ secret, answer: (d) => (d.attemptForId === 1 ? 503 : 204) });
    receivers.push(receiver);
    const created = await call<PredictionJson>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ seed: 11 }, { webhook: `${receiver.url}/hooks/fox`, webhook_events_filter: ['start', 'completed'] }),
    );
    expect(created.status).toBe(202);
    const done = await waitForEnd(h.stack, created.body.id);
    expect(done.status).toBe('succeeded');

    const log = await settledLog(done.id, 2);
    expect(log.map((d) => [d.event, d.status, d.attempts])).toEqual([
      ['start', 'delivered', 2],
      ['completed', 'delivered', 2],
    ]);
    for (const d of log) {
      expect(d.url).toBe(`${receiver.url}/hooks/fox`);
      expect(d.attempt_log.map((a) => a.status_code)).toEqual([503, 204]);
    }

    // Every request verified against the account's secret; each webhook-id came twice (attempt and retry).
    expect(receiver.deliveries.filter((d) => !d.verified)).toEqual([]);
    expect(receiver.deliveries.map((d) => d.id).toSorted()).toEqual([log[0]!.id, log[0]!.id, log[1]!.id, log[1]!.id].toSorted());
    const [startId, completedId] = [log[0]!.id, log[1]!.id];
    expect(startId).toMatch(/^msg_/);
    expect(startId).not.toBe(completedId);

    // The payload is the prediction object; the completed one carries URLs of a real 64×64 PNG.
    const start = receiver.deliveries.find((d) => d.id === startId && d.answered === 204)!.payload as PredictionJson;
    expect(start.id).toBe(done.id);
    expect(['processing', 'succeeded']).toContain(start.status);
    const completed = receiver.deliveries.find((d) => d.id === completedId && d.answered === 204)!.payload as PredictionJson;
    expect(completed).toMatchObject({ id: done.id, status: 'succeeded', cost: { credits: done.cost.credits } });
    expect(completed.output).toHaveLength(1);
    const image = await fetch(completed.output![0]!);
    expect(image.status).toBe(200);
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 64, height: 64 });
  });

  it('retries a delivery while the receiver is down and delivers it once the receiver is back; the log shows every attempt', async () => {
    const port = await freePort();
    const hook = `http://127.0.0.1:${port}/hooks/later`;
    const created = await call<PredictionJson>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ seed: 12 }, { webhook: hook, webhook_events_filter: ['completed'] }),
    );
    expect(created.status).toBe(202);
    expect((await waitForEnd(h.stack, created.body.id)).status).toBe('succeeded');

    // Nothing listens yet: wait until two attempts have failed, then start the receiver on that port.
    await eventually('two failed attempts', async () => {
      const [d] = await deliveryLog(created.body.id);
      return d !== undefined && d.attempt_log.length >= 2 ? true : undefined;
    });
    const receiver = await startWebhookReceiver({ secret, port });
    receivers.push(receiver);

    const [delivery, ...others] = await settledLog(created.body.id, 1);
    expect(others).toEqual([]);
    expect(delivery).toMatchObject({ event: 'completed', url: hook, status: 'delivered' });
    expect(delivery!.delivered_at).not.toBeNull();
    const attempts = delivery!.attempt_log;
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(delivery!.attempts).toBe(attempts.length);
    expect(attempts.map((a) => a.attempt)).toEqual(attempts.map((_, i) => i + 1));
    for (const failed of attempts.slice(0, -1)) {
      expect(failed.status_code).toBeNull();
      expect(failed.error).toMatch(/request failed/);
    }
    expect(attempts.at(-1)).toMatchObject({ status_code: 204, error: null });

    // The receiver got exactly the successful attempt, verified, under the delivery's id.
    expect(receiver.deliveries.map((d) => [d.id, d.verified, d.answered])).toEqual([[delivery!.id, true, 204]]);
    expect(receiver.deliveries[0]!.payload).toMatchObject({ id: created.body.id, status: 'succeeded' });
  });
});
