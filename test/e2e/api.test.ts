/**
 * The public API end to end: the edge in workerd (`wrangler dev`), the GPU backend on the CPU with the tiny
 * demo model, and s3rver, as real processes.
 */
import OpenAI from 'openai';
import sharp, { type Metadata } from 'sharp';
import { describe, expect, it } from 'vitest';
import { balance, call, eventually, tinyRequest, waitForEnd, type PredictionJson } from './helpers/api.js';
import { backendMetric, LEASE_ACTIONS, LEASES_HELD, RUNNING } from './helpers/backend-metrics.js';
import { useStack } from './helpers/stack-fixture.js';

const h = useStack();

async function imageAt(url: string): Promise<Metadata> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return sharp(Buffer.from(await res.arrayBuffer())).metadata();
}

describe('native predictions', () => {
  it('answers 201 with a finished prediction under Prefer: wait, and its presigned URL is a PNG of the requested size', async () => {
    const res = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ width: 128, height: 64 }), {
      prefer: 'wait=60',
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.output).toHaveLength(1);
    const meta = await imageAt(res.body.output![0]!);
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 128, height: 64 });
    expect(res.body.metrics.unet_full_steps! + res.body.metrics.unet_shallow_steps!).toBe(4);
  });

  it('answers 202 without Prefer, then the prediction succeeds with a WebP of the requested size', async () => {
    const res = await call<PredictionJson>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ width: 64, height: 128, output_format: 'webp' }),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(res.body.urls.get);
    const done = await waitForEnd(h.stack, res.body.id);
    expect(done.status).toBe('succeeded');
    const meta = await imageAt(done.output![0]!);
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'webp', width: 64, height: 128 });
  });

  it('streams status, per-step progress and the completed prediction as Server-Sent Events', async () => {
    const created = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ num_inference_steps: 6 }));
    const res = await fetch(`${h.stack.edgeUrl}/v1/predictions/${created.body.id}/events`, {
      headers: { authorization: `Bearer ${h.stack.apiKey}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe('status');
    expect(events.slice(-2)).toEqual(['completed', 'done']);
    const completed = /event: completed\ndata: (.*)\n/.exec(text);
    expect((JSON.parse(completed![1]!) as PredictionJson).status).toBe('succeeded');
  });

  it('replays an idempotent create: the same prediction, charged once', async () => {
    const before = await balance(h.stack);
    const key = `e2e-${Date.now()}`;
    const first = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ seed: 99 }), { 'idempotency-key': key });
    const second = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ seed: 99 }), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const done = await waitForEnd(h.stack, first.body.id);
    expect(done.status).toBe('succeeded');
    expect(await balance(h.stack)).toBe(before - done.cost.credits);
  });

  it('cancels a running prediction on the backend that holds it', async () => {
    const created = await call<PredictionJson>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ width: 512, height: 512, num_inference_steps: 60, deepcache: false }),
    );
    // Wait until it runs on the backend, then cancel.
    await eventually('the prediction to run', async () =>
      (await call<PredictionJson>(h.stack, 'GET', `/v1/predictions/${created.body.id}`)).body.status === 'processing' ? true : undefined,
    );
    const metric = (name: string, labels: Record<string, string> = {}) =>
      backendMetric(h.stack.backend, h.stack.internalSecret, name, labels);
    const cancelsBefore = await eventually("the backend's metrics", () => metric(LEASE_ACTIONS, { action: 'cancel' }));
    const canceled = await call<PredictionJson>(h.stack, 'POST', `/v1/predictions/${created.body.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    // The backend learns it from its next heartbeat (`cancel`), stops it and holds nothing any more.
    await eventually('the backend to stop the canceled prediction', async () =>
      ((await metric(LEASE_ACTIONS, { action: 'cancel' })) ?? cancelsBefore) > cancelsBefore &&
      (await metric(LEASES_HELD)) === 0 &&
      (await metric(RUNNING)) === 0
        ? true
        : undefined,
    );
    expect((await waitForEnd(h.stack, created.body.id)).status).toBe('canceled');
  });

  it('aborts a prediction still queued at its Cancel-After deadline and charges nothing for it', async () => {
    const before = await balance(h.stack);
    // A long prediction occupies the backend so the next one cannot start before its deadline.
    const blocker = await call<PredictionJson>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ width: 512, height: 512, num_inference_steps: 100, deepcache: false }),
    );
    const late = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ seed: 5 }), { 'cancel-after': '5' });
    expect(late.status).toBe(202);
    const ended = await waitForEnd(h.stack, late.body.id);
    expect(ended.status).toBe('aborted');
    await call(h.stack, 'POST', `/v1/predictions/${blocker.body.id}/cancel`);
    const blockerEnd = await waitForEnd(h.stack, blocker.body.id);
    const blockerCharge = blockerEnd.status === 'succeeded' ? blockerEnd.cost.credits : before - (await balance(h.stack));
    expect(await balance(h.stack)).toBe(before - blockerCharge);
    expect(ended.error).toMatch(/deadline/i);
  });
});

describe('OpenAI-compatible route through the official openai package', () => {
  const client = () => new OpenAI({ apiKey: h.stack.apiKey, baseURL: `${h.stack.edgeUrl}/v1`, maxRetries: 0 });

  it('returns a URL to a PNG of the requested size', async () => {
    const res = await client().images.generate({
      model: 'sd15-tiny-demo',
      prompt: 'a lighthouse',
      size: '64x64' as '256x256',
      response_format: 'url',
      n: 1,
    });
    expect(res.data).toHaveLength(1);
    const meta = await imageAt(res.data![0]!.url!);
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 64, height: 64 });
  });

  it('returns base64 images (b64_json), two of them for n = 2', async () => {
    const res = await client().images.generate({
      model: 'sd15-tiny-demo',
      prompt: 'a lighthouse',
      size: '128x64' as '256x256',
      response_format: 'b64_json',
      n: 2,
    });
    expect(res.data).toHaveLength(2);
    for (const item of res.data!) {
      const meta = await sharp(Buffer.from(item.b64_json!, 'base64')).metadata();
      expect({ width: meta.width, height: meta.height }).toEqual({ width: 128, height: 64 });
    }
  });
});

describe('served models', () => {
  it('lists only the model the stack serves, and refuses another catalogue model with 422 at /model without charging', async () => {
    const models = await call<{ data: { id: string }[] }>(h.stack, 'GET', '/v1/models');
    expect(models.status).toBe(200);
    expect(models.body.data.map((m) => m.id)).toEqual([h.stack.modelId]);
    const before = await balance(h.stack);
    const res = await call<{ code: string; errors: { pointer: string }[] }>(h.stack, 'POST', '/v1/predictions', {
      ...tinyRequest({ width: 512, height: 512 }),
      model: 'stable-diffusion-1.5',
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation-failed');
    expect(res.body.errors.map((e) => e.pointer)).toEqual(['/model']);
    expect(await balance(h.stack)).toBe(before);
  });
});
