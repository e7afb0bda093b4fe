import { env } from 'cloudflare:workers';
import { Hono, type Context } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppEnv } from './app-env.js';
import { onError } from './errors/on-error.js';
import { requestLogger } from './logging.js';
import { requestId } from './middleware/request-id/index.js';

function app(handler: (c: Context<AppEnv>) => Response) {
  const a = new Hono<AppEnv>();
  a.use('*', requestId());
  a.use('*', requestLogger());
  a.get('/x', (c) => handler(c));
  a.onError(onError);
  return a;
}

describe('edge logs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('binds the request id and the service to every line of the request logger, and redacts secrets', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await app((c) => {
      c.var.logger?.info('key used', { key_id: 'k1', api_key: 'sk_live_secret' });
      return c.text('ok');
    }).request('/x', { headers: { 'x-request-id': 'trace-abcdef12' } }, env);
    expect(res.status).toBe(200);
    expect(log).toHaveBeenCalledTimes(1);
    const line = String(log.mock.calls[0]?.[0]);
    expect(line).not.toContain('sk_live_secret');
    expect(JSON.parse(line)).toMatchObject({
      level: 'info',
      msg: 'key used',
      service: 'edge',
      request_id: 'trace-abcdef12',
      key_id: 'k1',
      api_key: '[redacted]',
    });
  });

  it('logs an unhandled error once, at error level, with the request id and the error', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await app(() => {
      throw new RangeError('boom');
    }).request('/x', { headers: { 'x-request-id': 'trace-abcdef12' } }, env);
    expect(res.status).toBe(500);
    expect(error).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(error.mock.calls[0]?.[0]))).toMatchObject({
      level: 'error',
      request_id: 'trace-abcdef12',
      error: { name: 'RangeError', message: 'boom' },
    });
  });
});
