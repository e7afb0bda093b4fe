import { env, exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { TEST_ORIGIN } from './constants.js';
import { auth, call, deliver, newCustomer, runToSuccess, waitForJob } from './helpers.js';

/** The official SDK, with its requests routed into the worker under test. */
function client(apiKey: string): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: `${TEST_ORIGIN}/v1`,
    maxRetries: 0,
    fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
  });
}

/** Completes the caller's newest prediction once it shows up (the SDK call is waiting meanwhile). */
async function completeNewest(key: string): Promise<Prediction> {
  for (let i = 0; i < 200; i++) {
    const [newest] = (await (await call('/v1/predictions?limit=1', auth(key))).json<{ results: Prediction[] }>()).results;
    if (newest) {
      await waitForJob(newest.id);
      await runToSuccess(newest.id);
      return newest;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no prediction appeared');
}

describe('POST /v1/images/generations with the openai SDK', () => {
  it('returns presigned URLs for response_format url', async () => {
    const { key } = await newCustomer();
    const pending = client(key).images.generate({
      model: 'sd15-tiny-demo',
      prompt: 'a lighthouse',
      n: 2,
      size: '64x64',
      response_format: 'url',
    });
    const prediction = await completeNewest(key);
    const result = await pending;
    expect(result.data).toHaveLength(2);
    expect(prediction.input).toMatchObject({ width: 64, height: 64, num_outputs: 2, prompt: 'a lighthouse' });
    const image = await fetch(result.data?.[0]?.url ?? '');
    expect(image.status).toBe(200);
    expect(result.created).toBe(Math.floor(Date.parse(prediction.created_at) / 1000));
  });

  it('returns the PNG bytes for response_format b64_json and accepts the native extras', async () => {
    const { key } = await newCustomer();
    const extras = { negative_prompt: 'blurry', num_inference_steps: 4, seed: 7, deepcache: { cache_interval: 2, cache_branch_id: 1 } };
    const pending = client(key).images.generate({
      model: 'sd15-tiny-demo',
      prompt: 'a fox',
      response_format: 'b64_json',
      ...extras,
    } as OpenAI.ImageGenerateParamsNonStreaming);
    const prediction = await completeNewest(key);
    const result = await pending;
    const bytes = Uint8Array.from(atob(result.data?.[0]?.b64_json ?? ''), (ch) => ch.charCodeAt(0));
    expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(prediction.input).toMatchObject({
      negative_prompt: 'blurry',
      num_inference_steps: 4,
      seed: 7,
      deepcache: { cache_interval: 2, cache_branch_id: 1 },
    });
  });

  it('raises BadRequestError with OpenAI’s error shape for an invalid size', async () => {
    const { key } = await newCustomer();
    const error = await client(key)
      .images.generate({ model: 'sd15-tiny-demo', prompt: 'x', size: '100x100' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.param).toBe('size');
    expect(bad.type).toBe('invalid_request_error');
  });

  it('raises BadRequestError naming size when it is beyond the model’s limits', async () => {
    const { key } = await newCustomer();
    const error = await client(key)
      .images.generate({ model: 'sd15-tiny-demo', prompt: 'x', size: '1024x1024' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('size');
  });

  it('raises AuthenticationError for a bad key', async () => {
    const error = await client(`sdk_aaaaaaaaaaaa_${'x'.repeat(32)}`)
      .images.generate({ model: 'sd15-tiny-demo', prompt: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).type).toBe('authentication_error');
  });

  it('answers raw requests with {error:{message,type,param,code}}', async () => {
    const { key } = await newCustomer();
    const res = await call('/v1/images/generations', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sd15-tiny-demo', prompt: 'x', n: 9, style: 'vivid' }),
    });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { message: string; type: string; param: string | null; code: string | null } }>();
    expect(Object.keys(body.error).toSorted()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.code).toBe('validation-failed');
  });
});

describe('b64_json at the largest allowed request (SDXL 1536², n = 8)', () => {
  it('streams the images as base64 (not buffered, not stored for replay) and they decode to the stored bytes', async () => {
    const { accountId, key } = await newCustomer();
    // A worst-case PNG of 1536² RGB is the raw pixels plus a little: 7.1 MB per image, 75 MB of base64 in all.
    const imageBytes = 7_100_000;
    const pending = call('/v1/images/generations', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'big-b64' },
      body: JSON.stringify({
        model: 'stable-diffusion-xl-base-1.0',
        prompt: 'large',
        n: 8,
        size: '1536x1536',
        response_format: 'b64_json',
      }),
    });
    let id: string | undefined;
    for (let i = 0; i < 400 && id === undefined; i++) {
      [id] = (await (await call('/v1/predictions?limit=1', auth(key))).json<{ results: Prediction[] }>()).results.map((p) => p.id);
      if (id === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    const { backend } = await waitForJob(id!);
    await deliver(backend, id!, { type: 'completed', status: 'succeeded', image_bytes: imageBytes });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    const body = await res.json<{ created: number; data: Array<{ b64_json: string }> }>();
    expect(body.data).toHaveLength(8);
    for (const [index, image] of body.data.entries()) {
      const bytes = Uint8Array.from(atob(image.b64_json), (ch) => ch.charCodeAt(0));
      expect(bytes.length).toBe(imageBytes);
      expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      // The fake backend's pattern for this index, checked at a few places.
      for (const i of [8, 4097, 1_000_003, imageBytes - 1]) expect(bytes[i]).toBe((i * 31 + index * 17 + (i >> 11)) & 0xff);
    }
    const record = await env.DB.prepare(
      "SELECT response_body, prediction_id FROM idempotency_keys WHERE account_id = ? AND idem_key = 'big-b64'",
    )
      .bind(accountId)
      .first<{ response_body: string | null; prediction_id: string }>();
    expect(record).toEqual({ response_body: null, prediction_id: id });
  }, 180_000);
});
