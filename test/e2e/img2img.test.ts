/**
 * Image-to-image and inpainting end to end (edge in `wrangler dev`, GPU backend with the tiny demo model, s3rver):
 * input images as data: URIs and as URLs, the steps the strength keeps, the price, determinism, and the 4xx
 * problems for unusable inputs (nothing charged); OpenAI's `images.edit` through the official `openai` package.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel } from '../../shared/models.js';
import { priceFor } from '../../shared/pricing.js';
import { ResolvedInput } from '../../shared/prediction.js';
import { balance, call, tinyRequest, type PredictionJson } from './helpers/api.js';
import { useStack } from './helpers/stack-fixture.js';

const h = useStack();

async function png(width: number, height: number, paint: (x: number, y: number) => [number, number, number]): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(paint(x, y), (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
const dataUri = (b: Buffer) => `data:image/png;base64,${b.toString('base64')}`;

async function bytesAt(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

let image: Buffer;
let mask: Buffer;
let server: Server;
let served: string;

beforeAll(async () => {
  image = await png(64, 64, (x, y) => [x * 4, y * 4, 128]);
  mask = await png(64, 64, (x) => (x < 32 ? [255, 255, 255] : [0, 0, 0]));
  server = createServer((req, res) => {
    if (req.url === '/picture.png') res.writeHead(200, { 'content-type': 'image/png' }).end(image);
    else if (req.url === '/moved.png') res.writeHead(302, { location: '/picture.png' }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  served = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('image-to-image and inpainting through the native API', () => {
  it('runs ⌊steps·strength⌋ steps from a data: URI image, prices them plus the encoder pass, and stores the input by key', async () => {
    const before = await balance(h.stack);
    const res = await call<PredictionJson & { input: Record<string, unknown> }>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ image: dataUri(image), prompt_strength: 0.5, num_inference_steps: 6 }),
      { prefer: 'wait=90' },
    );
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.metrics.unet_full_steps! + res.body.metrics.unet_shallow_steps!).toBe(3);
    expect(String(res.body.input.image)).toMatch(/\/input\/image$/);
    const meta = await sharp(await bytesAt(res.body.output![0]!)).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
    const resolved = ResolvedInput.parse({
      prompt: 'x',
      negative_prompt: '',
      width: 64,
      height: 64,
      num_inference_steps: 6,
      guidance_scale: 7.5,
      seed: 7,
      scheduler: 'ddim',
      num_outputs: 1,
      output_format: 'png',
      output_quality: 90,
      deepcache: { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' },
      image: 'k',
      prompt_strength: 0.5,
    });
    expect(res.body.cost.credits).toBe(priceFor(findModel('sd15-tiny-demo')!, resolved).credits);
    expect(await balance(h.stack)).toBe(before - res.body.cost.credits);
  });

  it('gives the same bytes for the same request, and inpaints with a mask', async () => {
    const req = tinyRequest({ image: dataUri(image), mask: dataUri(mask), prompt_strength: 0.75, seed: 3 });
    const a = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', req, { prefer: 'wait=90' });
    const b = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', req, { prefer: 'wait=90' });
    expect([a.body.status, b.body.status]).toEqual(['succeeded', 'succeeded']);
    expect((await bytesAt(a.body.output![0]!)).equals(await bytesAt(b.body.output![0]!))).toBe(true);
  });

  it('fetches an image URL under the SSRF rules and refuses redirects', async () => {
    const ok = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', tinyRequest({ image: `${served}/picture.png` }), {
      prefer: 'wait=90',
    });
    expect(ok.body.status).toBe('succeeded');
    const moved = await call<{ errors: Array<{ pointer: string; message: string }> }>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ image: `${served}/moved.png` }),
    );
    expect(moved.status).toBe(422);
    expect(moved.body.errors[0]).toMatchObject({ pointer: '/input/image', message: expect.stringMatching(/redirect/) });
    const internal = await call<{ errors: Array<{ pointer: string }> }>(
      h.stack,
      'POST',
      '/v1/predictions',
      tinyRequest({ image: 'https://10.0.0.1/x.png' }),
    );
    expect(internal.status).toBe(422);
    expect(internal.body.errors[0]!.pointer).toBe('/input/image');
  });

  it('answers 422 for an undecodable image, a mask of another size and a strength that runs no step, charging nothing', async () => {
    const before = await balance(h.stack);
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ image: `data:image/png;base64,${Buffer.from('not an image').toString('base64')}` }, '/input/image', /cannot decode/],
      [{ image: dataUri(image), mask: dataUri(await png(32, 64, () => [255, 255, 255])) }, '/input/mask', /same size/],
      [{ image: dataUri(image), prompt_strength: 0.1 }, '/input/prompt_strength', /runs no step/],
      [{ mask: dataUri(mask) }, '/input/mask', /needs an input image/],
    ];
    for (const [input, pointer, message] of cases) {
      const res = await call<{ errors: Array<{ pointer: string; message: string }> }>(
        h.stack,
        'POST',
        '/v1/predictions',
        tinyRequest(input),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ pointer, message: expect.stringMatching(message) });
    }
    expect(await balance(h.stack)).toBe(before);
  });
});

describe('OpenAI-compatible POST /v1/images/edits with the official openai package', () => {
  const client = () => new OpenAI({ apiKey: h.stack.apiKey, baseURL: `${h.stack.edgeUrl}/v1`, maxRetries: 0 });

  it('edits the transparent area of a mask and answers b64_json PNGs of the requested size', async () => {
    const rgba = Buffer.alloc(64 * 64 * 4);
    for (let i = 0; i < 64 * 64; i++) rgba.set([0, 0, 0, i % 64 < 32 ? 0 : 255], i * 4);
    const openaiMask = await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } })
      .png()
      .toBuffer();
    const res = await client().images.edit({
      model: 'sd15-tiny-demo',
      image: await toFile(image, 'image.png', { type: 'image/png' }),
      mask: await toFile(openaiMask, 'mask.png', { type: 'image/png' }),
      prompt: 'a lighthouse',
      n: 2,
      size: '64x64' as never,
      response_format: 'b64_json',
    });
    expect(res.data).toHaveLength(2);
    for (const d of res.data!) {
      const meta = await sharp(Buffer.from(d.b64_json!, 'base64')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 64]);
    }
  });

  it('answers OpenAI-shaped 400s for an undecodable upload and a mask of another size', async () => {
    const bad = client().images.edit({
      model: 'sd15-tiny-demo',
      image: await toFile(Buffer.from('nope'), 'x.png', { type: 'image/png' }),
      prompt: 'x',
    });
    await expect(bad).rejects.toMatchObject({ status: 400, param: 'image' });
    const small = await png(32, 32, () => [0, 0, 0]);
    const mismatch = client().images.edit({
      model: 'sd15-tiny-demo',
      image: await toFile(image, 'i.png', { type: 'image/png' }),
      mask: await toFile(small, 'm.png', { type: 'image/png' }),
      prompt: 'x',
    });
    await expect(mismatch).rejects.toMatchObject({ status: 400, param: 'mask' });
  });
});
