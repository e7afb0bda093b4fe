import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signInternalRequest, signWebhook, timingSafeEqual, verifyInternalRequest } from './signing.js';

describe('signWebhook', () => {
  it('produces signatures the standardwebhooks library accepts', async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ id: 'p1', status: 'succeeded' });
    const ts = Math.floor(Date.now() / 1000);
    const signature = await signWebhook(secret, 'msg_1', ts, body);
    const wh = new Webhook(secret);
    expect(wh.verify(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signature })).toEqual({
      id: 'p1',
      status: 'succeeded',
    });
  });

  it('is rejected by the library when the body is tampered with', async () => {
    const secret = newWebhookSecret();
    const ts = Math.floor(Date.now() / 1000);
    const signature = await signWebhook(secret, 'msg_1', ts, '{"a":1}');
    const wh = new Webhook(secret);
    expect(() =>
      wh.verify('{"a":2}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signature }),
    ).toThrow();
  });
});

describe('internal request signing', () => {
  const headersOf = (h: Record<string, string>) => new Headers(h);

  it('verifies a request signed with the same secret, method, path and body', async () => {
    const h = await signInternalRequest('s3cret', 'PUT', '/predictions/abc', '{"x":1}');
    expect(await verifyInternalRequest('s3cret', 'PUT', '/predictions/abc', '{"x":1}', headersOf(h))).toBeNull();
  });

  it('refuses a wrong secret, another path, another body and a stale timestamp', async () => {
    const h = await signInternalRequest('s3cret', 'PUT', '/predictions/abc', '{"x":1}');
    expect(await verifyInternalRequest('other', 'PUT', '/predictions/abc', '{"x":1}', headersOf(h))).toBe('signature mismatch');
    expect(await verifyInternalRequest('s3cret', 'PUT', '/predictions/abd', '{"x":1}', headersOf(h))).toBe('signature mismatch');
    expect(await verifyInternalRequest('s3cret', 'PUT', '/predictions/abc', '{"x":2}', headersOf(h))).toBe('signature mismatch');
    const old = await signInternalRequest('s3cret', 'PUT', '/p', '', Date.now() - 3_600_000);
    expect(await verifyInternalRequest('s3cret', 'PUT', '/p', '', headersOf(old))).toBe('timestamp outside the tolerance window');
    expect(await verifyInternalRequest('s3cret', 'PUT', '/p', '', headersOf({}))).toBe('missing signature headers');
  });

  it('accepts the current and the previous secret during a rotation, and nothing else', async () => {
    const byOld = await signInternalRequest('old-secret', 'POST', '/p', 'b');
    const byNew = await signInternalRequest('new-secret', 'POST', '/p', 'b');
    const byOther = await signInternalRequest('unrelated', 'POST', '/p', 'b');
    const rotating = ['new-secret', 'old-secret'] as const;
    expect(await verifyInternalRequest(rotating, 'POST', '/p', 'b', headersOf(byOld))).toBeNull();
    expect(await verifyInternalRequest(rotating, 'POST', '/p', 'b', headersOf(byNew))).toBeNull();
    expect(await verifyInternalRequest(rotating, 'POST', '/p', 'b', headersOf(byOther))).toBe('signature mismatch');
    // After the rotation the old secret is refused.
    expect(await verifyInternalRequest('new-secret', 'POST', '/p', 'b', headersOf(byOld))).toBe('signature mismatch');
  });
});

describe('timingSafeEqual', () => {
  it('compares by content, including length', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    expect(timingSafeEqual('abc', 'abd')).toBe(false);
    expect(timingSafeEqual('abc', 'abcd')).toBe(false);
  });
});
