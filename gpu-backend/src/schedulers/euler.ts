/**
 * EulerDiscreteScheduler (Karras et al. 2022, Algorithm 2 with s_churn = 0), equal to diffusers v0.30.3
 * `scheduling_euler_discrete.py`: the probability-flow ODE dx/dσ = (x − x̂_0)/σ integrated with Euler steps
 * on the σ grid, optionally Karras-spaced.
 *
 * | here | diffusers |
 * | --- | --- |
 * | `x0` | `pred_original_sample` |
 * | `d` | `derivative` = (x − x̂_0)/σ |
 * | `dt` | σ_{i+1} − σ_i |
 * @module
 */
import { z } from 'zod';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { betaScheduleShape, parseSchedulerConfig, PredictionType, TimestepSpacing } from './config.js';
import type { StepOutput } from './scheduler.js';
import { SigmaGridScheduler } from './sigma-scheduler.js';

/** The keys of diffusers' EulerDiscreteScheduler config this implementation reads (with diffusers' defaults). */
export const EulerConfig = z.object({
  ...betaScheduleShape,
  prediction_type: PredictionType.default('epsilon'),
  interpolation_type: z.literal('linear', { error: 'only interpolation_type "linear" is supported' }).default('linear'),
  use_karras_sigmas: z.boolean().default(false),
  sigma_min: z.number().positive().nullable().default(null),
  sigma_max: z.number().positive().nullable().default(null),
  timestep_spacing: TimestepSpacing.default('linspace'),
  timestep_type: z.literal('discrete', { error: 'only timestep_type "discrete" is supported' }).default('discrete'),
  steps_offset: z.number().int().min(0).default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).default('zero'),
});
export type EulerConfig = z.infer<typeof EulerConfig>;

/** Euler sampler in σ space (deterministic). */
export class EulerScheduler extends SigmaGridScheduler<EulerConfig> {
  readonly name = 'euler' as const;
  readonly needsNoise = false;

  /** Builds an Euler scheduler from a diffusers scheduler config (unknown keys ignored). */
  static fromConfig(json: unknown, overrides?: Record<string, unknown>): EulerScheduler {
    return new EulerScheduler(parseSchedulerConfig(EulerConfig, 'EulerDiscreteScheduler', json, overrides));
  }

  protected gridOptions() {
    const c = this.config;
    return { useKarras: c.use_karras_sigmas, karrasMin: c.sigma_min, karrasMax: c.sigma_max, finalSigma: c.final_sigmas_type };
  }

  step(modelOutput: Tensor, i: number, sample: Tensor): StepOutput {
    this.checkStep(modelOutput, i, sample);
    // 1. σ_i and the step size (s_churn = 0, so σ̂ = σ)
    const sigma = this.sigmas[i]!;
    const dt = this.sigmas[i + 1]! - sigma;
    const vScale = -sigma / Math.sqrt(sigma * sigma + 1);
    const vShift = 1 / (sigma * sigma + 1);
    const kind = this.config.prediction_type;
    const m = modelOutput.data;
    const s = sample.data;
    const x0 = new Float32Array(s.length);
    const prev = new Float32Array(s.length);
    for (let k = 0; k < s.length; k++) {
      // 2. x̂_0 from the model output
      const xo = kind === 'epsilon' ? s[k]! - sigma * m[k]! : kind === 'v_prediction' ? m[k]! * vScale + s[k]! * vShift : m[k]!;
      x0[k] = xo;
      // 3. Euler step: x + (x − x̂_0)/σ · dt
      prev[k] = s[k]! + ((s[k]! - xo) / sigma) * dt;
    }
    this.completeStep();
    return { prevSample: tensor(prev, sample.dims), predOriginalSample: tensor(x0, sample.dims) };
  }
}
