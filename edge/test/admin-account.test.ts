import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { branchRange, modelCatalog } from '../../shared/models.js';
import type { Prediction } from '../../shared/prediction.js';
import { admin, auth, call, createBody, createPrediction, jsonInit, newCustomer, runToSuccess } from './helpers.js';

describe('admin routes', () => {
  it('creates accounts and keys; the key is shown once and only listed without its secret', async () => {
    const { accountId, keyId, key } = await newCustomer('acme');
    expect(key).toMatch(/^sdk_[a-z0-9]{12}_[A-Za-z0-9]{32}$/);
    const listed = await (await admin('GET', `/admin/accounts/${accountId}/keys`)).json<{ data: Record<string, unknown>[] }>();
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({ id: keyId, revoked_at: null });
    expect(JSON.stringify(listed)).not.toContain(key.split('_')[2]);
  });

  it('revokes a key so that it is refused, idempotently', async () => {
    const { keyId, key } = await newCustomer();
    expect((await call('/v1/models', auth(key))).status).toBe(200);
    const revoked = await admin('POST', `/admin/keys/${keyId}/revoke`);
    expect(revoked.status).toBe(200);
    const first = (await revoked.json<{ revoked_at: string }>()).revoked_at;
    const again = await (await admin('POST', `/admin/keys/${keyId}/revoke`)).json<{ revoked_at: string }>();
    expect(again.revoked_at).toBe(first);
    const res = await call('/v1/predictions', jsonInit('POST', createBody(), key));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'unauthorized', detail: 'This API key has been revoked' });
  });

  it('applies a top-up once per Idempotency-Key: a retried POST credits nothing more, another amount is refused', async () => {
    const { accountId, key } = await newCustomer('topup-idem', 0);
    const topUp = (credits: number, idem: string) =>
      call(
        `/admin/accounts/${accountId}/credits`,
        jsonInit('POST', { credits, note: 'invoice 42' }, env.ADMIN_TOKEN, { 'idempotency-key': idem }),
      );
    const first = await topUp(300, '"invoice-42"');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await topUp(300, '"invoice-42"');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toMatchObject({ balance: { credits: 300 } });
    const other = await topUp(900, '"invoice-42"');
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'idempotency-key-mismatch' });
    expect((await topUp(5, '"invoice-43"')).status).toBe(201);
    expect(await (await call('/v1/account', auth(key))).json()).toMatchObject({ balance: { credits: 305 } });
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM credit_ledger WHERE account_id = ? AND kind = 'topup'")
      .bind(accountId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(2);
    const bad = await topUp(1, '');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ pointer: '/headers/idempotency-key' }] });
  });

  it('tops up credits as ledger rows; the balance is their sum', async () => {
    const { accountId, key } = await newCustomer('topup', 0);
    await admin('POST', `/admin/accounts/${accountId}/credits`, { credits: 500, note: 'welcome' });
    const after = await admin('POST', `/admin/accounts/${accountId}/credits`, { credits: 250 });
    expect(after.status).toBe(201);
    expect(await after.json()).toMatchObject({ balance: { credits: 750 } });
    expect(await (await call('/v1/account', auth(key))).json()).toMatchObject({ balance: { credits: 750 } });
  });

  it.each([
    ['a missing token', undefined],
    ['a customer API key', 'customer'],
  ])('returns 401 problem for %s', async (_, token) => {
    const customer = await newCustomer();
    const init = token === undefined ? {} : auth(customer.key);
    const res = await call('/admin/accounts', init);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('answers 404 problem for an unknown account and 422 for a bad top-up', async () => {
    expect((await admin('POST', '/admin/accounts/acct_0000000000000000/keys', { name: 'x' })).status).toBe(404);
    const { accountId } = await newCustomer();
    const bad = await admin('POST', `/admin/accounts/${accountId}/credits`, { credits: -5 });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ errors: [{ pointer: '/credits' }] });
  });
});

describe('GET /v1/account', () => {
  it('shows usage this month for the account and for the calling key', async () => {
    const { accountId, key } = await newCustomer();
    const second = await (await admin('POST', `/admin/accounts/${accountId}/keys`, { name: 'second' })).json<{ key: string }>();
    const { prediction } = await createPrediction(key, createBody({ num_outputs: 2 }));
    await runToSuccess(prediction.id);
    await createPrediction(second.key);
    const mine = await (await call('/v1/account', auth(key))).json<{ usage: Record<string, Record<string, number>> }>();
    expect(mine.usage.this_month).toMatchObject({ predictions: 2, succeeded: 1, images: 2, credits: prediction.cost.credits });
    expect(mine.usage.this_key_this_month).toMatchObject({ predictions: 1, succeeded: 1, images: 2 });
  });
});

describe('GET /v1/models', () => {
  it('lists every served model with its sizes, schedulers and DeepCache branch range', async () => {
    const { key } = await newCustomer();
    const res = await call('/v1/models', auth(key));
    const { data } = await res.json<{
      data: { id: string; deepcache: { cache_branch_id: { min: number; max: number } }; default_price_per_image: number }[];
    }>();
    const served = modelCatalog.filter((m) => env.SERVED_MODELS.split(',').includes(m.id));
    expect(served.length).toBeGreaterThan(1);
    expect(data.map((m) => m.id)).toEqual(served.map((m) => m.id));
    for (const spec of served) {
      expect(data.find((m) => m.id === spec.id)?.deepcache.cache_branch_id).toEqual(branchRange(spec));
    }
    expect(data.find((m) => m.id === 'stable-diffusion-xl-base-1.0')?.deepcache.cache_branch_id.max).toBe(8);
  });

  it('prices a default request as the listed price per image', async () => {
    const { key } = await newCustomer();
    const { data } = await (await call('/v1/models', auth(key))).json<{ data: { id: string; default_price_per_image: number }[] }>();
    const res = await call('/v1/predictions', jsonInit('POST', { model: 'sd15-tiny-demo', input: { prompt: 'x' } }, key));
    const prediction = await res.json<Prediction>();
    expect(prediction.cost.credits).toBe(data.find((m) => m.id === 'sd15-tiny-demo')?.default_price_per_image);
  });
});

describe('cross-cutting HTTP behaviour', () => {
  it('sets secure headers and answers unknown routes with a not-found problem', async () => {
    const res = await call('/v1/nope');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const unknown = await call('/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(await unknown.json()).toMatchObject({ type: '/problems/not-found', instance: '/nothing-here' });
  });
});
