/**
 * Faults on the real local stack: the GPU backend killed mid-prediction and restarted, storage down while the
 * backend uploads. The killed backend's lease is not renewed, expires (`LEASE_TTL_S` of the local stack) and the
 * job is leased again as the next attempt.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { balance, call, eventually, tinyRequest, waitForEnd, type PredictionJson } from './helpers/api.js';
import { backendMetric, LEASES_RECEIVED } from './helpers/backend-metrics.js';
import { useStack } from './helpers/stack-fixture.js';

const h = useStack();

describe('GPU backend killed mid-prediction', () => {
  it("leases the prediction again once the killed attempt's lease expires; it succeeds exactly once and is charged once", async () => {
    const before = await balance(h.stack);
    const created = await call<PredictionJson>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ width: 512, height: 512, num_inference_steps: 40, deepcache: false }),
    );
    expect(created.status).toBe(202);
    await eventually('the first attempt to run', async () =>
      (await call<PredictionJson>(h.stack, 'GET', `/v1/predictions/${created.body.id}`)).body.status === 'processing' ? true : undefined,
    );

    const first = h.stack.backend.current();
    first.signal('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await h.stack.backend.restart();

    const done = await waitForEnd(h.stack, created.body.id);
    expect(done.status).toBe('succeeded');
    // The restarted process ran it: it received the job under a new lease (its counters start at zero; a busy
    // machine may let a lease lapse once more, and the same process then takes the job back as a later attempt).
    expect(await backendMetric(h.stack.backend, h.stack.internalSecret, LEASES_RECEIVED)).toBeGreaterThanOrEqual(1);
    const image = await fetch(done.output![0]!);
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width).toBe(512);
    // One terminal state that stays put, one charge.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await call<PredictionJson>(h.stack, 'GET', `/v1/predictions/${created.body.id}`)).body.status).toBe('succeeded');
    expect(await balance(h.stack)).toBe(before - done.cost.credits);
  });
});

describe('storage down during the upload', () => {
  it('fails the prediction cleanly and releases its credits', async () => {
    const before = await balance(h.stack);
    await h.stack.s3.stop();
    try {
      const created = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ seed: 11 }));
      expect(created.status).toBe(202);
      const done = await waitForEnd(h.stack, created.body.id);
      expect(done.status).toBe('failed');
      expect(done.output ?? []).toEqual([]);
      expect(done.error).toBeTruthy();
      expect(await eventually('credits released', async () => ((await balance(h.stack)) === before ? true : undefined))).toBe(true);
    } finally {
      await h.stack.s3.start();
    }
    // Storage is back: the next prediction succeeds.
    const again = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ seed: 12 }), { prefer: 'wait=60' });
    expect(again.body.status).toBe('succeeded');
  });
});
