import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { findModel } from '../../shared/models.js';
import { PredictionInput, resolveInput, type Prediction } from '../../shared/prediction.js';
import { priceFor } from '../../shared/pricing.js';
import { signInternalRequest } from '../../shared/signing.js';
import { checkLedger } from '../src/billing/credits.js';
import { runMaintenance } from '../src/maintenance/scheduled.js';
import { admin, auth, call, createBody, createPrediction, deliver, jsonInit, newCustomer, runToSuccess, waitForJob } from './helpers.js';

/** The price the edge will charge for a create body (the seed does not change the price). */
function priceOf(body: { model: string; input: Record<string, unknown> }): { credits: number; per_image: number } {
  const spec = findModel(body.model);
  if (!spec) throw new Error(`unknown model ${body.model}`);
  return priceFor(
    spec,
    resolveInput(PredictionInput.parse(body.input), spec, () => 1),
  );
}

interface LedgerRow {
  kind: string;
  credits: number;
  amount: number | null;
}

async function ledgerOf(predictionId: string): Promise<LedgerRow[]> {
  const { results } = await env.DB.prepare('SELECT kind, credits, amount FROM credit_ledger WHERE prediction_id = ? ORDER BY id')
    .bind(predictionId)
    .all<LedgerRow>();
  return results;
}

async function balanceOf(key: string): Promise<{ credits: number; reserved: number }> {
  const account = await (await call('/v1/account', auth(key))).json<{ balance: { credits: number; reserved: number } }>();
  return account.balance;
}

async function predictionCount(accountId: string): Promise<number> {
  return (
    (await env.DB.prepare('SELECT COUNT(*) AS n FROM predictions WHERE account_id = ?').bind(accountId).first<{ n: number }>())?.n ?? -1
  );
}

describe('credits', () => {
  const body = createBody({ num_outputs: 2 }) as { model: string; input: Record<string, unknown> };
  const price = priceOf(body);

  it('returns 402 problem when balance is below the price, storing and dispatching nothing', async () => {
    const { accountId, key } = await newCustomer('poor', price.credits - 1);
    const res = await call('/v1/predictions', jsonInit('POST', body, key));
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'insufficient-credits', type: '/problems/insufficient-credits' });
    expect(await predictionCount(accountId)).toBe(0);
    expect(await balanceOf(key)).toEqual({ credits: price.credits - 1, reserved: 0 });
  });

  it('reserves the price at accept and commits per image produced on success', async () => {
    const { accountId, key } = await newCustomer('rich', 1000);
    const { res, prediction } = await createPrediction(key, body);
    expect(res.status).toBe(202);
    expect(prediction.cost.credits).toBe(price.credits);
    expect(await balanceOf(key)).toEqual({ credits: 1000 - price.credits, reserved: price.credits });

    // The backend produces one of the two images: one image is charged, the other released.
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    await deliver(backend, prediction.id, { type: 'completed', status: 'succeeded', images: 1 });
    expect(await ledgerOf(prediction.id)).toEqual([
      { kind: 'reserve', credits: -price.credits, amount: price.credits },
      { kind: 'commit', credits: 0, amount: price.per_image },
      { kind: 'release', credits: price.credits - price.per_image, amount: price.credits - price.per_image },
    ]);
    expect(await balanceOf(key)).toEqual({ credits: 1000 - price.per_image, reserved: 0 });
    expect((await checkLedger(env, accountId)).consistent).toBe(true);
  });

  it.each([
    [
      'a failure',
      async (backend: string, id: string) => {
        await deliver(backend, id, { type: 'started' });
        await deliver(backend, id, { type: 'completed', status: 'failed', error: 'oom' });
      },
    ],
    [
      'a backend abort',
      async (backend: string, id: string) => {
        await deliver(backend, id, { type: 'completed', status: 'aborted', error: 'deadline' });
      },
    ],
  ])('releases the whole hold after %s', async (_, end) => {
    const { key } = await newCustomer('refund', 1000);
    const { prediction } = await createPrediction(key, body);
    const { backend } = await waitForJob(prediction.id);
    await end(backend, prediction.id);
    expect((await ledgerOf(prediction.id)).map((r) => [r.kind, r.credits])).toEqual([
      ['reserve', -price.credits],
      ['release', price.credits],
    ]);
    expect(await balanceOf(key)).toEqual({ credits: 1000, reserved: 0 });
  });

  it('releases the hold when a prediction is canceled before it starts', async () => {
    const { key } = await newCustomer('cancel', 1000);
    const { prediction } = await createPrediction(key, body);
    await waitForJob(prediction.id);
    expect((await call(`/v1/predictions/${prediction.id}/cancel`, auth(key, { method: 'POST' }))).status).toBe(200);
    expect((await ledgerOf(prediction.id)).map((r) => r.kind)).toEqual(['reserve', 'release']);
    expect(await balanceOf(key)).toEqual({ credits: 1000, reserved: 0 });
  });

  it('never commits twice: a repeated completion is a duplicate and a stale attempt changes nothing', async () => {
    const { accountId, key } = await newCustomer('dup', 1000);
    const { prediction } = await createPrediction(key, body);
    const { backend } = await waitForJob(prediction.id);
    await deliver(backend, prediction.id, { type: 'started' });
    expect(await (await deliver(backend, prediction.id, { type: 'completed', status: 'succeeded' })).json()).toEqual({ result: 'applied' });
    expect(await (await deliver(backend, prediction.id, { repeat: true })).json()).toEqual({ result: 'duplicate' });

    // The same completion from an older dispatch attempt, signed like a real callback.
    const path = `/internal/predictions/${prediction.id}/events`;
    const stale = JSON.stringify({
      type: 'completed',
      prediction_id: prediction.id,
      attempt: 9,
      seq: 50,
      at: new Date().toISOString(),
      status: 'failed',
      output: null,
      error: 'x',
      metrics: {},
    });
    const headers = await signInternalRequest(env.INTERNAL_SECRET, 'POST', path, stale);
    const res = await call(path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: stale });
    expect(await res.json()).toEqual({ result: 'stale' });

    expect((await ledgerOf(prediction.id)).map((r) => r.kind)).toEqual(['reserve', 'commit']);
    expect(await balanceOf(key)).toEqual({ credits: 1000 - price.credits, reserved: 0 });
    expect((await checkLedger(env, accountId)).consistent).toBe(true);
  });

  it('releases the reservation when the prediction cannot be stored', async () => {
    const { accountId, key } = await newCustomer('insert-fails', 1000);
    // Make D1 refuse this account's inserts, as a failing database would.
    await env.DB.exec(
      `CREATE TRIGGER refuse_${accountId} BEFORE INSERT ON predictions WHEN NEW.account_id = '${accountId}' BEGIN SELECT RAISE(ABORT, 'refused by test'); END`,
    );
    try {
      const res = await call('/v1/predictions', jsonInit('POST', body, key));
      expect(res.status).toBe(500);
    } finally {
      await env.DB.exec(`DROP TRIGGER refuse_${accountId}`);
    }
    const rows = await env.DB.prepare("SELECT kind, credits FROM credit_ledger WHERE account_id = ? AND kind <> 'topup' ORDER BY id")
      .bind(accountId)
      .all<LedgerRow>();
    expect(rows.results.map((r) => [r.kind, r.credits])).toEqual([
      ['reserve', -price.credits],
      ['release', price.credits],
    ]);
    expect(await balanceOf(key)).toEqual({ credits: 1000, reserved: 0 });
  });

  it('rejects a duplicate (prediction, kind) ledger row at the database', async () => {
    const { accountId, key } = await newCustomer('unique', 1000);
    const { prediction } = await createPrediction(key, body);
    const insert = env.DB.prepare(
      "INSERT INTO credit_ledger (account_id, kind, credits, amount, prediction_id, created_at) VALUES (?, 'reserve', -1, 1, ?, ?)",
    ).bind(accountId, prediction.id, new Date().toISOString());
    await expect(insert.run()).rejects.toThrow(/UNIQUE/);
    await waitForJob(prediction.id);
  });

  it('accepts exactly K of M≫K concurrent creates when the balance covers K, and the ledger balances after all end', async () => {
    const K = 5;
    const M = 40;
    const single = createBody() as { model: string; input: Record<string, unknown> };
    const cost = priceOf(single).credits;
    const { accountId, key } = await newCustomer('race', K * cost);
    const responses = await Promise.all(Array.from({ length: M }, () => call('/v1/predictions', jsonInit('POST', single, key))));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(K);
    expect(statuses.filter((s) => s === 402)).toHaveLength(M - K);
    expect(await predictionCount(accountId)).toBe(K);

    const accepted = await Promise.all(responses.filter((r) => r.status === 202).map((r) => r.json<Prediction>()));
    for (const [i, p] of accepted.entries()) {
      if (i % 2 === 0) await runToSuccess(p.id);
      else {
        const { backend } = await waitForJob(p.id);
        await deliver(backend, p.id, { type: 'completed', status: 'failed', error: 'boom' });
      }
    }
    const succeeded = accepted.filter((_, i) => i % 2 === 0).length;
    const check = await checkLedger(env, accountId);
    expect(check.consistent).toBe(true);
    expect(check.ledger.reserved).toBe(K * cost);
    expect(check.ledger.committed + check.ledger.released).toBe(check.ledger.reserved);
    expect(check.ledger.committed).toBe(succeeded * cost);
    expect(check.ledger.balance).toBe(K * cost - succeeded * cost);
    expect(check.durable_object).toEqual({ balance: K * cost - succeeded * cost, reserved: 0, pending_ledger_rows: 0 });
  });
});

describe('maintenance', () => {
  it('settles the hold of a prediction that ended without its settlement (e.g. the meter was unreachable)', async () => {
    const { accountId, key } = await newCustomer('orphan', 1000);
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    // The prediction ends behind the listeners' back.
    await env.DB.prepare("UPDATE predictions SET status = 'failed', completed_at = ? WHERE id = ?")
      .bind(new Date().toISOString(), prediction.id)
      .run();
    expect((await ledgerOf(prediction.id)).map((r) => r.kind)).toEqual(['reserve']);
    expect((await runMaintenance(env)).settledHolds).toBeGreaterThanOrEqual(1);
    expect((await ledgerOf(prediction.id)).map((r) => r.kind)).toEqual(['reserve', 'release']);
    expect(await runMaintenance(env)).toMatchObject({ settledHolds: 0 });
    expect((await checkLedger(env, accountId)).consistent).toBe(true);
  });
});

describe('GET /v1/account usage and the ledger check', () => {
  it('shows credits held by unfinished predictions and usage per key', async () => {
    const { accountId, keyId, key } = await newCustomer('usage', 1000);
    const second = await (await admin('POST', `/admin/accounts/${accountId}/keys`, { name: 'second' })).json<{ id: string; key: string }>();
    const first = (await createPrediction(key)).prediction;
    await runToSuccess(first.id);
    const pending = (await createPrediction(second.key)).prediction;
    const account = await (await call('/v1/account', auth(key))).json<{
      balance: { credits: number; reserved: number };
      usage: {
        today: { credits: number };
        this_month: { credits: number };
        by_key_this_month: { key_id: string; predictions: number; credits: number }[];
      };
    }>();
    expect(account.balance).toEqual({ credits: 1000 - first.cost.credits - pending.cost.credits, reserved: pending.cost.credits });
    expect(account.usage.today.credits).toBe(first.cost.credits);
    expect(account.usage.by_key_this_month).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key_id: keyId, predictions: 1, credits: first.cost.credits }),
        expect.objectContaining({ key_id: second.id, predictions: 1, credits: 0 }),
      ]),
    );
    const check = await admin('GET', `/admin/accounts/${accountId}/ledger/check`);
    expect(check.status).toBe(200);
    expect(await check.json()).toMatchObject({
      consistent: true,
      durable_object: { reserved: pending.cost.credits },
      ledger: { outstanding: pending.cost.credits },
    });
    await waitForJob(pending.id);
  });

  it('reports an inconsistency when the ledger was changed behind the meter', async () => {
    const { accountId } = await newCustomer('tampered', 100);
    await env.DB.prepare("INSERT INTO credit_ledger (account_id, kind, credits, created_at) VALUES (?, 'topup', 5, ?)")
      .bind(accountId, new Date().toISOString())
      .run();
    const check = await checkLedger(env, accountId);
    expect(check.consistent).toBe(false);
    expect(check.durable_object.balance).toBe(100);
    expect(check.ledger.balance).toBe(105);
  });
});
