import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { appWith } from '../test-app.js';

describe('requestId', () => {
  const app = appWith();

  it('mints an id when the client sends none', async () => {
    const res = await app.request('/x', {}, env);
    expect(res.headers.get('x-request-id')).toMatch(/^req_[A-Za-z0-9]{20}$/);
  });

  it('keeps a well-formed client id', async () => {
    const res = await app.request('/x', { headers: { 'x-request-id': 'client-id-1234' } }, env);
    expect(res.headers.get('x-request-id')).toBe('client-id-1234');
  });

  it('replaces a malformed client id', async () => {
    const res = await app.request('/x', { headers: { 'x-request-id': 'bad id <script>' } }, env);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('sets the header on error responses too', async () => {
    const failing = appWith(async () => {
      throw new Error('boom');
    });
    const res = await failing.request('/x', { headers: { 'x-request-id': 'trace-abcdef12' } }, env);
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('trace-abcdef12');
    expect(await res.json()).toMatchObject({ code: 'internal-error', request_id: 'trace-abcdef12' });
  });
});
