import { env } from 'cloudflare:workers';
import { Hono, type MiddlewareHandler } from 'hono';
import { onError } from '../../errors/on-error.js';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../app-env.js';
import { appWith } from '../test-app.js';
import { idempotency, parseIdempotencyKey } from './index.js';

const asCaller: MiddlewareHandler<AppEnv> = async function asCaller(c, next) {
  c.set('caller', { accountId: 'acct_idempotencymw01', keyId: 'k' });
  await next();
};
const post = (key: string, body: string): RequestInit => ({ method: 'POST', headers: { 'idempotency-key': key }, body });

describe('idempotency', () => {
  const app = appWith(asCaller, idempotency());

  it('replays the first response with Idempotent-Replayed and refuses another body with 422', async () => {
    const first = await app.request('/x', post('"mw-1"', 'abc'), env);
    expect(first.status).toBe(200);
    const replay = await app.request('/x', post('"mw-1"', 'abc'), env);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await first.json());
    const other = await app.request('/x', post('"mw-1"', 'abcd'), env);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'idempotency-key-mismatch' });
  });

  it('answers 409 conflict, not a second execution, when the first response was too large to store', async () => {
    const bigApp = new Hono<AppEnv>();
    bigApp.use('*', asCaller, idempotency());
    bigApp.post('*', (c) => c.text('x'.repeat(1024 * 1024 + 10)));
    bigApp.onError(onError);
    expect((await bigApp.request('/x', post('"mw-big"', 'b'), env)).status).toBe(200);
    const retry = await bigApp.request('/x', post('"mw-big"', 'b'), env);
    expect(retry.status).toBe(409);
    expect(await retry.json()).toMatchObject({ code: 'conflict' });
  });

  it('lets requests without the header, and other methods, through untouched', async () => {
    expect((await app.request('/x', { method: 'POST', body: 'a' }, env)).headers.get('idempotent-replayed')).toBeNull();
    const get = await app.request('/x', { headers: { 'idempotency-key': 'mw-get' } }, env);
    expect((await app.request('/x', { headers: { 'idempotency-key': 'mw-get' } }, env)).headers.get('idempotent-replayed')).toBeNull();
    expect(get.status).toBe(200);
  });

  it('reads structured-field strings and bare tokens alike', () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8"')).toBe('8e03978e-40d5-43e8');
    expect(parseIdempotencyKey('"a \\"quoted\\" key"')).toBe('a "quoted" key');
    expect(parseIdempotencyKey('plain-token')).toBe('plain-token');
    expect(() => parseIdempotencyKey('""')).toThrow(/Idempotency-Key/);
  });
});
