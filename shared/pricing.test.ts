import { describe, expect, it } from 'vitest';
import { priceFor, priceTable, unetPasses } from './pricing.js';
import type { ResolvedInput } from './prediction.js';

const base: ResolvedInput = {
  prompt: 'a cat',
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

describe('priceFor', () => {
  it('charges the table base price at the reference size and steps without DeepCache', () => {
    expect(priceFor({ family: 'sd15' }, base)).toEqual({ credits: priceTable.sd15.base_credits, per_image: priceTable.sd15.base_credits });
    const xl = { ...base, width: 1024, height: 1024 };
    expect(priceFor({ family: 'sdxl' }, xl).per_image).toBe(priceTable.sdxl.base_credits);
  });

  it('multiplies by the number of images', () => {
    expect(priceFor({ family: 'sd15' }, { ...base, num_outputs: 4 }).credits).toBe(4 * priceFor({ family: 'sd15' }, base).credits);
  });

  it('scales with pixels and steps', () => {
    const small = priceFor({ family: 'sd15' }, base).per_image;
    const big = priceFor({ family: 'sd15' }, { ...base, width: 1024, height: 1024, num_inference_steps: 60 }).per_image;
    expect(big).toBe(small * 8);
  });

  it('prices DeepCache runs lower than full runs', () => {
    const withCache = { ...base, deepcache: { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' as const } };
    expect(unetPasses(withCache)).toEqual({ full: 10, shallow: 20 });
    // 10 full + 0.25 × 20 shallow = 15 effective steps → half of 30.
    expect(priceFor({ family: 'sd15' }, withCache).per_image).toBe(5);
  });

  it('never prices an image below one credit', () => {
    expect(priceFor({ family: 'sd15' }, { ...base, width: 64, height: 64, num_inference_steps: 1 }).per_image).toBe(1);
  });
});
