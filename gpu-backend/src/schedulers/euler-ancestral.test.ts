import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor.js';
import { PhiloxNoiseSource } from '../noise/philox-noise.js';
import { EulerAncestralScheduler, ancestralSigmas } from './euler-ancestral.js';
import { EulerScheduler } from './euler.js';
import { ConstantNoise } from '../../../test/support/schedulers/constant-noise.js';
import { fixtureDir } from '../../../test/support/fixtures.js';

// No diffusers fixture exists for Euler ancestral: its σ grid is checked against Euler's (which the fixtures
// verify), and its update against the formulas written out here.
const config = JSON.parse(readFileSync(path.join(fixtureDir('deepcache-sd15-tiny'), 'scheduler/scheduler_config.json'), 'utf8'));
const model = { ...config, timestep_spacing: 'linspace' };

const x = tensor(Float32Array.of(3, -7.5, 12, 0.25), [1, 1, 2, 2]);
const eps = tensor(Float32Array.of(0.3, 0.7, -0.2, 1.1), [1, 1, 2, 2]);

/** σ_up = √(σ_to²(σ_from² − σ_to²)/σ_from²), σ_down = √(σ_to² − σ_up²) (k-diffusion `get_ancestral_step`, η = 1). */
function byHand(from: number, to: number): { up: number; down: number } {
  const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
  return { up, down: Math.sqrt(to * to - up * up) };
}

describe('EulerAncestralScheduler', () => {
  it('uses the Euler σ grid, timesteps and init_noise_sigma', () => {
    for (const spacing of ['linspace', 'leading', 'trailing']) {
      const a = EulerAncestralScheduler.fromConfig({ ...config, timestep_spacing: spacing });
      const e = EulerScheduler.fromConfig({ ...config, timestep_spacing: spacing });
      a.setTimesteps(12);
      e.setTimesteps(12);
      expect(a.timesteps).toEqual(e.timesteps);
      expect(a.sigmas).toEqual(e.sigmas);
      expect(a.initNoiseSigma).toBe(e.initNoiseSigma);
    }
  });

  it('splits σ_{i+1} into σ_up and σ_down as the ancestral formulas say', () => {
    const s = EulerAncestralScheduler.fromConfig(model);
    s.setTimesteps(10);
    for (const i of [0, 4, 8, 9]) {
      const [from, to] = [s.sigmas[i]!, s.sigmas[i + 1]!];
      const got = ancestralSigmas(from, to);
      const want = byHand(from, to);
      expect(got.sigmaUp).toBeCloseTo(want.up, 5);
      expect(got.sigmaDown).toBeCloseTo(want.down, 5);
      expect(got.sigmaUp ** 2 + got.sigmaDown ** 2).toBeCloseTo(to * to, 4);
    }
  });

  it('with zero noise takes the Euler step to σ_down: x + ε·(σ_down − σ)', () => {
    const s = EulerAncestralScheduler.fromConfig(model);
    s.setTimesteps(10);
    const out = s.step(eps, 0, x, new ConstantNoise(0)).prevSample.data;
    const sigma = s.sigmas[0]!;
    const { down } = byHand(sigma, s.sigmas[1]!);
    for (let k = 0; k < 4; k++) expect(out[k]).toBeCloseTo(x.data[k]! + eps.data[k]! * (down - sigma), 4);
  });

  it('adds σ_up·z from the noise source, one draw per element', () => {
    const zero = EulerAncestralScheduler.fromConfig(model);
    const one = EulerAncestralScheduler.fromConfig(model);
    zero.setTimesteps(10);
    one.setTimesteps(10);
    const noise = new ConstantNoise(1);
    const a = zero.step(eps, 0, x, new ConstantNoise(0)).prevSample.data;
    const b = one.step(eps, 0, x, noise).prevSample.data;
    expect(noise.draws).toBe(4);
    const { up } = byHand(one.sigmas[0]!, one.sigmas[1]!);
    for (let k = 0; k < 4; k++) expect(b[k]! - a[k]!).toBeCloseTo(up, 4);
  });

  it('lands on x̂_0 at the last step, where σ_up = σ_down = 0', () => {
    const s = EulerAncestralScheduler.fromConfig(model);
    s.setTimesteps(2);
    s.step(eps, 0, x, new ConstantNoise(0));
    const out = s.step(eps, 1, x, new ConstantNoise(1));
    const sigma = s.sigmas[1]!;
    for (let k = 0; k < 4; k++) expect(out.prevSample.data[k]).toBeCloseTo(x.data[k]! - sigma * eps.data[k]!, 5);
    expect(out.prevSample.data).toEqual(out.predOriginalSample!.data);
  });

  it('converts v-prediction: x̂_0 = −σ/√(σ²+1)·v + x/(σ²+1)', () => {
    const s = EulerAncestralScheduler.fromConfig({ ...model, prediction_type: 'v_prediction' });
    s.setTimesteps(10);
    const x0 = s.step(eps, 0, x, new ConstantNoise(0)).predOriginalSample!.data;
    const sigma = s.sigmas[0]!;
    for (let k = 0; k < 4; k++) {
      expect(x0[k]).toBeCloseTo((-sigma / Math.sqrt(sigma * sigma + 1)) * eps.data[k]! + x.data[k]! / (sigma * sigma + 1), 5);
    }
  });

  it('is reproducible from the seed and changes with it', () => {
    const run = (seed: number): Float32Array => {
      const s = EulerAncestralScheduler.fromConfig(model);
      s.setTimesteps(5);
      const noise = new PhiloxNoiseSource(seed);
      let lat = x;
      for (let i = 0; i < 5; i++) lat = s.step(eps, i, lat, noise).prevSample;
      return lat.data;
    };
    expect(run(1)).toEqual(run(1));
    expect(run(2)).not.toEqual(run(1));
  });

  it('rejects prediction_type sample, as diffusers does', () => {
    expect(() => EulerAncestralScheduler.fromConfig({ ...model, prediction_type: 'sample' })).toThrow(/prediction_type/);
  });
});
