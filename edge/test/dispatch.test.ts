import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DispatchMessage } from '../../shared/dispatch.js';
import { forgetHealth } from '../src/dispatch/backends.js';
import { retryDelaySeconds } from '../src/dispatch/consumer.js';
import { getPredictionRow } from '../src/predictions/row.js';
import worker from '../src/index.js';
import { backends, newCustomer, setBackendMode } from './helpers.js';

/** Inserts a prediction row directly (no queue message), as accept would. */
async function insertRow(accountId: string, keyId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const id = `disp${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const resolved = {
    prompt: 'x', negative_prompt: '', width: 64, height: 64, num_inference_steps: 4, guidance_scale: 7.5, seed: 1,
    scheduler: 'ddim', num_outputs: 1, output_format: 'png', output_quality: 90, deepcache: false,
  };
  const row = {
    id, account_id: accountId, key_id: keyId, model: 'sd15-tiny-demo', status: 'starting', input_json: '{}',
    resolved_json: JSON.stringify(resolved), cost_credits: 1, created_at: new Date().toISOString(), ...overrides,
  };
  const cols = Object.keys(row);
  await env.DB.prepare(`INSERT INTO predictions (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`).bind(...Object.values(row)).run();
  return id;
}

async function runBatch(queue: string, bodies: unknown[], attempts = 1) {
  // Bodies are whatever arrives on the queue; the consumer parses them (the malformed case included).
  const batch = createMessageBatch<DispatchMessage>(queue, bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body: body as DispatchMessage })));
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

async function jobAt(backend: string, id: string): Promise<{ job: { attempt: number }; cancel_requested: boolean } | null> {
  const res = await fetch(`${backend}/_test/jobs/${id}`);
  return res.ok ? res.json() : null;
}

const dispatch = (id: string): DispatchMessage => ({ type: 'dispatch', prediction_id: id });

describe('jobs queue consumer', () => {
  let customer: { accountId: string; keyId: string };
  const [a, b] = backends();

  beforeEach(async () => {
    customer = await newCustomer('dispatch');
    forgetHealth();
  });
  afterEach(async () => {
    await setBackendMode(a, 'ready');
    await setBackendMode(b, 'ready');
    forgetHealth();
  });

  it('sends the job to the other backend when one answers 409 (queue full)', async () => {
    await setBackendMode(a, 'busy');
    const id = await insertRow(customer.accountId, customer.keyId);
    const result = await runBatch('jobs', [dispatch(id)]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(await jobAt(a, id)).toBeNull();
    expect((await jobAt(b, id))?.job.attempt).toBe(1);
    expect((await getPredictionRow(env.DB, id))?.backend).toBe(b);
  });

  it('skips a backend whose health is DEFUNCT', async () => {
    await setBackendMode(a, 'defunct');
    const id = await insertRow(customer.accountId, customer.keyId);
    await runBatch('jobs', [dispatch(id)]);
    expect(await jobAt(a, id)).toBeNull();
    expect(await jobAt(b, id)).not.toBeNull();
  });

  it('retries later with backoff when every backend answers 409 or 5xx', async () => {
    await setBackendMode(a, 'busy');
    await setBackendMode(b, 'error');
    const id = await insertRow(customer.accountId, customer.keyId);
    const result = await runBatch('jobs', [dispatch(id)], 3);
    expect(result.explicitAcks).toEqual([]);
    // (The test helper records which messages were retried, not their delay: see retryDelaySeconds below.)
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(['m0']);
    const row = await getPredictionRow(env.DB, id);
    expect(row).toMatchObject({ status: 'starting', backend: null, attempt: 1 });

    // The redelivery, with a backend free again, dispatches it as attempt 2.
    await setBackendMode(b, 'ready');
    forgetHealth();
    expect((await runBatch('jobs', [dispatch(id)], 4)).explicitAcks).toEqual(['m0']);
    expect((await jobAt(b, id))?.job.attempt).toBe(2);
  });

  it('does not dispatch twice when a message is delivered again', async () => {
    const id = await insertRow(customer.accountId, customer.keyId);
    await runBatch('jobs', [dispatch(id)]);
    await runBatch('jobs', [dispatch(id)]);
    const row = await getPredictionRow(env.DB, id);
    expect(row?.attempt).toBe(1);
    const held = [await jobAt(a, id), await jobAt(b, id)].filter((j) => j !== null);
    expect(held).toHaveLength(1);
  });

  it('does not dispatch a prediction canceled while queued', async () => {
    const id = await insertRow(customer.accountId, customer.keyId, { status: 'canceled', completed_at: new Date().toISOString() });
    expect((await runBatch('jobs', [dispatch(id)])).explicitAcks).toEqual(['m0']);
    expect([await jobAt(a, id), await jobAt(b, id)]).toEqual([null, null]);
  });

  it('aborts a prediction whose Cancel-After deadline passed before dispatch', async () => {
    const id = await insertRow(customer.accountId, customer.keyId, { deadline: new Date(Date.now() - 1000).toISOString() });
    await runBatch('jobs', [dispatch(id)]);
    expect(await getPredictionRow(env.DB, id)).toMatchObject({ status: 'aborted', backend: null });
    expect([await jobAt(a, id), await jobAt(b, id)]).toEqual([null, null]);
  });

  it('passes the Cancel-After deadline on to the backend', async () => {
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const id = await insertRow(customer.accountId, customer.keyId, { deadline });
    await runBatch('jobs', [dispatch(id)]);
    const held = (await jobAt(a, id)) ?? (await jobAt(b, id));
    expect((held?.job as { deadline?: string } | undefined)?.deadline).toBe(deadline);
  });

  it('acks and drops a malformed message', async () => {
    const result = await runBatch('jobs', [{ type: 'dispatch', prediction_id: 'bad id' }]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(result.retryMessages).toEqual([]);
  });

  it('fails the prediction when its message reaches the dead-letter queue', async () => {
    const id = await insertRow(customer.accountId, customer.keyId);
    expect((await runBatch('jobs-dlq', [dispatch(id)])).explicitAcks).toEqual(['m0']);
    expect(await getPredictionRow(env.DB, id)).toMatchObject({ status: 'failed', error: 'No backend accepted the prediction' });
  });
});

describe('retryDelaySeconds', () => {
  it('doubles per delivery attempt from 2 s and caps at 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 32, 60, 60, 60]);
  });
});
