import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import type { WebhookMessage } from '../src/webhooks/queue-message.js';
import worker from '../src/index.js';
import { admin, auth, call, createBody, createPrediction, deliver, jsonInit, newCustomer, runToSuccess, waitForJob } from './helpers.js';
import type { ReceivedDelivery } from './servers/webhook-receiver.js';

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  attempt_log: { attempt: number; status_code: number | null; error: string | null }[];
}

const hookName = (): string => `h${crypto.randomUUID().slice(0, 12)}`;
const hookUrl = (name: string): string => `${env.TEST_WEBHOOK_RECEIVER}/hooks/${name}`;

async function secretOf(key: string): Promise<string> {
  return (await (await call('/v1/webhooks/secret', auth(key))).json<{ key: string }>()).key;
}

/** Configures a receiver endpoint with the account's current secret. */
async function configureHook(name: string, key: string, config: Record<string, unknown> = {}): Promise<void> {
  const res = await fetch(`${env.TEST_WEBHOOK_RECEIVER}/_test/hooks/${name}`, {
    method: 'POST',
    body: JSON.stringify({ secret: await secretOf(key), ...config }),
  });
  expect(res.status).toBe(200);
}

async function received(name: string): Promise<ReceivedDelivery[]> {
  return (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/_test/hooks/${name}`)).json<{ deliveries: ReceivedDelivery[] }>()).deliveries;
}

async function waitForReceived(name: string, count: number, timeoutMs = 10_000): Promise<ReceivedDelivery[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await received(name);
    if (got.length >= count || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function deliveriesOf(key: string, id: string): Promise<Delivery[]> {
  const res = await call(`/v1/predictions/${id}/webhooks`, auth(key));
  expect(res.status).toBe(200);
  return (await res.json<{ data: Delivery[] }>()).data;
}

async function waitForDelivery(key: string, id: string, event: string, status: string, timeoutMs = 10_000): Promise<Delivery> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = (await deliveriesOf(key, id)).find((d) => d.event === event);
    if (found?.status === status) return found;
    if (Date.now() > until) throw new Error(`delivery ${event} of ${id} is ${found?.status ?? 'missing'}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A prediction with a webhook subscribed to `filter` (default `completed` only; null: no filter, every event). */
async function predictionWithHook(key: string, name: string, filter: string[] | null = ['completed']): Promise<Prediction> {
  const { res, prediction } = await createPrediction(
    key,
    createBody({}, { webhook: hookUrl(name), ...(filter ? { webhook_events_filter: filter } : {}) }),
  );
  expect(res.status).toBe(202);
  return prediction;
}

// Independent customers and endpoints: the delivery tests run concurrently (most of their time is queue latency).
describe.concurrent('webhook deliveries (Standard Webhooks v1)', () => {
  it('delivers a signed completed event that the standardwebhooks library verifies, with the prediction as payload', async () => {
    const { key } = await newCustomer('hooks');
    const name = hookName();
    await configureHook(name, key);
    const prediction = await predictionWithHook(key, name);
    await runToSuccess(prediction.id);
    const [got] = await waitForReceived(name, 1);
    expect(got).toMatchObject({ verified: true, error: null, answered: 204 });
    const payload = JSON.parse(got?.body ?? '{}') as Prediction;
    expect(payload).toMatchObject({ id: prediction.id, status: 'succeeded' });
    expect((await fetch(payload.output?.[0] ?? '')).status).toBe(200);
    const [delivery] = await deliveriesOf(key, prediction.id);
    expect(delivery).toMatchObject({ id: got?.headers['webhook-id'], event: 'completed', status: 'delivered', attempts: 1 });
    expect(got?.headers['webhook-id']).toMatch(/^msg_/);
  });

  it('sends only the events in webhook_events_filter, and every event (logs throttled) without a filter', async () => {
    const { key } = await newCustomer('hooks');
    const filtered = hookName();
    const everything = hookName();
    await configureHook(filtered, key);
    await configureHook(everything, key);
    const a = await predictionWithHook(key, filtered, ['start', 'completed']);
    const b = await predictionWithHook(key, everything, null);
    for (const p of [a, b]) {
      const { backend } = await waitForJob(p.id);
      await deliver(backend, p.id, { type: 'started' });
      for (const step of [1, 2, 3]) await deliver(backend, p.id, { type: 'progress', step, total: 6 });
      await deliver(backend, p.id, { type: 'completed', status: 'succeeded' });
    }
    const eventsOf = async (key_: string, id: string): Promise<string[]> => (await deliveriesOf(key_, id)).map((d) => d.event).toSorted();
    expect(await eventsOf(key, a.id)).toEqual(['completed', 'start']);
    // Three progress updates within the throttle interval make one logs delivery.
    expect(await eventsOf(key, b.id)).toEqual(['completed', 'logs', 'output', 'start']);
    expect(await waitForReceived(everything, 4)).toHaveLength(4);
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    const { key } = await newCustomer('hooks');
    const name = hookName();
    await configureHook(name, key, { fail: 2, fail_status: 500 });
    const prediction = await predictionWithHook(key, name);
    await runToSuccess(prediction.id);
    const delivery = await waitForDelivery(key, prediction.id, 'completed', 'delivered');
    const got = await received(name);
    expect(got.map((d) => d.answered)).toEqual([500, 500, 204]);
    expect(new Set(got.map((d) => d.headers['webhook-id']))).toEqual(new Set([delivery.id]));
    expect(got.every((d) => d.verified)).toBe(true);
    expect(delivery.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 204]);
  });

  it('treats a 3xx as a failure and does not follow the redirect', async () => {
    const { key } = await newCustomer('hooks');
    const name = hookName();
    const target = hookName();
    await configureHook(name, key, { fail: 1, fail_status: 302, fail_headers: { location: hookUrl(target) } });
    await configureHook(target, key);
    const prediction = await predictionWithHook(key, name);
    await runToSuccess(prediction.id);
    const delivery = await waitForDelivery(key, prediction.id, 'completed', 'delivered');
    expect(delivery.attempt_log.map((a) => [a.status_code, a.error])).toEqual([
      [302, 'redirect 302 (redirects are not followed)'],
      [204, null],
    ]);
    expect(await received(target)).toEqual([]);
  });

  it('honours Retry-After when it asks for longer than the schedule', async () => {
    const { key } = await newCustomer('hooks');
    const name = hookName();
    await configureHook(name, key, { fail: 1, fail_status: 503, fail_headers: { 'retry-after': '2' } });
    const prediction = await predictionWithHook(key, name);
    await runToSuccess(prediction.id);
    const got = await waitForReceived(name, 2, 12_000);
    expect(got.map((d) => d.answered)).toEqual([503, 204]);
    expect((got[1]?.at ?? 0) - (got[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
  });

  it('disables the endpoint for the account on 410 until it is enabled again', async () => {
    const { accountId, key } = await newCustomer('hooks');
    const name = hookName();
    await configureHook(name, key, { fail: 1, fail_status: 410 });
    const first = await predictionWithHook(key, name);
    const second = await predictionWithHook(key, name);
    await runToSuccess(first.id);
    expect(await waitForDelivery(key, first.id, 'completed', 'disabled')).toMatchObject({ last_status_code: 410 });
    // The second prediction's delivery is not even attempted against the endpoint.
    await runToSuccess(second.id);
    const blocked = await waitForDelivery(key, second.id, 'completed', 'disabled');
    expect(blocked.attempt_log[0]?.status_code).toBeNull();
    expect(await received(name)).toHaveLength(1);
    const refusedReplay = await call(`/v1/predictions/${second.id}/webhooks/${blocked.id}/replay`, auth(key, { method: 'POST' }));
    expect(refusedReplay.status).toBe(409);

    const enabled = await admin('POST', `/admin/accounts/${accountId}/webhooks/enable`, { url: hookUrl(name) });
    expect(await enabled.json()).toEqual({ url: hookUrl(name), was_disabled: true });
    expect((await call(`/v1/predictions/${second.id}/webhooks/${blocked.id}/replay`, auth(key, { method: 'POST' }))).status).toBe(202);
    expect(await waitForDelivery(key, second.id, 'completed', 'delivered')).toMatchObject({ attempts: 2 });
  });

  it('produces a signature that fails verification for a modified body or after the secret was rotated', async () => {
    const { key } = await newCustomer('hooks');
    const tampered = hookName();
    const stale = hookName();
    await configureHook(tampered, key, { tamper: true });
    await configureHook(stale, key);
    const rotated = await call('/v1/webhooks/secret', auth(key, { method: 'POST' }));
    expect((await rotated.json<{ key: string }>()).key).toMatch(/^whsec_/);
    const p1 = await predictionWithHook(key, tampered);
    const p2 = await predictionWithHook(key, stale);
    await runToSuccess(p1.id);
    await runToSuccess(p2.id);
    const [t] = await waitForReceived(tampered, 1);
    const [s] = await waitForReceived(stale, 1);
    expect(t).toMatchObject({ verified: false, error: 'No matching signature found' });
    expect(s).toMatchObject({ verified: false, error: 'No matching signature found' });
  });

  it('replays a delivered event with the same webhook-id and a fresh signature', async () => {
    const { key } = await newCustomer('hooks');
    const name = hookName();
    await configureHook(name, key);
    const prediction = await predictionWithHook(key, name);
    await runToSuccess(prediction.id);
    const delivery = await waitForDelivery(key, prediction.id, 'completed', 'delivered');
    const res = await call(`/v1/predictions/${prediction.id}/webhooks/${delivery.id}/replay`, auth(key, { method: 'POST' }));
    expect(res.status).toBe(202);
    const got = await waitForReceived(name, 2);
    expect(got.map((d) => [d.headers['webhook-id'], d.verified])).toEqual([
      [delivery.id, true],
      [delivery.id, true],
    ]);
    expect((await waitForDelivery(key, prediction.id, 'completed', 'delivered')).attempts).toBe(2);
    const unknown = await call(`/v1/predictions/${prediction.id}/webhooks/msg_${'0'.repeat(24)}/replay`, auth(key, { method: 'POST' }));
    expect(unknown.status).toBe(404);
  });

  it('sends nothing when the queue delivers the same attempt again', async () => {
    const { key } = await newCustomer('hooks');
    const name = hookName();
    await configureHook(name, key);
    const prediction = await predictionWithHook(key, name);
    await runToSuccess(prediction.id);
    const delivery = await waitForDelivery(key, prediction.id, 'completed', 'delivered');
    const message: WebhookMessage = { type: 'deliver', delivery_id: delivery.id, attempt: 1, replay: false };
    const batch = createMessageBatch<WebhookMessage>('webhooks', [{ id: 'again', timestamp: new Date(), attempts: 2, body: message }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(['again']);
    expect(await received(name)).toHaveLength(1);
    expect((await deliveriesOf(key, prediction.id))[0]?.attempts).toBe(1);
  });
});

describe('webhook SSRF guard', () => {
  it.each([
    ['a private IPv4 literal', 'http://10.0.0.8/hook'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['metadata as a decimal integer', 'http://2852039166/latest'],
    ['a private address in hex', 'http://0xc0.0xa8.0x01.0x01/hook'],
    ['a private address in octal', 'http://012.0.0.1/hook'],
    ['CGNAT', 'http://100.100.100.200/hook'],
    ['a link-local IPv6 literal', 'http://[fe80::1]/hook'],
    ['a unique-local IPv6 literal', 'http://[fd00:ec2::254]/hook'],
    ['IPv4-mapped private IPv6', 'http://[::ffff:10.0.0.1]/hook'],
    ['multicast', 'http://224.0.0.1/hook'],
    ['the unspecified address', 'http://0.0.0.0/hook'],
    ['an internal name', 'http://metadata.google.internal/computeMetadata/v1/'],
    ['a single-label name', 'http://intranet/hook'],
    ['a name resolving to a private address', 'https://private.evil.test/hook'],
    ['a name resolving to the metadata address', 'https://metadata.evil.test/hook'],
    ['a name resolving to CGNAT', 'https://cgnat.evil.test/hook'],
    ['a name resolving to a unique-local IPv6 address', 'https://ula.evil.test/hook'],
    ['a name resolving to IPv4-mapped private IPv6', 'https://mapped.evil.test/hook'],
    ['a name with one public and one private address', 'https://mixed.evil.test/hook'],
    ['a name that does not resolve', 'https://nxdomain.evil.test/hook'],
    ['credentials in the URL', 'https://user:pass@public.hooks.test/hook'],
  ])('refuses %s at create time with 422 and stores nothing', async (_, webhook) => {
    const { accountId, key } = await newCustomer('ssrf');
    const res = await call('/v1/predictions', jsonInit('POST', createBody({}, { webhook }), key));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'validation-failed', errors: [{ pointer: '/webhook' }] });
    const stored = await env.DB.prepare('SELECT COUNT(*) AS n FROM predictions WHERE account_id = ?')
      .bind(accountId)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0);
  });

  it('accepts a name resolving to public addresses', async () => {
    const { key } = await newCustomer('ssrf');
    const { res, prediction } = await createPrediction(
      key,
      createBody({}, { webhook: 'https://public.hooks.test/hook', webhook_events_filter: ['completed'] }),
    );
    expect(res.status).toBe(202);
    await waitForJob(prediction.id);
  });

  it('refuses at delivery time when the name has since been pointed at a private address', async () => {
    const { key } = await newCustomer('ssrf');
    const host = `${hookName()}.rebind.test`;
    const zone = (A: string[]) => fetch(`${env.TEST_DOH_SERVER}/_test/zone`, { method: 'POST', body: JSON.stringify({ name: host, A }) });
    await zone(['93.184.216.34']);
    const { res, prediction } = await createPrediction(
      key,
      createBody({}, { webhook: `https://${host}/hook`, webhook_events_filter: ['completed'] }),
    );
    expect(res.status).toBe(202);
    await zone(['192.168.1.20']);
    await runToSuccess(prediction.id);
    const delivery = await waitForDelivery(key, prediction.id, 'completed', 'refused');
    expect(delivery.attempt_log[0]?.error).toBe(`refused: ${host} resolves to a private address`);
  });
});
