/**
 * The conformance suite every scheduler runs (diffusers' `SchedulerCommonTest`, restated for our contract):
 * call order, the explicit loop index, dims, reset on `setTimesteps`, batch-row independence, and config parsing.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../../gpu-backend/src/tensor/tensor.js';
import { PhiloxNoiseSource, RowNoiseSource } from '../../../gpu-backend/src/noise/philox-noise.js';
import type { NoiseSource } from '../../../gpu-backend/src/noise/noise-source.js';
import type { Scheduler, SchedulerFactory } from '../../../gpu-backend/src/schedulers/scheduler.js';
import { SchedulerConfigError } from '../../../gpu-backend/src/schedulers/config.js';

/** Inputs of `describeSchedulerConformance`. */
export interface ConformanceOptions {
  /** Builds the scheduler under test from a diffusers config object. */
  factory: SchedulerFactory;
  /** A valid model scheduler config to build from. */
  config: Record<string, unknown>;
  steps?: number;
}

/**
 * A smooth stand-in for the model: ε̂ = 0.1·x + a fixed offset per position within a row (deterministic,
 * input-dependent, and the same function for every batch row).
 */
function fakeModel(sample: Tensor, t: number): Tensor {
  const out = new Float32Array(sample.data.length);
  const row = out.length / sample.dims[0]!;
  for (let k = 0; k < out.length; k++) out[k] = 0.1 * sample.data[k]! + Math.sin((k % row) * 0.37 + t * 0.01);
  return tensor(out, sample.dims);
}

/** Runs a full loop from the given latents; `noise` is built per run so stochastic schedulers repeat exactly. */
function runLoop(s: Scheduler, steps: number, latents: Tensor, noise: NoiseSource | undefined): Tensor {
  s.setTimesteps(steps);
  let x = latents;
  for (let i = 0; i < s.timesteps.length; i++) {
    const input = s.scaleModelInput(x, i);
    x = s.step(fakeModel(input, s.timesteps[i]!), i, x, noise).prevSample;
  }
  return x;
}

const randLatents = (seed: number, dims: number[]): Tensor => new PhiloxNoiseSource(seed).randn(dims);

/** Registers the shared conformance tests for one scheduler. */
export function describeSchedulerConformance(label: string, opts: ConformanceOptions): void {
  const steps = opts.steps ?? 10;
  const make = (): Scheduler => opts.factory(opts.config);
  const noiseFor = (s: Scheduler, seeds: number[]): NoiseSource | undefined =>
    s.needsNoise ? new RowNoiseSource(seeds.map((seed) => new PhiloxNoiseSource(seed, 1))) : undefined;

  describe(`${label} conformance`, () => {
    it('throws when step or scaleModelInput is called before setTimesteps', () => {
      const s = make();
      const x = randLatents(1, [1, 4, 8, 8]);
      expect(s.timesteps).toHaveLength(0);
      expect(() => s.step(x, 0, x, noiseFor(s, [1]))).toThrow(/setTimesteps/);
      expect(() => s.scaleModelInput(x, 0)).toThrow(/setTimesteps/);
    });

    it('throws when the loop index is not the next step', () => {
      const s = make();
      s.setTimesteps(steps);
      const x = randLatents(1, [1, 4, 8, 8]);
      const noise = noiseFor(s, [1]);
      expect(() => s.step(x, 1, x, noise)).toThrow(/expected loop index 0/);
      expect(() => s.scaleModelInput(x, 1)).toThrow(/expected loop index 0/);
      s.step(x, 0, x, noise);
      expect(s.stepIndex).toBe(1);
      expect(() => s.step(x, 0, x, noise)).toThrow(/expected loop index 1/);
    });

    it('throws once every timestep has been stepped', () => {
      const s = make();
      const x = runLoop(s, steps, randLatents(2, [1, 4, 8, 8]), noiseFor(s, [2]));
      expect(s.stepIndex).toBe(s.timesteps.length);
      expect(() => s.step(x, s.timesteps.length, x, noiseFor(s, [2]))).toThrow(/setTimesteps/);
    });

    it('returns outputs with the dims of the input sample', () => {
      const s = make();
      s.setTimesteps(steps);
      const x = randLatents(3, [2, 4, 8, 6]);
      expect(s.scaleModelInput(randLatents(4, [4, 4, 8, 6]), 0).dims).toEqual([4, 4, 8, 6]);
      const out = s.step(fakeModel(x, s.timesteps[0]!), 0, x, noiseFor(s, [3, 4]));
      expect(out.prevSample.dims).toEqual([2, 4, 8, 6]);
      expect(out.prevSample.data).toHaveLength(2 * 4 * 8 * 6);
      if (out.predOriginalSample) expect(out.predOriginalSample.dims).toEqual([2, 4, 8, 6]);
      expect(out.prevSample.data.every(Number.isFinite)).toBe(true);
    });

    it('throws when the model output dims differ from the sample dims', () => {
      const s = make();
      s.setTimesteps(steps);
      expect(() => s.step(randLatents(1, [1, 4, 8, 8]), 0, randLatents(1, [1, 4, 8, 6]), noiseFor(s, [1]))).toThrow(RangeError);
    });

    it('throws for a stochastic step without a noise source', () => {
      const s = make();
      s.setTimesteps(steps);
      const x = randLatents(1, [1, 4, 8, 8]);
      if (s.needsNoise) expect(() => s.step(x, 0, x)).toThrow(/noise/);
      else expect(s.step(x, 0, x).prevSample.dims).toEqual(x.dims);
    });

    it('starts over when setTimesteps is called again', () => {
      const latents = randLatents(5, [1, 4, 8, 8]);
      const fresh = runLoop(make(), steps, latents, noiseFor(make(), [5]));
      const s = make();
      s.setTimesteps(steps + 3);
      let x = latents;
      const warm = noiseFor(s, [9]);
      for (let i = 0; i < 3; i++) x = s.step(fakeModel(s.scaleModelInput(x, i), s.timesteps[i]!), i, x, warm).prevSample;
      const again = runLoop(s, steps, latents, noiseFor(s, [5]));
      expect(s.stepIndex).toBe(s.timesteps.length);
      expect(again.data).toEqual(fresh.data);
    });

    it('gives each batch row the result it gets alone', () => {
      const a = randLatents(6, [1, 4, 8, 8]);
      const b = randLatents(7, [1, 4, 8, 8]);
      const both = tensor(Float32Array.from([...a.data, ...b.data]), [2, 4, 8, 8]);
      const batched = runLoop(make(), steps, both, noiseFor(make(), [6, 7]));
      const alone = runLoop(make(), steps, b, noiseFor(make(), [7]));
      expect(batched.data.subarray(4 * 8 * 8)).toEqual(alone.data);
    });

    it('builds from a config with unknown and private keys, ignoring them', () => {
      const plain = make();
      const noisy = opts.factory({ ...opts.config, _class_name: 'SomethingElse', not_a_key: 42, another: { nested: true } });
      plain.setTimesteps(steps);
      noisy.setTimesteps(steps);
      expect(noisy.timesteps).toEqual(plain.timesteps);
      expect(noisy.initNoiseSigma).toBe(plain.initNoiseSigma);
    });

    for (const key of ['prediction_type', 'timestep_spacing', 'beta_schedule']) {
      it(`rejects an unsupported ${key} with a SchedulerConfigError naming it`, () => {
        expect(() => opts.factory({ ...opts.config, [key]: 'bogus' })).toThrow(SchedulerConfigError);
        expect(() => opts.factory({ ...opts.config, [key]: 'bogus' })).toThrow(key);
      });
    }

    it('rejects a config that is not an object', () => {
      expect(() => opts.factory('nope')).toThrow(SchedulerConfigError);
      expect(() => opts.factory(null)).toThrow(SchedulerConfigError);
    });
  });
}
