import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../../auth/keys.js';
import { appWith } from '../test-app.js';
import { apiKeyAuth } from './index.js';

describe('apiKeyAuth', () => {
  const app = appWith(apiKeyAuth());
  let live: { id: string; key: string; hash: string };
  let revoked: { id: string; key: string; hash: string };

  beforeAll(async () => {
    const now = new Date().toISOString();
    await env.DB.prepare("INSERT INTO accounts (id, name, created_at) VALUES ('acct_mw0000000000000', 'mw', ?)").bind(now).run();
    live = await newApiKey();
    revoked = await newApiKey();
    for (const [k, revokedAt] of [
      [live, null],
      [revoked, now],
    ] as const) {
      await env.DB.prepare(
        "INSERT INTO api_keys (id, account_id, name, key_hash, created_at, revoked_at) VALUES (?, 'acct_mw0000000000000', 'k', ?, ?, ?)",
      )
        .bind(k.id, k.hash, now, revokedAt)
        .run();
    }
  });

  it('sets the caller for a live key', async () => {
    const res = await app.request('/v1/x', { headers: { authorization: `Bearer ${live.key}` } }, env);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ caller: { accountId: 'acct_mw0000000000000', keyId: live.id } });
  });

  it('returns 401 problem for a revoked key', async () => {
    const res = await app.request('/v1/x', { headers: { authorization: `Bearer ${revoked.key}` } }, env);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'unauthorized', detail: 'This API key has been revoked' });
  });

  it.each([
    ['no Authorization header', undefined, 'Missing Authorization header'],
    ['a non-bearer scheme', 'Basic abc', 'Authorization header must be'],
    ['a malformed key', 'Bearer not-a-key', 'Invalid API key'],
    ['an unknown key id', `Bearer sdk_zzzzzzzzzzzz_${'a'.repeat(32)}`, 'Invalid API key'],
  ])('returns 401 problem for %s', async (_, header, detail) => {
    const res = await app.request('/v1/x', header ? { headers: { authorization: header } } : {}, env);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(((await res.json()) as { detail: string }).detail).toContain(detail);
  });

  it('returns 401 problem for a known key id with the wrong secret', async () => {
    const forged = `sdk_${live.id}_${'B'.repeat(32)}`;
    const res = await app.request('/v1/x', { headers: { authorization: `Bearer ${forged}` } }, env);
    expect(res.status).toBe(401);
  });
});
