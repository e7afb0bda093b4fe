import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { createApp } from '../src/app.js';
import { workQueueOf } from '../src/fleet/work-queue.js';
import { reapPredictions } from '../src/maintenance/reaper.js';
import { DEADLINE_GRACE_MS } from '../src/predictions/deadline.js';
import { statusListeners } from '../src/index.js';
import { TEST_ORIGIN } from './constants.js';
import {
  auth,
  call,
  createPrediction,
  deliver,
  getPrediction,
  heartbeatActionOf,
  newCustomer,
  runToSuccess,
  waitForJob,
} from './helpers.js';

async function cancel(key: string, id: string): Promise<Response> {
  return call(`/v1/predictions/${id}/cancel`, auth(key, { method: 'POST' }));
}

describe('POST /v1/predictions/:id/cancel', () => {
  it('cancels a processing prediction and tells its backend at its next heartbeat', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    expect(await heartbeatActionOf(prediction.id)).toBe('continue');
    const res = await cancel(key, prediction.id);
    expect(res.status).toBe(200);
    expect(await res.json<Prediction>()).toMatchObject({ status: 'canceled', output: null });
    expect(await heartbeatActionOf(prediction.id)).toBe('cancel');
    // The backend's late completion does not resurrect it.
    expect(await (await deliver(backend, prediction.id, { type: 'completed', status: 'succeeded' })).json()).toEqual({ result: 'refused' });
    expect((await getPrediction(key, prediction.id)).status).toBe('canceled');
  });

  it('is idempotent for a canceled prediction and answers 409 after success', async () => {
    const { key } = await newCustomer();
    const first = (await createPrediction(key)).prediction;
    await waitForJob(first.id);
    expect((await cancel(key, first.id)).status).toBe(200);
    expect((await cancel(key, first.id)).status).toBe(200);

    const second = (await createPrediction(key)).prediction;
    await runToSuccess(second.id);
    const res = await cancel(key, second.id);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'invalid-state-transition' });
  });

  it('answers 404 for another account’s prediction', async () => {
    const owner = await newCustomer('owner');
    const other = await newCustomer('other');
    const { prediction } = await createPrediction(owner.key);
    expect((await cancel(other.key, prediction.id)).status).toBe(404);
    await waitForJob(prediction.id);
  });

  it('has exactly one winner when cancel races the completion callback', async () => {
    const { key } = await newCustomer();
    for (let round = 0; round < 4; round++) {
      const { prediction } = await createPrediction(key);
      const { backend } = await waitForJob(prediction.id);
      await deliver(backend, prediction.id, { type: 'started' });
      const [canceled, completed] = await Promise.all([
        cancel(key, prediction.id),
        deliver(backend, prediction.id, { type: 'completed', status: 'succeeded' }),
      ]);
      const { result } = await completed.json<{ result: string }>();
      const final = await getPrediction(key, prediction.id);
      if (canceled.status === 200) {
        expect(result).toBe('refused');
        expect(final.status).toBe('canceled');
      } else {
        expect(canceled.status).toBe(409);
        expect(result).toBe('applied');
        expect(final.status).toBe('succeeded');
      }
    }
  });
});

describe('the OpenAI route’s wait timeout', () => {
  it('cancels the prediction, takes its job out of the queue, and charges nothing', async () => {
    const { key, accountId } = await newCustomer('openai-timeout', 10_000);
    // The same worker with a 2 s synchronous wait (OPENAI_WAIT_S) instead of 60 s.
    const shortWait = { ...env, OPENAI_WAIT_S: '2' } as Env;
    const ctx = createExecutionContext();
    const res = await createApp(statusListeners).request(
      `${TEST_ORIGIN}/v1/images/generations`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sd15-tiny-demo', prompt: 'slow', size: '64x64' }),
      },
      shortWait,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'backend-unavailable' } });
    const row = await env.DB.prepare('SELECT id, status FROM predictions WHERE account_id = ?')
      .bind(accountId)
      .first<{ id: string; status: string }>();
    expect(row?.status).toBe('canceled');
    // No backend gets the job any more (a leased one would hear `cancel`: see the cancel test above).
    expect(await workQueueOf(env, 'sd15-tiny-demo').holding([row!.id])).toEqual([]);
    const account = await (await call('/v1/account', auth(key))).json<{ balance: { credits: number; reserved: number } }>();
    expect(account.balance).toEqual({ credits: 10_000, reserved: 0 });
  });
});

describe('Cancel-After', () => {
  it('passes the deadline to the backend, whose heartbeat answers abort once it passed', async () => {
    const { key } = await newCustomer();
    const { res, prediction } = await createPrediction(key, undefined, { 'cancel-after': '5s' });
    expect(res.status).toBe(202);
    const { backend, job } = await waitForJob(prediction.id);
    expect(Date.parse(job.deadline ?? '') - Date.parse(prediction.created_at)).toBeGreaterThanOrEqual(4_900);
    await deliver(backend, prediction.id, { type: 'started' });
    // Heartbeat until the deadline has passed: the answer turns from continue to abort.
    expect(await heartbeatActionOf(prediction.id)).toBe('continue');
    let action = await heartbeatActionOf(prediction.id);
    while (action === 'continue') {
      await new Promise((r) => setTimeout(r, 250));
      action = await heartbeatActionOf(prediction.id);
    }
    expect(action).toBe('abort');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(job.deadline ?? ''));
    // The backend reports the abort itself.
    expect(await (await deliver(backend, prediction.id, { type: 'completed', status: 'aborted', error: 'deadline' })).json()).toEqual({
      result: 'applied',
    });
    expect(await getPrediction(key, prediction.id)).toMatchObject({ status: 'aborted', error: 'Cancel-After deadline passed' });
  });

  it('the reaper aborts a prediction its backend never reported on, and the holder hears abort', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key, undefined, { 'cancel-after': '5s' });
    const { backend, job } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    const deadline = Date.parse(job.deadline ?? '');
    // A pass before deadline + grace leaves it alone; one after aborts it.
    await reapPredictions(env, statusListeners, deadline + DEADLINE_GRACE_MS - 1_000);
    expect((await getPrediction(key, prediction.id)).status).toBe('processing');
    const reaped = await reapPredictions(env, statusListeners, deadline + DEADLINE_GRACE_MS + 1_000);
    expect(reaped.aborted).toBeGreaterThanOrEqual(1);
    expect(await getPrediction(key, prediction.id)).toMatchObject({ status: 'aborted', error: 'Cancel-After deadline passed' });
    expect(await heartbeatActionOf(prediction.id)).toBe('abort');
  });

  it('leaves a prediction that finished before its deadline alone', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key, undefined, { 'cancel-after': '1m' });
    await runToSuccess(prediction.id);
    await reapPredictions(env, statusListeners, Date.now() + 120_000);
    expect((await getPrediction(key, prediction.id)).status).toBe('succeeded');
  });
});
