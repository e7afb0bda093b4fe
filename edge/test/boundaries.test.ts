/**
 * Secrets and boundaries (issue #14, item 7): the internal secret rotates without downtime, the edge presigns only
 * keys under the prediction's own prefix, and customers never see a backend's own error text.
 * @module
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { signInternalRequest } from '../../shared/signing.js';
import { createApp } from '../src/app.js';
import { statusListeners } from '../src/index.js';
import { TEST_INTERNAL_SECRET, TEST_ORIGIN, TEST_PREFIX } from './constants.js';
import { auth, call, createPrediction, deliver, getPrediction, newCustomer, waitForJob } from './helpers.js';

async function callWith(vars: Record<string, string>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp(statusListeners).request(`${TEST_ORIGIN}${path}`, init, { ...env, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('internal secret rotation', () => {
  it('accepts callbacks signed with the previous secret while INTERNAL_SECRET_PREVIOUS is set, and refuses them after', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { job } = await waitForJob(prediction.id);
    const path = `/internal/predictions/${prediction.id}/events`;
    const body = JSON.stringify({
      type: 'started',
      prediction_id: prediction.id,
      attempt: job.attempt,
      seq: 0,
      at: new Date().toISOString(),
    });
    // The backend still signs with the old secret (TEST_INTERNAL_SECRET); the edge already has a new one.
    const headers = { ...(await signInternalRequest(TEST_INTERNAL_SECRET, 'POST', path, body)), 'content-type': 'application/json' };
    const newSecret = 'rotated-internal-secret-0123456789';
    const refused = await callWith({ INTERNAL_SECRET: newSecret }, path, { method: 'POST', headers, body });
    expect(refused.status).toBe(401);
    const during = await callWith({ INTERNAL_SECRET: newSecret, INTERNAL_SECRET_PREVIOUS: TEST_INTERNAL_SECRET }, path, {
      method: 'POST',
      headers,
      body,
    });
    expect(during.status).toBe(200);
    expect(await during.json()).toEqual({ result: 'applied' });
    expect((await getPrediction(key, prediction.id)).status).toBe('processing');
  });
});

describe('output keys', () => {
  it('fails (and charges nothing for) a completion whose keys lie outside the prediction’s prefix', async () => {
    const { accountId, key } = await newCustomer('keys', 1_000);
    const victim = await createPrediction(key);
    await waitForJob(victim.prediction.id);
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    // A backend that reports another prediction's objects as this one's output.
    const res = await deliver(backend, prediction.id, {
      type: 'completed',
      status: 'succeeded',
      key_prefix: `${TEST_PREFIX}/${victim.prediction.id}`,
    });
    expect(await res.json()).toEqual({ result: 'applied' });
    const after = await getPrediction(key, prediction.id);
    expect(after).toMatchObject({ status: 'failed', output: null, error: 'The generation failed on the GPU backend' });
    expect(JSON.stringify(after)).not.toContain(victim.prediction.id);
    const ledger = await env.DB.prepare('SELECT kind FROM credit_ledger WHERE prediction_id = ? ORDER BY id')
      .bind(prediction.id)
      .all<{ kind: string }>();
    expect(ledger.results.map((r) => r.kind)).toEqual(['reserve', 'release']);
    expect(accountId).toBeTruthy();
  });
});

describe('customer-visible errors', () => {
  it('never carry the backend’s error text (hostnames, paths, runtime messages): the detail goes to the logs', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    const leak = 'pipeline error: ENOENT open /srv/models/unet.onnx on gpu-7.internal.example:8790';
    await deliver(backend, prediction.id, { type: 'completed', status: 'failed', error: leak });
    const seen = await getPrediction(key, prediction.id);
    expect(seen).toMatchObject({ status: 'failed', error: 'The generation failed on the GPU backend' });
    const listed = await (await call('/v1/predictions?limit=5', auth(key))).text();
    for (const text of [JSON.stringify(seen), listed]) {
      expect(text).not.toContain('gpu-7.internal');
      expect(text).not.toContain('ENOENT');
      expect(text).not.toContain(new URL(backend).host);
    }
  });
});
