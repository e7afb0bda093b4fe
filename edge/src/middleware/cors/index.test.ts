import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { appWith } from '../test-app.js';
import { corsFromConfig } from './index.js';

describe('corsFromConfig', () => {
  const app = appWith(corsFromConfig());

  it('answers a preflight from an allowed origin', async () => {
    const res = await app.request(
      '/v1/predictions',
      {
        method: 'OPTIONS',
        headers: {
          origin: 'https://playground.test',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      },
      env,
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://playground.test');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('adds no allow-origin for other origins', async () => {
    const res = await app.request('/v1/predictions', { headers: { origin: 'https://evil.test' } }, env);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes x-request-id to allowed origins', async () => {
    const res = await app.request('/v1/x', { headers: { origin: 'https://playground.test' } }, env);
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('allows any origin with "*"', async () => {
    const open = appWith(corsFromConfig({ origins: ['*'] }));
    const res = await open.request('/v1/x', { headers: { origin: 'https://anyone.test' } }, env);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
