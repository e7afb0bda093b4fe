import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageHeader, inputObjectKey, sniffImageFormat, stepsForStrength } from './input-image.js';
import { findModel } from './models.js';
import { priceFor, unetPasses } from './pricing.js';
import type { ResolvedInput } from './prediction.js';

const raw = Buffer.alloc(37 * 23 * 3, 90);
const encode = (format: 'png' | 'jpeg' | 'webp', lossless = false) =>
  sharp(raw, { raw: { width: 37, height: 23, channels: 3 } })
    [format](format === 'webp' ? { lossless } : {})
    .toBuffer();

describe('input image headers', () => {
  it.each([
    ['png', false],
    ['jpeg', false],
    ['webp', false],
    ['webp', true],
  ] as const)('reads format and size of a %s (lossless %s) as sharp wrote it', async (format, lossless) => {
    const bytes = new Uint8Array(await encode(format, lossless));
    expect(imageHeader(bytes)).toEqual({ format, width: 37, height: 23 });
  });

  it('refuses bytes that are not an accepted image or whose header is cut', async () => {
    expect(sniffImageFormat(new TextEncoder().encode('GIF89a......'))).toBeNull();
    expect(imageHeader(new TextEncoder().encode('not an image at all, really'))).toBeNull();
    const png = new Uint8Array(await encode('png'));
    expect(imageHeader(png.subarray(0, 20))).toBeNull();
  });

  it('keys inputs beside the outputs', () => {
    expect(inputObjectKey('outputs/', 'p1', 'mask')).toBe('outputs/p1/input/mask');
  });
});

describe('image-to-image pricing', () => {
  const base: ResolvedInput = {
    prompt: 'x',
    negative_prompt: '',
    width: 512,
    height: 512,
    num_inference_steps: 30,
    guidance_scale: 7.5,
    seed: 1,
    scheduler: 'ddim',
    num_outputs: 1,
    output_format: 'png',
    output_quality: 90,
    deepcache: false,
  };
  it('counts the steps the strength keeps (DeepCache split over them) plus one encoder pass', () => {
    expect(stepsForStrength(30, 0.5)).toBe(15);
    expect(stepsForStrength(10, 0.29)).toBe(2);
    expect(unetPasses({ ...base, image: 'k', prompt_strength: 0.5 })).toEqual({ full: 15, shallow: 0 });
    expect(
      unetPasses({ ...base, image: 'k', prompt_strength: 0.5, deepcache: { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' } }),
    ).toEqual({ full: 5, shallow: 10 });
    const spec = findModel('stable-diffusion-1.5')!;
    // 10 credits × (15 + 1)/30 → 6; text-to-image at 30 steps → 10
    expect(priceFor(spec, { ...base, image: 'k', prompt_strength: 0.5 }).per_image).toBe(6);
    expect(priceFor(spec, base).per_image).toBe(10);
  });
});
