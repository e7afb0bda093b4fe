/**
 * EulerAncestralDiscreteScheduler, following diffusers v0.30.3 `scheduling_euler_ancestral_discrete.py`
 * (k-diffusion's `sample_euler_ancestral` with η = 1): an Euler step down to σ_down, then fresh noise of
 * scale σ_up, where σ_down² + σ_up² = σ_{i+1}².
 *
 * | here | diffusers |
 * | --- | --- |
 * | `sigmaUp` | √(σ_{i+1}² (σ_i² − σ_{i+1}²) / σ_i²) |
 * | `sigmaDown` | √(σ_{i+1}² − σ_up²) |
 * @module
 */
import { z } from 'zod';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { NoiseSource } from '../noise/noise-source.js';
import { betaScheduleShape, parseSchedulerConfig, PredictionType, TimestepSpacing } from './config.js';
import type { StepOutput } from './scheduler.js';
import { SigmaGridScheduler } from './sigma-scheduler.js';

const f32 = Math.fround;

/** The keys of diffusers' EulerAncestralDiscreteScheduler config this implementation reads (diffusers' defaults). */
export const EulerAncestralConfig = z.object({
  ...betaScheduleShape,
  prediction_type: PredictionType.default('epsilon').refine((p) => p !== 'sample', {
    error: 'EulerAncestralDiscreteScheduler supports prediction_type epsilon and v_prediction only',
  }),
  timestep_spacing: TimestepSpacing.default('linspace'),
  steps_offset: z.number().int().min(0).default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
});
export type EulerAncestralConfig = z.infer<typeof EulerAncestralConfig>;

/** σ_up and σ_down of an ancestral step from σ_from to σ_to (float32 arithmetic, as torch computes them). */
export function ancestralSigmas(sigmaFrom: number, sigmaTo: number): { sigmaUp: number; sigmaDown: number } {
  const from2 = f32(sigmaFrom * sigmaFrom);
  const to2 = f32(sigmaTo * sigmaTo);
  const sigmaUp = f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)));
  const sigmaDown = f32(Math.sqrt(f32(to2 - f32(sigmaUp * sigmaUp))));
  return { sigmaUp, sigmaDown };
}

/** Euler ancestral sampler (stochastic: `step` needs a `NoiseSource`). */
export class EulerAncestralScheduler extends SigmaGridScheduler<EulerAncestralConfig> {
  readonly name = 'euler_ancestral' as const;
  readonly needsNoise = true;

  /** Builds an Euler ancestral scheduler from a diffusers scheduler config (unknown keys ignored). */
  static fromConfig(json: unknown, overrides?: Record<string, unknown>): EulerAncestralScheduler {
    return new EulerAncestralScheduler(parseSchedulerConfig(EulerAncestralConfig, 'EulerAncestralDiscreteScheduler', json, overrides));
  }

  protected gridOptions() {
    return { useKarras: false, finalSigma: 'zero' as const };
  }

  step(modelOutput: Tensor, i: number, sample: Tensor, noise?: NoiseSource): StepOutput {
    this.checkStep(modelOutput, i, sample);
    if (noise === undefined) throw new Error('euler_ancestral: step needs a noise source');
    // 1. σ_i, σ_{i+1} → σ_up, σ_down
    const sigma = this.sigmas[i]!;
    const { sigmaUp, sigmaDown } = ancestralSigmas(sigma, this.sigmas[i + 1]!);
    const dt = sigmaDown - sigma;
    const v = this.config.prediction_type === 'v_prediction';
    const vScale = -sigma / Math.sqrt(sigma * sigma + 1);
    const vShift = 1 / (sigma * sigma + 1);
    const m = modelOutput.data;
    const s = sample.data;
    const z = noise.randn(sample.dims).data;
    const x0 = new Float32Array(s.length);
    const prev = new Float32Array(s.length);
    for (let k = 0; k < s.length; k++) {
      // 2. x̂_0, 3. Euler step to σ_down, 4. add σ_up·z
      const xo = v ? m[k]! * vScale + s[k]! * vShift : s[k]! - sigma * m[k]!;
      x0[k] = xo;
      prev[k] = s[k]! + ((s[k]! - xo) / sigma) * dt + z[k]! * sigmaUp;
    }
    this.completeStep();
    return { prevSample: tensor(prev, sample.dims), predOriginalSample: tensor(x0, sample.dims) };
  }
}
