/**
 * The official `openai` package against the real local stack with only `baseURL` changed: `images.generate`
 * without `model` (the served default), `n` > 1 as URLs and as base64, and the SDK's error classes for what the
 * edge refuses: `BadRequestError` with `param`, `AuthenticationError` (401), an `APIError` with status 402, and
 * `RateLimitError` (429) whose `retry-after` the SDK's own retry honours.
 */
import OpenAI from 'openai';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Stack } from '../../scripts/stack/start-stack.js';
import { admin } from './helpers/api.js';
import { useStack } from './helpers/stack-fixture.js';

const h = useStack();

const client = (apiKey: string, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI =>
  new OpenAI({ apiKey, baseURL: `${h.stack.edgeUrl}/v1`, maxRetries: 0, ...options });

/** Sizes the demo model accepts, typed as the SDK's size union (it lists OpenAI's own sizes only). */
const size = (s: string) => s as '256x256';

/** A new account with one key, topped up with `credits` (none when 0). */
async function newAccount(stack: Stack, credits: number): Promise<{ accountId: string; key: string }> {
  const account = await admin<{ id: string }>(stack, 'POST', '/admin/accounts', { name: `openai-${Date.now()}` });
  if (credits > 0) await admin(stack, 'POST', `/admin/accounts/${account.id}/credits`, { credits, note: 'e2e' });
  const key = await admin<{ key: string }>(stack, 'POST', `/admin/accounts/${account.id}/keys`, { name: 'e2e' });
  return { accountId: account.id, key: key.key };
}

async function describeImage(
  bytes: Buffer,
): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined }> {
  const meta = await sharp(bytes).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
}

/** The error a call rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (err: unknown) => err,
  );
}

describe('images.generate as OpenAI users write it', () => {
  it('works without model: the served default generates (the first of SERVED_MODELS)', async () => {
    const res = await client(h.stack.apiKey).images.generate({ prompt: 'a lighthouse at dusk', size: size('64x64') });
    expect(res.data).toHaveLength(1);
    const image = await fetch(res.data![0]!.url!);
    expect(image.status).toBe(200);
    expect(await describeImage(Buffer.from(await image.arrayBuffer()))).toEqual({ format: 'png', width: 64, height: 64 });
  });

  it('returns n URLs for n > 1, each a distinct image', async () => {
    const res = await client(h.stack.apiKey).images.generate({
      prompt: 'a lighthouse at dusk',
      size: size('64x128'),
      n: 3,
      response_format: 'url',
    });
    expect(res.data).toHaveLength(3);
    const bodies = await Promise.all(res.data!.map(async (d) => Buffer.from(await (await fetch(d.url!)).arrayBuffer())));
    for (const body of bodies) expect(await describeImage(body)).toEqual({ format: 'png', width: 64, height: 128 });
    expect(new Set(bodies.map((b) => b.toString('base64'))).size).toBe(3);
  });

  it('returns base64 images for response_format b64_json, with the model named as owner/name', async () => {
    const res = await client(h.stack.apiKey).images.generate({
      model: 'deepcache/sd15-tiny-demo',
      prompt: 'a lighthouse',
      size: size('128x64'),
      n: 2,
      response_format: 'b64_json',
    });
    expect(res.data).toHaveLength(2);
    for (const item of res.data!)
      expect(await describeImage(Buffer.from(item.b64_json!, 'base64'))).toEqual({ format: 'png', width: 128, height: 64 });
  });
});

describe('errors as the SDK types them', () => {
  it('BadRequestError with param for a size the model refuses, for n over the limit and for an unknown model', async () => {
    const cases: [Parameters<OpenAI['images']['generate']>[0], string][] = [
      [{ prompt: 'x', size: size('72x64') }, 'size'],
      [{ prompt: 'x', n: 9 }, 'n'],
      [{ prompt: 'x', model: 'dall-e-3' }, 'model'],
    ];
    for (const [body, param] of cases) {
      const err = await rejection(client(h.stack.apiKey).images.generate(body));
      expect(err, JSON.stringify(body)).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).param, JSON.stringify(body)).toBe(param);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).type).toBe('invalid_request_error');
    }
  });

  it('AuthenticationError (401) for a key the edge does not know', async () => {
    const err = await rejection(
      client('sdk_unknownkey01_NotARealKeyNotARealKeyNotARealKe').images.generate({ prompt: 'x', size: size('64x64') }),
    );
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
  });

  it('an APIError with status 402 (insufficient_quota) when the balance cannot pay', async () => {
    const broke = await newAccount(h.stack, 0);
    const err = (await rejection(client(broke.key).images.generate({ prompt: 'x', size: size('64x64') }))) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(402);
    expect(err.type).toBe('insufficient_quota');
  });

  it('RateLimitError (429) with retry-after, which the SDK waits out before its retry succeeds', async () => {
    const limited = await newAccount(h.stack, 10_000);
    await admin(h.stack, 'PUT', `/admin/accounts/${limited.accountId}/limits`, { requests_per_minute: 1, concurrent_predictions: 8 });
    for (let round = 0; ; round++) {
      // Use the key's one request of this minute, then ask for an image.
      await (await fetch(`${h.stack.edgeUrl}/v1/models`, { headers: { authorization: `Bearer ${limited.key}` } })).body?.cancel();
      const err = await rejection(client(limited.key).images.generate({ prompt: 'x', size: size('64x64') }));
      if (!(err instanceof OpenAI.RateLimitError) && round < 3) continue; // the minute turned in between
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      const retryAfter = Number((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // The SDK honours retry-after below 60 s (at 60 it uses its own backoff): the next second gives 59 at most.
      if (retryAfter >= 60 && round < 3) continue;

      // The same call with the SDK's retries on: it sees the 429, sleeps retry-after, and the retry gets the image.
      const attempts: { at: number; status: number; retryAfter: number }[] = [];
      const observed: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        attempts.push({ at: Date.now(), status: res.status, retryAfter: Number(res.headers.get('retry-after')) });
        return res;
      };
      const res = await client(limited.key, { maxRetries: 1, fetch: observed }).images.generate({ prompt: 'x', size: size('64x64') });
      expect(res.data).toHaveLength(1);
      if (attempts.length === 1 && round < 3) continue; // the minute turned before this call
      expect(attempts.map((a) => a.status)).toEqual([429, 200]);
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(attempts[0]!.retryAfter * 1000 - 1000);
      return;
    }
  }, 300_000);
});
