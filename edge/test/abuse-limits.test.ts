/**
 * Abuse limits (issue #14, item 8): requests per client address before the key lookup, a cap on open SSE streams
 * per key, heartbeats, and an SSE stream that ends even when its terminal event was lost.
 * @module
 */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { statusListeners } from '../src/index.js';
import { TEST_ORIGIN } from './constants.js';
import { auth, call, createPrediction, newCustomer, waitForJob } from './helpers.js';

/** The worker with some vars changed (short heartbeats, a small stream cap). */
function withVars(vars: Record<string, string>) {
  const app = createApp(statusListeners);
  return (path: string, init: RequestInit = {}) =>
    Promise.resolve(app.request(`${TEST_ORIGIN}${path}`, init, { ...env, ...vars } as Env, createExecutionContext()));
}

describe('requests per client address', () => {
  it('refuses an unauthenticated flood from one address with 429 before looking keys up; other addresses are unaffected', async () => {
    const bogus = `Bearer sdk_aaaaaaaaaaaa_${'x'.repeat(32)}`;
    const from = (ip: string) => call('/v1/models', { headers: { authorization: bogus, 'cf-connecting-ip': ip } });
    const statuses: number[] = [];
    // wrangler.toml: 300 requests per 60 s per address.
    for (let i = 0; i < 320 && !statuses.includes(429); i++) statuses.push((await from('198.51.100.7')).status);
    const refusedAt = statuses.indexOf(429);
    expect(refusedAt).toBeGreaterThanOrEqual(300);
    expect(statuses.slice(0, refusedAt).every((s) => s === 401)).toBe(true);
    const refused = await from('198.51.100.7');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await refused.json()).toMatchObject({ code: 'rate-limited' });
    expect((await from('198.51.100.8')).status).toBe(401);
  }, 120_000);
});

describe('SSE streams', () => {
  it('send heartbeats and end when the prediction ended but its terminal event was lost', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    const res = await withVars({ SSE_HEARTBEAT_S: '1' })(`/v1/predictions/${prediction.id}/events`, auth(key));
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    };
    await readUntil(': heartbeat');
    expect(text).toContain(': heartbeat');
    // The prediction ends in D1 without any event reaching its channel (a lost publish).
    await env.DB.prepare("UPDATE predictions SET status = 'canceled', completed_at = ? WHERE id = ?")
      .bind(new Date().toISOString(), prediction.id)
      .run();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toContain('event: completed');
    expect(text).toMatch(/event: done\ndata: \{"status":"canceled"\}/);
  }, 60_000);

  it('caps open streams per key (429 quota-exceeded) and frees the slot when a stream closes', async () => {
    const { key } = await newCustomer();
    const request = withVars({ MAX_SSE_STREAMS_PER_KEY: '2', SSE_HEARTBEAT_S: '1' });
    const { prediction } = await createPrediction(key);
    await waitForJob(prediction.id);
    const open = [
      await request(`/v1/predictions/${prediction.id}/events`, auth(key)),
      await request(`/v1/predictions/${prediction.id}/events`, auth(key)),
    ];
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await request(`/v1/predictions/${prediction.id}/events`, auth(key));
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ code: 'quota-exceeded' });
    // Another key of another account has its own streams.
    const other = await newCustomer('other');
    const { prediction: theirs } = await createPrediction(other.key);
    await waitForJob(theirs.id);
    const theirStream = await request(`/v1/predictions/${theirs.id}/events`, auth(other.key));
    expect(theirStream.status).toBe(200);
    await theirStream.body?.cancel();
    // Closing one stream frees its slot (at the latest when its lease runs out).
    await open[0]!.body?.cancel();
    let again: Response | undefined;
    for (let i = 0; i < 200; i++) {
      again = await request(`/v1/predictions/${prediction.id}/events`, auth(key));
      if (again.status === 200) break;
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again?.status).toBe(200);
    await again?.body?.cancel();
    await open[1]!.body?.cancel();
  }, 60_000);
});
