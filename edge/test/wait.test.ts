import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { auth, call, createBody, createPrediction, newCustomer, runToSuccess, waitForJob } from './helpers.js';

describe('Prefer: wait', () => {
  it('returns 201 with the finished prediction when it ends within the wait', async () => {
    const { key } = await newCustomer();
    const pending = createPrediction(key, createBody({ seed: 42 }), { prefer: 'wait=20' });
    // The request is parked at the edge; complete the job meanwhile.
    const jobs = await findNewestJob(key);
    await runToSuccess(jobs);
    const { res, prediction } = await pending;
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('wait=20');
    expect(prediction.status).toBe('succeeded');
    expect(prediction.output).toHaveLength(1);
  });

  it('returns 202 with the unfinished prediction and Location after the wait runs out', async () => {
    const { key } = await newCustomer();
    const started = Date.now();
    const { res, prediction } = await createPrediction(key, createBody(), { prefer: 'wait=1' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    expect(res.headers.get('location')).toBe(prediction.urls.get);
    expect(['starting', 'processing']).toContain(prediction.status);
  });

  it('caps the wait at 60 s', async () => {
    const { key } = await newCustomer();
    const pending = createPrediction(key, createBody(), { prefer: 'wait=600' });
    await runToSuccess(await findNewestJob(key));
    const { res } = await pending;
    expect(res.headers.get('preference-applied')).toBe('wait=60');
  });
});

/** Id of the caller's newest prediction once it exists and was dispatched. */
async function findNewestJob(key: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const res = await call('/v1/predictions?limit=1', auth(key));
    const [newest] = (await res.json<{ results: Prediction[] }>()).results;
    if (newest) {
      await waitForJob(newest.id);
      return newest.id;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no prediction appeared');
}
