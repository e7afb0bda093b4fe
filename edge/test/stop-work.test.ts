/**
 * Every path that ends a prediction early stops its work on the backend (issue #14, item 1): the OpenAI route's
 * wait timeout, cancel, Cancel-After, and a cancel that lands between the dispatch claim and the PUT. The fake
 * backends never finish a job by themselves: a job left running would run (unpaid) forever.
 * @module
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { createApp } from '../src/app.js';
import { TEST_ORIGIN } from './constants.js';
import { auth, backends, call, createPrediction, newCustomer, setBackendMode, waitForCancelAtBackend, waitForJob } from './helpers.js';

async function rowOf(id: string): Promise<{ status: string; attempt: number; backend: string | null }> {
  const row = await env.DB.prepare('SELECT status, attempt, backend FROM predictions WHERE id = ?').bind(id).first<{ status: string; attempt: number; backend: string | null }>();
  if (!row) throw new Error(`no prediction ${id}`);
  return row;
}

/**
 * After a prediction ended at the edge: either it was never claimed for dispatch (attempt 0 and terminal, so no
 * claim can follow), or the backend that got it received a cancel.
 */
async function expectNoWorkLeft(id: string): Promise<'never-dispatched' | 'canceled-at-backend'> {
  const row = await rowOf(id);
  expect(['canceled', 'aborted', 'failed']).toContain(row.status);
  if (row.attempt === 0) return 'never-dispatched';
  await waitForJob(id, 15_000);
  expect(await waitForCancelAtBackend(id, 15_000)).toBe(true);
  return 'canceled-at-backend';
}

afterEach(async () => {
  for (const backend of backends()) {
    await setBackendMode(backend, 'ready');
    await fetch(`${backend}/_test/release`, { method: 'POST' }).then((r) => r.body?.cancel());
  }
});

describe('stopping the GPU work of predictions ended early', () => {
  it('the OpenAI route cancels at the backend when its wait ends, and charges nothing', async () => {
    const { key } = await newCustomer('openai-timeout', 10_000);
    // The same worker with a 2 s synchronous wait (OPENAI_WAIT_S) instead of 60 s.
    const shortWait = { ...env, OPENAI_WAIT_S: '2' } as Env;
    const ctx = createExecutionContext();
    const res = await createApp().request(
      `${TEST_ORIGIN}/v1/images/generations`,
      { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sd15-tiny-demo', prompt: 'slow', size: '64x64' }) },
      shortWait,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'backend-unavailable' } });
    const [newest] = (await (await call('/v1/predictions?limit=1', auth(key))).json<{ results: Prediction[] }>()).results;
    expect(newest?.status).toBe('canceled');
    await expectNoWorkLeft(newest!.id);
    const account = await (await call('/v1/account', auth(key))).json<{ balance: { credits: number; reserved: number } }>();
    expect(account.balance).toEqual({ credits: 10_000, reserved: 0 });
  });

  it('a cancel that arrives between the dispatch claim and the backend’s answer still reaches the backend', async () => {
    const { key } = await newCustomer();
    for (const backend of backends()) await setBackendMode(backend, 'hold');
    const { prediction } = await createPrediction(key);
    // The backend has the PUT but has not answered: the edge does not know which backend holds the job yet.
    await waitForJob(prediction.id);
    expect((await rowOf(prediction.id)).backend).toBeNull();
    const canceled = await call(`/v1/predictions/${prediction.id}/cancel`, auth(key, { method: 'POST' }));
    expect(canceled.status).toBe(200);
    expect((await waitForJob(prediction.id)).cancelRequested).toBe(false);
    for (const backend of backends()) await fetch(`${backend}/_test/release`, { method: 'POST' }).then((r) => r.body?.cancel());
    expect(await waitForCancelAtBackend(prediction.id, 15_000)).toBe(true);
    expect((await rowOf(prediction.id)).status).toBe('canceled');
  });

  it('cancel stops the work at the backend that holds the job', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    for (let i = 0; i < 200 && (await rowOf(prediction.id)).backend === null; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await call(`/v1/predictions/${prediction.id}/cancel`, auth(key, { method: 'POST' }))).status).toBe(200);
    expect(await expectNoWorkLeft(prediction.id)).toBe('canceled-at-backend');
  });
});
