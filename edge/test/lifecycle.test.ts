import { describe, expect, it } from 'vitest';
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
