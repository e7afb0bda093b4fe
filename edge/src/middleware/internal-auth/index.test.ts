import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { signInternalRequest } from '../../../../shared/signing.js';
import { appWith } from '../test-app.js';
import { internalAuth } from './index.js';

describe('internalAuth', () => {
  const app = appWith(internalAuth());
  const path = '/internal/predictions/abcdefghijklmnop/events';
  const body = JSON.stringify({ hello: 'world' });

  it('passes a correctly signed request and leaves the body readable', async () => {
    const headers = await signInternalRequest(env.INTERNAL_SECRET, 'POST', path, body);
    const res = await app.request(path, { method: 'POST', headers, body }, env);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ length: body.length });
  });

  it('returns 401 problem for a tampered body', async () => {
    const headers = await signInternalRequest(env.INTERNAL_SECRET, 'POST', path, body);
    const res = await app.request(path, { method: 'POST', headers, body: body.replace('world', 'w0rld') }, env);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ detail: 'Internal request refused: signature mismatch' });
  });

  it('returns 401 problem for another secret, a stale timestamp or no signature', async () => {
    const wrong = await signInternalRequest('another-secret-0123456789', 'POST', path, body);
    const stale = await signInternalRequest(env.INTERNAL_SECRET, 'POST', path, body, Date.now() - 3_600_000);
    for (const headers of [wrong, stale, {}]) {
      expect((await app.request(path, { method: 'POST', headers, body }, env)).status).toBe(401);
    }
  });
});
