import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { BackendJob } from '../../shared/internal.js';
import { signInternalRequest } from '../../shared/signing.js';
import { MAX_DISPATCH_ATTEMPTS } from '../src/predictions/transition.js';
import { backends, call, createPrediction, deliver, getPrediction, newCustomer, waitForJob } from './helpers.js';

/** The backend holding attempt `attempt` of a prediction. */
async function waitForAttempt(id: string, attempt: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    for (const backend of backends()) {
      const res = await fetch(`${backend}/_test/jobs/${id}`);
      if (res.ok && (await res.json<{ job: BackendJob }>()).job.attempt === attempt) return backend;
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`attempt ${attempt} of ${id} was not dispatched`);
}

async function ledgerKinds(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT kind FROM credit_ledger WHERE prediction_id = ? ORDER BY id').bind(id).all<{ kind: string }>();
  return results.map((r) => r.kind);
}

describe('work handed back by a backend (retryable completion)', () => {
  it('is dispatched again as a new attempt, keeps its reservation, and is charged once when it succeeds', async () => {
    const { key } = await newCustomer('handback');
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    const handedBack = await deliver(backend, prediction.id, { type: 'completed', status: 'failed', error: 'shutting down', retryable: true });
    expect(await handedBack.json()).toEqual({ result: 'applied' });
    expect((await getPrediction(key, prediction.id)).status).toBe('processing');

    const next = await waitForAttempt(prediction.id, 2);
    await deliver(next, prediction.id, { type: 'started' });
    await deliver(next, prediction.id, { type: 'completed', status: 'succeeded' });
    expect((await getPrediction(key, prediction.id)).status).toBe('succeeded');
    expect(await ledgerKinds(prediction.id)).toEqual(['reserve', 'commit']);
  });

  it(`fails the prediction (and releases its credits) when it is handed back at attempt ${MAX_DISPATCH_ATTEMPTS}`, async () => {
    const { key } = await newCustomer('handback');
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    await env.DB.prepare('UPDATE predictions SET attempt = ?, last_seq = -1 WHERE id = ?').bind(MAX_DISPATCH_ATTEMPTS, prediction.id).run();
    const path = `/internal/predictions/${prediction.id}/events`;
    const body = JSON.stringify({
      type: 'completed', prediction_id: prediction.id, attempt: MAX_DISPATCH_ATTEMPTS, seq: 0, at: new Date().toISOString(),
      status: 'failed', output: null, error: 'backend failed as a whole', metrics: {}, retryable: true,
    });
    const headers = await signInternalRequest(env.INTERNAL_SECRET, 'POST', path, body);
    const res = await call(path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    expect(await res.json()).toEqual({ result: 'applied' });
    expect(await getPrediction(key, prediction.id)).toMatchObject({ status: 'failed', error: `Gave up after ${MAX_DISPATCH_ATTEMPTS} dispatch attempts` });
    expect(await ledgerKinds(prediction.id)).toEqual(['reserve', 'release']);
  });
});
