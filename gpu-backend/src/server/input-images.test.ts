import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { createS3OutputStore, type OutputStore } from '../storage/s3-output-store.js';
import { startTestS3, type TestS3 } from '../../../test/support/s3.js';
import { InputImageError, readInputImages } from './input-images.js';

const input = (extra: Partial<ResolvedInput>): ResolvedInput => ({
  prompt: 'x',
  negative_prompt: '',
  width: 32,
  height: 16,
  num_inference_steps: 4,
  guidance_scale: 7.5,
  seed: 1,
  scheduler: 'ddim',
  num_outputs: 1,
  output_format: 'png',
  output_quality: 90,
  deepcache: false,
  ...extra,
});

describe('input images from the store (s3rver)', () => {
  let s3: TestS3;
  let store: OutputStore;
  const put = (key: string, body: Buffer) => store.putImage({ key, body, contentType: 'image/png', metadata: {} });

  beforeAll(async () => {
    s3 = await startTestS3();
    store = createS3OutputStore({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket: s3.bucket,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1,
    });
    // 64×32 image: left half red, right half blue; masks: white left half (luminance), transparent left half (alpha)
    const rgb = Buffer.alloc(64 * 32 * 3);
    const white = Buffer.alloc(64 * 32 * 3);
    const rgba = Buffer.alloc(64 * 32 * 4);
    for (let i = 0; i < 64 * 32; i++) {
      const left = i % 64 < 32;
      rgb.set(left ? [255, 0, 0] : [0, 0, 255], i * 3);
      white.set(left ? [255, 255, 255] : [0, 0, 0], i * 3);
      rgba.set([0, 0, 0, left ? 0 : 255], i * 4);
    }
    await put(
      'in/image',
      await sharp(rgb, { raw: { width: 64, height: 32, channels: 3 } })
        .png()
        .toBuffer(),
    );
    await put(
      'in/white',
      await sharp(white, { raw: { width: 64, height: 32, channels: 3 } })
        .png()
        .toBuffer(),
    );
    await put(
      'in/alpha',
      await sharp(rgba, { raw: { width: 64, height: 32, channels: 4 } })
        .png()
        .toBuffer(),
    );
    await put('in/junk', Buffer.from('definitely not an image'));
  });
  afterAll(async () => {
    store?.close();
    await s3?.close();
  });

  const leftRight = (gray: Uint8Array) => [gray[16 * 0 + 2]!, gray[32 * 8 + 29]!];

  it('resizes the image to the job size as RGB and reads a white mask and a transparent mask the same way', async () => {
    const white = await readInputImages(store, input({ image: 'in/image', mask: 'in/white' }));
    expect(white!.image).toHaveLength(32 * 16 * 3);
    expect([...white!.image.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect(white!.mask).toHaveLength(32 * 16);
    expect(leftRight(white!.mask!)).toEqual([255, 0]);
    const alpha = await readInputImages(store, input({ image: 'in/image', mask: 'in/alpha', mask_mode: 'transparent' }));
    expect(leftRight(alpha!.mask!)).toEqual([255, 0]);
    expect(await readInputImages(store, input({}))).toBeUndefined();
  });

  it('fails with an InputImageError for an undecodable or missing object', async () => {
    await expect(readInputImages(store, input({ image: 'in/junk' }))).rejects.toThrow(InputImageError);
    await expect(readInputImages(store, input({ image: 'in/missing' }))).rejects.toThrow(/cannot be read/);
  });
});
