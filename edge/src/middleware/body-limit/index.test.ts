import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { appWith } from '../test-app.js';
import { bodySizeLimit } from './index.js';

describe('bodySizeLimit', () => {
  const app = appWith(bodySizeLimit({ maxBytes: 1024 }));

  it('lets a body at the limit through', async () => {
    const res = await app.request('/x', { method: 'POST', body: 'a'.repeat(1024) }, env);
    expect(res.status).toBe(200);
  });

  it('returns 413 problem above the limit', async () => {
    const res = await app.request('/x', { method: 'POST', body: 'a'.repeat(1025) }, env);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'payload-too-large', type: '/problems/payload-too-large' });
  });

  it('uses MAX_BODY_BYTES from the configuration by default', async () => {
    const configured = appWith(bodySizeLimit());
    const limit = Number(env.MAX_BODY_BYTES);
    expect((await configured.request('/x', { method: 'POST', body: 'a'.repeat(limit + 1) }, env)).status).toBe(413);
    expect((await configured.request('/x', { method: 'POST', body: 'a'.repeat(limit) }, env)).status).toBe(200);
  });
});
