import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { signInternalRequest } from '../../shared/signing.js';
import { call, createPrediction, deliver, getPrediction, newCustomer, waitForJob } from './helpers.js';

describe('prediction lifecycle', () => {
  it('goes starting → processing → succeeded with presigned output URLs that fetch the PNG', async () => {
    const { key } = await newCustomer();
    const { res, prediction } = await createPrediction(key);
    expect(res.status).toBe(202);
    expect(prediction.status).toBe('starting');
    expect(res.headers.get('location')).toBe(prediction.urls.get);
    expect(prediction.cost.credits).toBeGreaterThan(0);

    const { backend, job } = await waitForJob(prediction.id);
    expect(job.input.num_inference_steps).toBe(6);
    expect((await deliver(backend, prediction.id, { type: 'started' })).status).toBe(200);
    expect((await getPrediction(key, prediction.id)).status).toBe('processing');
    await deliver(backend, prediction.id, { type: 'progress', step: 2, total: 6 });
    expect((await getPrediction(key, prediction.id)).progress).toEqual({ step: 2, total: 6 });
    await deliver(backend, prediction.id, { type: 'completed', status: 'succeeded' });

    const done = await getPrediction(key, prediction.id);
    expect(done.status).toBe('succeeded');
    expect(done.output).toHaveLength(1);
    expect(done.metrics.unet_full_steps).toBe(2);
    const image = await fetch(done.output?.[0] ?? '');
    expect(image.status).toBe(200);
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect([...bytes.slice(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
  });

  it('answers x-request-id on every response', async () => {
    const res = await call('/v1/models');
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

describe('terminal states', () => {
  it.each([
    // The backend's own text goes to the logs; the prediction carries the public message of its status.
    ['failed', 'out of memory', 'The generation failed on the GPU backend'],
    ['aborted', 'deadline passed', 'Cancel-After deadline passed'],
  ] as const)('records %s with its public error and no output', async (status, backendError, error) => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    await deliver(backend, prediction.id, { type: 'completed', status, error: backendError });
    const done = await getPrediction(key, prediction.id);
    expect(done).toMatchObject({ status, error, output: null });
    expect(done.completed_at).not.toBeNull();
  });

  it('never leaves a terminal state: later events are refused and change nothing', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'completed', status: 'failed', error: 'boom' });
    const late = await deliver(backend, prediction.id, { type: 'completed', status: 'succeeded' });
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({ result: 'refused' });
    expect((await getPrediction(key, prediction.id)).status).toBe('failed');
  });

  it('ignores a repeated callback (same attempt and seq) as a duplicate', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    await deliver(backend, prediction.id, { type: 'progress', step: 3, total: 6 });
    const again = await deliver(backend, prediction.id, { repeat: true });
    expect(await again.json()).toEqual({ result: 'duplicate' });
    await deliver(backend, prediction.id, { type: 'completed', status: 'succeeded' });
    expect(await (await deliver(backend, prediction.id, { repeat: true })).json()).toEqual({ result: 'duplicate' });
    expect((await getPrediction(key, prediction.id)).status).toBe('succeeded');
  });

  it('ignores events of another dispatch attempt as stale', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    const path = `/internal/predictions/${prediction.id}/events`;
    const body = JSON.stringify({ type: 'started', prediction_id: prediction.id, attempt: 7, seq: 0, at: new Date().toISOString() });
    const headers = await signInternalRequest(env.INTERNAL_SECRET, 'POST', path, body);
    const res = await call(path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    expect(await res.json()).toEqual({ result: 'stale' });
    expect((await getPrediction(key, prediction.id)).status).toBe('starting');
  });

  it('refuses unsigned callbacks and callbacks for another prediction', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const body = JSON.stringify({ type: 'started', prediction_id: prediction.id, attempt: 1, seq: 0, at: new Date().toISOString() });
    const unsigned = await call(`/internal/predictions/${prediction.id}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    const otherPath = '/internal/predictions/zzzzzzzzzzzzzzzzzzzz/events';
    const headers = await signInternalRequest(env.INTERNAL_SECRET, 'POST', otherPath, body);
    const mismatch = await call(otherPath, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    expect(mismatch.status).toBe(422);
  });
});
