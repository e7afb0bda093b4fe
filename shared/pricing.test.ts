import { describe, expect, it } from 'vitest';
import { deepcacheStepPlan } from './deepcache-schedule.js';
import { loopEvaluations, MACS_PER_CREDIT, macsPerImage, priceFor, unetMacsPerEvaluation, unetPasses } from './pricing.js';
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
const sd15 = { family: 'sd15' } as const;
const dc = (cache_interval: number, cache_branch_id: number, schedule: 'uniform' | 'nonuniform' = 'uniform') => ({
  cache_interval,
  cache_branch_id,
  schedule,
});

describe('the price follows the U-Net MACs a request runs', () => {
  it('weighs a shallow step by its branch: 8 % of a full one at branch 0, 98.5 % at branch 11 (SD 1.5, 512²), 88 % at branch 8 (SDXL, 1024²)', () => {
    const share = (family: 'sd15' | 'sdxl', side: number, branch: number) => {
      const m = unetMacsPerEvaluation(family, { width: side, height: side, deepcache: dc(3, branch) });
      return m.shallow / m.full;
    };
    expect(share('sd15', 512, 0)).toBeCloseTo(0.079, 3);
    expect(share('sd15', 512, 11)).toBeCloseTo(0.985, 3);
    expect(share('sdxl', 1024, 8)).toBeCloseTo(0.88, 2);
  });

  it('no DeepCache and branch 11 at interval 20 cost almost the same; branch 0 at interval 3 about a third', () => {
    const plain = macsPerImage(sd15, base);
    const b11 = macsPerImage(sd15, { ...base, deepcache: dc(20, 11) });
    const b0 = macsPerImage(sd15, { ...base, deepcache: dc(3, 0) });
    expect(b11 / plain).toBeGreaterThan(0.98);
    expect(b11 / plain).toBeLessThan(1);
    expect(b0 / plain).toBeCloseTo((10 + 20 * 0.0788) / 30, 2);
    expect(priceFor(sd15, base).per_image - priceFor(sd15, { ...base, deepcache: dc(20, 11) }).per_image).toBeLessThanOrEqual(1);
  });

  it('charges SD 1.5 at 512², 30 steps, CFG, no DeepCache 10 credits per image, and n images n times that', () => {
    expect(priceFor(sd15, base)).toEqual({ credits: 10, per_image: 10 });
    expect(priceFor(sd15, { ...base, num_outputs: 4 }).credits).toBe(40);
  });

  it('counts CFG rows: guidance 1 runs the U-Net on one row instead of two', () => {
    expect(macsPerImage(sd15, { ...base, guidance_scale: 1 }) * 2).toBe(macsPerImage(sd15, base));
  });

  it('counts the loop PLMS runs (n + 1 evaluations)', () => {
    expect(loopEvaluations('pndm', 30)).toBe(31);
    expect(unetPasses({ ...base, scheduler: 'pndm' })).toEqual({ full: 31, shallow: 0 });
    expect(unetPasses({ ...base, scheduler: 'pndm', deepcache: dc(3, 0) })).toEqual({ full: 11, shallow: 20 });
  });

  it('prices the non-uniform schedule by its own plan', () => {
    const input = { ...base, num_inference_steps: 50, deepcache: dc(5, 0, 'nonuniform') };
    const full = deepcacheStepPlan(50, 50, input.deepcache).filter(Boolean).length;
    expect(unetPasses(input)).toEqual({ full, shallow: 50 - full });
    const per = unetMacsPerEvaluation('sd15', input);
    expect(macsPerImage(sd15, input)).toBe(2 * (full * per.full + (50 - full) * per.shallow));
  });

  it('grows faster than the pixel count (self-attention is quadratic in the tokens)', () => {
    const small = macsPerImage(sd15, base);
    const big = macsPerImage(sd15, { ...base, width: 1024, height: 1024 });
    expect(big / small).toBeGreaterThan(4);
  });

  it('never prices an image below one credit and rounds up', () => {
    expect(priceFor(sd15, { ...base, width: 64, height: 64, num_inference_steps: 1 }).per_image).toBe(1);
    const input = { ...base, num_inference_steps: 7 };
    expect(priceFor(sd15, input).per_image).toBe(Math.ceil(macsPerImage(sd15, input) / MACS_PER_CREDIT));
  });
});
