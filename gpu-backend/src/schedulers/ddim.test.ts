import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor.js';
import { PhiloxNoiseSource } from '../noise/philox-noise.js';
import { DdimScheduler } from './ddim.js';
import { ConstantNoise } from '../../../test/support/schedulers/constant-noise.js';
import { fixtureDir } from '../../../test/support/fixtures.js';

// SD 1.5: scaled_linear 0.00085 → 0.012 over 1000 steps, steps_offset 1, set_alpha_to_one false.
const config = JSON.parse(readFileSync(path.join(fixtureDir('deepcache-sd15-tiny'), 'scheduler/scheduler_config.json'), 'utf8'));

/** ᾱ_t written out in float64: β_i = (√β_start + i·(√β_end − √β_start)/999)², ᾱ_t = Π_{i≤t}(1 − β_i). */
function alphasCumprodByHand(): number[] {
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  const out: number[] = [];
  let acc = 1;
  for (let i = 0; i < 1000; i++) {
    acc *= 1 - (a + (i * (b - a)) / 999) ** 2;
    out.push(acc);
  }
  return out;
}
const acp = alphasCumprodByHand();

const x = tensor(Float32Array.of(0.5, -1.25, 2, 0.1), [1, 1, 2, 2]);
const eps = tensor(Float32Array.of(0.3, 0.7, -0.2, 1.1), [1, 1, 2, 2]);

describe('DdimScheduler', () => {
  it('computes the eta variance (1−ᾱ_prev)/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_prev) at several timesteps', () => {
    const s = DdimScheduler.fromConfig(config, { eta: 1 });
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    for (const [i, t, prev] of [
      [0, 901, 801],
      [4, 501, 401],
      [8, 101, 1],
      [9, 1, 0],
    ] as const) {
      // the last step (t − 100 < 0) uses ᾱ_0 as ᾱ_prev because set_alpha_to_one is false
      const aT = acp[t]!;
      const aPrev = i === 9 ? acp[0]! : acp[prev]!;
      const byHand = ((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev);
      expect(s.variance(i) / byHand - 1).toBeCloseTo(0, 5);
    }
  });

  it('with eta 0 is deterministic, ignores a noise source and takes the DDIM step written out', () => {
    const s = DdimScheduler.fromConfig(config);
    expect(s.needsNoise).toBe(false);
    s.setTimesteps(10);
    const noise = new ConstantNoise(1);
    const out = s.step(eps, 0, x, noise).prevSample.data;
    expect(noise.draws).toBe(0);
    const [aT, aPrev] = [acp[901]!, acp[801]!];
    for (let k = 0; k < 4; k++) {
      const x0 = (x.data[k]! - Math.sqrt(1 - aT) * eps.data[k]!) / Math.sqrt(aT);
      expect(out[k]).toBeCloseTo(Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps.data[k]!, 5);
    }
  });

  it('with eta > 0 and zero noise shrinks the direction term to √(1−ᾱ_prev−σ²)', () => {
    const eta = 0.8;
    const s = DdimScheduler.fromConfig(config, { eta });
    expect(s.needsNoise).toBe(true);
    s.setTimesteps(10);
    const out = s.step(eps, 0, x, new ConstantNoise(0)).prevSample.data;
    const [aT, aPrev] = [acp[901]!, acp[801]!];
    const sigma2 = eta * eta * ((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev);
    for (let k = 0; k < 4; k++) {
      const x0 = (x.data[k]! - Math.sqrt(1 - aT) * eps.data[k]!) / Math.sqrt(aT);
      expect(out[k]).toBeCloseTo(Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev - sigma2) * eps.data[k]!, 5);
    }
  });

  it('with eta > 0 adds σ_t(η)·z drawn from the noise source', () => {
    const eta = 0.8;
    const zero = DdimScheduler.fromConfig(config, { eta });
    const one = DdimScheduler.fromConfig(config, { eta });
    zero.setTimesteps(10);
    one.setTimesteps(10);
    const a = zero.step(eps, 0, x, new ConstantNoise(0)).prevSample.data;
    const b = one.step(eps, 0, x, new ConstantNoise(1)).prevSample.data;
    const std = eta * Math.sqrt(one.variance(0));
    for (let k = 0; k < 4; k++) expect(b[k]! - a[k]!).toBeCloseTo(std, 5);
    const seeded = new PhiloxNoiseSource(3);
    const c = DdimScheduler.fromConfig(config, { eta });
    c.setTimesteps(10);
    c.step(eps, 0, x, seeded);
    expect(seeded.position).toBe(4);
  });

  it('clips x̂_0 to ±clip_sample_range when clip_sample is set', () => {
    const s = DdimScheduler.fromConfig({ ...config, clip_sample: true, clip_sample_range: 0.5 });
    s.setTimesteps(10);
    const x0 = s.step(eps, 0, x).predOriginalSample!.data;
    expect(Math.max(...x0)).toBeLessThanOrEqual(0.5);
    expect(Math.min(...x0)).toBeGreaterThanOrEqual(-0.5);
  });

  it('rejects a negative eta and dynamic thresholding', () => {
    expect(() => DdimScheduler.fromConfig(config, { eta: -0.1 })).toThrow(/eta/);
    expect(() => DdimScheduler.fromConfig({ ...config, thresholding: true })).toThrow(/thresholding/);
  });

  it('spaces timesteps as diffusers for linspace and trailing', () => {
    const lin = DdimScheduler.fromConfig({ ...config, timestep_spacing: 'linspace' });
    lin.setTimesteps(4);
    expect(lin.timesteps).toEqual([999, 666, 333, 0]); // np.linspace(0, 999, 4).round()[::-1]
    const tr = DdimScheduler.fromConfig({ ...config, timestep_spacing: 'trailing' });
    tr.setTimesteps(4);
    expect(tr.timesteps).toEqual([999, 749, 499, 249]); // round(arange(1000, 0, -250)) − 1
  });
});
