/**
 * A mixed run on the real stack (issue #14): plain creates, multi-image creates, cancels of running predictions,
 * OpenAI-route timeouts, Cancel-After aborts, idempotent retries and an injected storage fault, all in one account.
 * Afterwards every prediction has ended exactly once (terminal, and the ledger has settled every hold exactly once:
 * reserved = committed + released, nothing outstanding), no canceled or timed-out prediction is still running on
 * the GPU backend, and the credits spent equal the images delivered times their price.
 */
import { describe, expect, it } from 'vitest';
import { balance, call, eventually, tinyRequest, waitForEnd, type PredictionJson } from './helpers/api.js';
import { backendMetric, LEASE_ACTIONS, LEASES_HELD, RUNNING } from './helpers/backend-metrics.js';
import { useStack } from './helpers/stack-fixture.js';

const h = useStack({ edgeVars: { OPENAI_WAIT_S: '2' } });

/** A prediction that runs long enough on the CPU to be canceled while it runs. */
const slow = (seed: number) => tinyRequest({ width: 512, height: 512, num_inference_steps: 60, deepcache: false, seed });

const apiStatus = async (id: string): Promise<string> => (await call<PredictionJson>(h.stack, 'GET', `/v1/predictions/${id}`)).body.status;
const metric = (name: string, labels: Record<string, string> = {}) => backendMetric(h.stack.backend, h.stack.internalSecret, name, labels);

describe('a mixed run of creates, cancels, timeouts, retries and faults', () => {
  it('ends every prediction exactly once; the ledger equals the images delivered times their price', async () => {
    const before = await balance(h.stack);
    const ids = new Set<string>();
    const create = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', body, headers);
      expect([201, 202]).toContain(res.status);
      ids.add(res.body.id);
      return res.body;
    };

    // Plain and multi-image creates.
    for (let i = 0; i < 3; i++) await create(tinyRequest({ seed: 100 + i }));
    await create(tinyRequest({ seed: 200, num_outputs: 2 }));
    // Retries with one Idempotency-Key: one prediction.
    const retried = await Promise.all(
      [0, 1, 2].map(async (i) => {
        await new Promise((r) => setTimeout(r, i * 300));
        return call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ seed: 300 }), { 'idempotency-key': 'mixed-retry' });
      }),
    );
    const retriedIds = new Set(retried.filter((r) => r.status === 202 || r.status === 201).map((r) => r.body.id));
    expect(retriedIds.size).toBe(1);
    for (const id of retriedIds) ids.add(id);

    // Cancels of a running prediction: the backend stops it.
    const toCancel = await create(slow(400));
    await eventually('the prediction to run', async () => ((await apiStatus(toCancel.id)) === 'processing' ? true : undefined), 120_000);
    expect((await call(h.stack, 'POST', `/v1/predictions/${toCancel.id}/cancel`)).status).toBe(200);

    // The OpenAI route's wait (2 s here) ends: the prediction is canceled at the backend too.
    const openai = await call<{ error: { code: string } }>(h.stack, 'POST', '/v1/images/generations', {
      model: 'sd15-tiny-demo',
      prompt: 'slow',
      size: '512x512',
      num_inference_steps: 60,
      deepcache: false,
    });
    expect(openai.status).toBe(503);
    const listed = await call<{ results: PredictionJson[] }>(h.stack, 'GET', '/v1/predictions?limit=1');
    const timedOut = listed.body.results[0]!;
    ids.add(timedOut.id);

    // Cancel-After: aborted at its deadline.
    const deadline = await create(slow(500), { 'cancel-after': '5s' });

    // A storage fault while one prediction uploads: it fails, uncharged.
    const finished = await Promise.all([...ids].map((id) => waitForEnd(h.stack, id, 300_000)));
    await h.stack.s3.stop();
    let faulted: PredictionJson;
    try {
      faulted = await create(tinyRequest({ seed: 600 }));
      await waitForEnd(h.stack, faulted.id, 120_000);
    } finally {
      await h.stack.s3.start();
    }
    await create(tinyRequest({ seed: 700 }));

    const all = await Promise.all([...ids].map((id) => waitForEnd(h.stack, id, 300_000)));
    expect(finished.length).toBeGreaterThan(0);
    const byId = new Map(all.map((p) => [p.id, p]));
    expect(byId.get(toCancel.id)?.status).toBe('canceled');
    expect(byId.get(timedOut.id)?.status).toBe('canceled');
    expect(byId.get(deadline.id)?.status).toBe('aborted');
    expect(byId.get(faulted!.id)?.status).toBe('failed');

    // No canceled or timed-out prediction keeps running on the GPU backend: the running cancel reached it (a
    // heartbeat answered `cancel`), and with every prediction ended it holds no lease and runs nothing.
    expect(await metric(LEASE_ACTIONS, { action: 'cancel' })).toBeGreaterThanOrEqual(1);
    await eventually(
      'the backend to hold and run nothing',
      async () => ((await metric(LEASES_HELD)) === 0 && (await metric(RUNNING)) === 0 ? true : undefined),
      60_000,
    );

    // Terminal states stay put.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const p of all) expect((await call<PredictionJson>(h.stack, 'GET', `/v1/predictions/${p.id}`)).body.status).toBe(p.status);

    // The ledger: every hold settled exactly once, and the credits spent = images delivered × price per image.
    const check = await call<{
      consistent: boolean;
      ledger: { reserved: number; committed: number; released: number; outstanding: number };
    }>(h.stack, 'GET', `/admin/accounts/${h.stack.accountId}/ledger/check`, undefined, { authorization: `Bearer ${h.stack.adminToken}` });
    expect(check.body.consistent).toBe(true);
    expect(check.body.ledger.outstanding).toBe(0);
    expect(check.body.ledger.reserved).toBe(check.body.ledger.committed + check.body.ledger.released);
    const delivered = all
      .filter((p) => p.status === 'succeeded')
      .reduce((sum, p) => {
        const { num_outputs: requested } = (p as PredictionJson & { input: { num_outputs: number } }).input;
        expect(p.output!.length).toBeGreaterThan(0);
        return sum + p.output!.length * (p.cost.credits / requested);
      }, 0);
    expect(before - (await balance(h.stack))).toBe(delivered);
    expect(check.body.ledger.committed).toBe(delivered);
    console.log(
      JSON.stringify({
        mixed_run: {
          predictions: all.length,
          by_status: Object.fromEntries(
            ['succeeded', 'failed', 'canceled', 'aborted'].map((s) => [s, all.filter((p) => p.status === s).length]),
          ),
          credits_spent: delivered,
          ledger: check.body.ledger,
        },
      }),
    );
  }, 900_000);
});
