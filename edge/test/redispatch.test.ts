import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_DISPATCH_ATTEMPTS } from '../src/predictions/transition.js';
import { createPrediction, deliver, getPrediction, heartbeatActionOf, newCustomer, signedCall, waitForJob } from './helpers.js';

async function ledgerKinds(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT kind FROM credit_ledger WHERE prediction_id = ? ORDER BY id')
    .bind(id)
    .all<{ kind: string }>();
  return results.map((r) => r.kind);
}

describe('work handed back by a backend (retryable completion)', () => {
  it('is queued again and leased as a new attempt, keeps its reservation, and is charged once when it succeeds', async () => {
    const { key } = await newCustomer('handback');
    const { prediction } = await createPrediction(key);
    const first = await waitForJob(prediction.id);
    await deliver(first.backend, prediction.id, { type: 'started' });
    const handedBack = await deliver(first.backend, prediction.id, {
      type: 'completed',
      status: 'failed',
      error: 'shutting down',
      retryable: true,
    });
    expect(await handedBack.json()).toEqual({ result: 'applied' });
    expect((await getPrediction(key, prediction.id)).status).toBe('processing');

    const next = await waitForJob(prediction.id, first.job.attempt);
    expect(next.job.attempt).toBe(first.job.attempt + 1);
    await deliver(next.backend, prediction.id, { type: 'started' });
    await deliver(next.backend, prediction.id, { type: 'completed', status: 'succeeded' });
    expect((await getPrediction(key, prediction.id)).status).toBe('succeeded');
    expect(await ledgerKinds(prediction.id)).toEqual(['reserve', 'commit']);
    // The finished job left the queue: its old lease is lost.
    expect(await heartbeatActionOf(prediction.id)).toBe('lost');
  });

  it(`fails the prediction (and releases its credits) when it is handed back at attempt ${MAX_DISPATCH_ATTEMPTS}`, async () => {
    const { key } = await newCustomer('handback');
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    await env.DB.prepare('UPDATE predictions SET attempt = ?, last_seq = -1 WHERE id = ?').bind(MAX_DISPATCH_ATTEMPTS, prediction.id).run();
    const path = `/internal/predictions/${prediction.id}/events`;
    const res = await signedCall('POST', path, {
      type: 'completed',
      prediction_id: prediction.id,
      attempt: MAX_DISPATCH_ATTEMPTS,
      seq: 0,
      at: new Date().toISOString(),
      status: 'failed',
      output: null,
      error: 'backend failed as a whole',
      metrics: {},
      retryable: true,
    });
    expect(await res.json()).toEqual({ result: 'applied' });
    expect(await getPrediction(key, prediction.id)).toMatchObject({
      status: 'failed',
      error: `Gave up after ${MAX_DISPATCH_ATTEMPTS} dispatch attempts`,
    });
    expect(await ledgerKinds(prediction.id)).toEqual(['reserve', 'release']);
  });
});
