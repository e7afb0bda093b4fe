import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { appWith } from '../test-app.js';
import { adminAuth } from './index.js';

describe('adminAuth', () => {
  const app = appWith(adminAuth());

  it('passes the configured admin token', async () => {
    const res = await app.request('/admin', { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }, env);
    expect(res.status).toBe(200);
  });

  it.each([
    ['no header', undefined],
    ['a wrong token', 'Bearer not-the-admin-token'],
    ['a token with one extra character', `Bearer ${env.ADMIN_TOKEN}x`],
    ['another scheme', `Basic ${env.ADMIN_TOKEN}`],
  ])('returns 401 problem with %s', async (_, header) => {
    const res = await app.request('/admin', header ? { headers: { authorization: header } } : {}, env);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(await res.json()).toMatchObject({ code: 'unauthorized', type: '/problems/unauthorized' });
  });
});
