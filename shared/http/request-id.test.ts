import { Hono } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import { describe, expect, it } from 'vitest';
import { isWellFormedRequestId, newRequestId, requestId } from './request-id.js';

function app(handler: () => Response | Promise<Response> = () => new Response('ok')) {
  const a = new Hono<{ Variables: RequestIdVariables }>();
  a.use('*', requestId());
  a.get('/seen', (c) => c.text(c.var.requestId));
  a.get('*', handler);
  a.onError(() => new Response('failed', { status: 500 }));
  return a;
}

describe('request ids', () => {
  it('keeps a well-formed client id, exposes it to handlers and echoes it', async () => {
    const res = await app().request('/seen', { headers: { 'x-request-id': 'trace:abc.def-12' } });
    expect(await res.text()).toBe('trace:abc.def-12');
    expect(res.headers.get('x-request-id')).toBe('trace:abc.def-12');
  });

  it('replaces a missing, short, long or malformed id with a fresh req_ id', async () => {
    for (const given of [undefined, 'short', 'x'.repeat(129), 'bad id <script>', 'a=b=c=d=e']) {
      const res = await app().request('/seen', given === undefined ? {} : { headers: { 'x-request-id': given } });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^req_[A-Za-z0-9]{20}$/);
      expect(await res.text()).toBe(id);
    }
  });

  it('echoes the id on responses the error handler built', async () => {
    const failing = app(() => {
      throw new Error('boom');
    });
    const res = await failing.request('/x', { headers: { 'x-request-id': 'trace-abcdef12' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('trace-abcdef12');
  });

  it('accepts the ids it mints', () => {
    expect(isWellFormedRequestId(newRequestId())).toBe(true);
    expect(newRequestId()).not.toBe(newRequestId());
  });
});
