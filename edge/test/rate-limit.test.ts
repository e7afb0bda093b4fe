import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { admin, auth, call, createBody, jsonInit, newCustomer, runToSuccess, waitForJob } from './helpers.js';

async function setLimits(accountId: string, limits: { requests_per_minute: number; concurrent_predictions: number }): Promise<void> {
  const res = await admin('PUT', `/admin/accounts/${accountId}/limits`, limits);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ limits, source: 'account' });
}

describe('per-key rate limits', () => {
  it('sends RateLimit-Policy and RateLimit on every response of limited routes, errors included', async () => {
    const { key } = await newCustomer('rl');
    for (const res of [
      await call('/v1/models', auth(key)),
      await call('/v1/predictions/zzzzzzzzzzzzzzzzzzzz', auth(key)),
      await call('/v1/account', auth(key)),
    ]) {
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=10000;w=60, "concurrency";q=1000;qu="concurrent-requests"');
      expect(res.headers.get('ratelimit')).toMatch(/^"default";r=\d+;t=\d+, "concurrency";r=\d+$/);
    }
  });

  it('returns 429 rate-limited with Retry-After once a key has used its requests per minute, per key', async () => {
    const { accountId, key } = await newCustomer('rl');
    const other = await (await admin('POST', `/admin/accounts/${accountId}/keys`, { name: 'other' })).json<{ key: string }>();
    await setLimits(accountId, { requests_per_minute: 3, concurrent_predictions: 5 });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call('/v1/models', auth(key));
      expect(res.status).toBe(200);
      remaining.push(/r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1] ?? '?');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await call('/v1/models', auth(key));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ code: 'rate-limited', status: 429 });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit')).toBe(`"default";r=0;t=${retryAfter}, "concurrency";r=5`);
    expect(refused.headers.get('ratelimit-policy')).toContain('"default";q=3;w=60');
    // Another key of the same account has its own window.
    expect((await call('/v1/models', auth(other.key))).status).toBe(200);
  });

  it('returns 429 quota-exceeded when the key runs its maximum of concurrent predictions, until one ends', async () => {
    const { accountId, key } = await newCustomer('rl');
    await setLimits(accountId, { requests_per_minute: 100, concurrent_predictions: 1 });
    const first = await call('/v1/predictions', jsonInit('POST', createBody(), key));
    expect(first.status).toBe(202);
    const second = await call('/v1/predictions', jsonInit('POST', createBody(), key));
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ code: 'quota-exceeded' });
    expect(second.headers.get('retry-after')).toBe('5');
    await runToSuccess((await first.json<Prediction>()).id);
    const third = await call('/v1/predictions', jsonInit('POST', createBody(), key));
    expect(third.status).toBe(202);
    await waitForJob((await third.json<Prediction>()).id);
  });

  it('answers 429 in OpenAI’s error shape on the OpenAI route', async () => {
    const { accountId, key } = await newCustomer('rl');
    await setLimits(accountId, { requests_per_minute: 1, concurrent_predictions: 1 });
    await call('/v1/models', auth(key));
    const res = await call('/v1/images/generations', jsonInit('POST', { model: 'sd15-tiny-demo', prompt: 'x' }, key));
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate-limited' } });
    expect(res.headers.get('retry-after')).not.toBeNull();
  });

  it('lets an admin read, set and reset an account’s limits', async () => {
    const { accountId } = await newCustomer('rl');
    expect(await (await admin('GET', `/admin/accounts/${accountId}/limits`)).json()).toEqual({
      account_id: accountId,
      limits: { requests_per_minute: 10000, concurrent_predictions: 1000 },
      source: 'default',
    });
    await setLimits(accountId, { requests_per_minute: 7, concurrent_predictions: 2 });
    const bad = await admin('PUT', `/admin/accounts/${accountId}/limits`, { requests_per_minute: 0, concurrent_predictions: 2 });
    expect(bad.status).toBe(422);
    expect(await (await admin('DELETE', `/admin/accounts/${accountId}/limits`)).json()).toMatchObject({ source: 'default' });
    expect((await admin('GET', '/admin/accounts/acct_0000000000000000/limits')).status).toBe(404);
  });
});
