import { env } from 'cloudflare:workers';
import type { MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../app-env.js';
import { meterOf } from '../../billing/account-meter.js';
import { appWith } from '../test-app.js';
import { rateLimit } from './index.js';

const accountId = 'acct_ratelimitmw00001';
const asCaller = (keyId: string): MiddlewareHandler<AppEnv> =>
  async function asCaller(c, next) {
    c.set('caller', { accountId, keyId });
    await next();
  };

describe('rateLimit', () => {
  it('adds the IETF headers under the policy name and refuses the request over the limit', async () => {
    await meterOf(env, accountId).setLimits({ accountId, limits: { requests_per_minute: 2, concurrent_predictions: 4 } });
    const app = appWith(asCaller('mwkey1'), rateLimit({ policy: 'burst' }));
    const ok = await app.request('/x', {}, env);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=60, "concurrency";q=4;qu="concurrent-requests"');
    expect(ok.headers.get('ratelimit')).toMatch(/^"burst";r=1;t=\d+, "concurrency";r=4$/);
    expect((await app.request('/x', {}, env)).status).toBe(200);
    const refused = await app.request('/x', {}, env);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: 'rate-limited', type: '/problems/rate-limited' });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
