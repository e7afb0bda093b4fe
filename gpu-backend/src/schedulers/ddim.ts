/**
 * DDIMScheduler (Song et al. 2020, arXiv:2010.02502), equal to diffusers v0.30.3 `scheduling_ddim.py`.
 *
 * | here | paper / diffusers |
 * | --- | --- |
 * | `aT`, `aPrev` | ᾱ_t, ᾱ_{t−δ} (`alpha_prod_t`, `alpha_prod_t_prev`) |
 * | `x0` | x̂_0 (`pred_original_sample`) |
 * | `std` | σ_t(η) = η·√((1−ᾱ_{t−δ})/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_{t−δ})) (eq. 16) |
 * @module
 */
import { z } from 'zod';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { NoiseSource } from '../noise/noise-source.js';
import { addNoiseVp, npArange, npLinspace, roundHalfEven } from './common.js';
import { betaScheduleShape, parseSchedulerConfig, PredictionType, SchedulerConfigError, TimestepSpacing } from './config.js';
import { BaseScheduler } from './base-scheduler.js';
import type { SchedulerOptions, StepOutput } from './scheduler.js';

const f32 = Math.fround;

/** The keys of diffusers' DDIMScheduler config this implementation reads (with diffusers' defaults). */
export const DdimConfig = z.object({
  ...betaScheduleShape,
  clip_sample: z.boolean().default(true),
  set_alpha_to_one: z.boolean().default(true),
  steps_offset: z.number().int().min(0).default(0),
  prediction_type: PredictionType.default('epsilon'),
  thresholding: z.literal(false, { error: 'thresholding (dynamic thresholding) is not supported' }).default(false),
  clip_sample_range: z.number().positive().default(1),
  timestep_spacing: TimestepSpacing.default('leading'),
  rescale_betas_zero_snr: z.boolean().default(false),
});
export type DdimConfig = z.infer<typeof DdimConfig>;

/** DDIM timesteps (descending, integers) as diffusers' `set_timesteps` spaces them. */
function ddimTimesteps(n: number, cfg: Pick<DdimConfig, 'num_train_timesteps' | 'timestep_spacing' | 'steps_offset'>): number[] {
  const T = cfg.num_train_timesteps;
  if (cfg.timestep_spacing === 'linspace')
    return npLinspace(0, T - 1, n)
      .map(roundHalfEven)
      .reverse();
  if (cfg.timestep_spacing === 'leading') {
    const ratio = Math.floor(T / n);
    return npArange(0, n, 1)
      .map((k) => roundHalfEven(k * ratio) + cfg.steps_offset)
      .reverse();
  }
  if (cfg.timestep_spacing === 'trailing') return npArange(T, 0, -T / n).map((v) => roundHalfEven(v) - 1);
  throw new SchedulerConfigError(`timestep_spacing ${String(cfg.timestep_spacing)} is not supported`);
}

/** DDIM sampler; deterministic for η = 0, stochastic (needs a `NoiseSource`) for η > 0. */
export class DdimScheduler extends BaseScheduler<DdimConfig> {
  readonly name = 'ddim' as const;
  readonly needsNoise: boolean;
  readonly eta: number;
  /** ᾱ_{t−δ} where t − δ < 0 (diffusers' `final_alpha_cumprod`). */
  readonly #finalAlphaCumprod: number;

  constructor(config: DdimConfig, options: SchedulerOptions = {}) {
    const eta = options.eta ?? 0;
    if (!(eta >= 0)) throw new SchedulerConfigError(`ddim: eta must be >= 0, got ${eta}`);
    super(config);
    this.eta = eta;
    this.needsNoise = eta > 0;
    this.#finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  /** Builds a DDIM scheduler from a diffusers scheduler config (unknown keys ignored). */
  static fromConfig(json: unknown, options?: SchedulerOptions, overrides?: Record<string, unknown>): DdimScheduler {
    return new DdimScheduler(parseSchedulerConfig(DdimConfig, 'DDIMScheduler', json, overrides), options);
  }

  protected buildTimesteps(numInferenceSteps: number): number[] {
    return ddimTimesteps(numInferenceSteps, this.config);
  }

  protected noiseTo(original: Tensor, noise: Tensor, index: number): Tensor {
    return addNoiseVp(original, noise, this.alphasCumprod[this.timesteps[index]!]!);
  }

  /** ᾱ_t and ᾱ_{t−δ} for loop index `i` (δ = T // n, as diffusers, whatever the spacing). */
  alphas(i: number): { aT: number; aPrev: number } {
    const t = this.timesteps[i]!;
    const prevT = t - Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    return { aT: this.alphasCumprod[t]!, aPrev: prevT >= 0 ? this.alphasCumprod[prevT]! : this.#finalAlphaCumprod };
  }

  /** σ_t² / η² of eq. 16: (1−ᾱ_{t−δ})/(1−ᾱ_t) · (1 − ᾱ_t/ᾱ_{t−δ}) (diffusers' `_get_variance`). */
  variance(i: number): number {
    const { aT, aPrev } = this.alphas(i);
    return (f32(1 - aPrev) / f32(1 - aT)) * (1 - aT / aPrev);
  }

  step(modelOutput: Tensor, i: number, sample: Tensor, noise?: NoiseSource): StepOutput {
    this.checkStep(modelOutput, i, sample);
    if (this.needsNoise && noise === undefined) throw new Error('ddim: eta > 0 needs a noise source');
    // 1. ᾱ_t, ᾱ_{t−δ}, 1 − ᾱ_t
    const { aT, aPrev } = this.alphas(i);
    const sqrtA = f32(Math.sqrt(aT));
    const sqrtB = f32(Math.sqrt(f32(1 - aT)));
    // 2. σ_t(η) (eq. 16) and the direction coefficient √(1 − ᾱ_{t−δ} − σ_t²) (eq. 12)
    const std = this.eta * Math.sqrt(this.variance(i));
    const dirCoef = Math.sqrt(1 - aPrev - std * std);
    const sqrtAPrev = Math.sqrt(aPrev);
    const clip = this.config.clip_sample ? this.config.clip_sample_range : Number.POSITIVE_INFINITY;
    const m = modelOutput.data;
    const s = sample.data;
    const n = s.length;
    const x0 = new Float32Array(n);
    const prev = new Float32Array(n);
    const kind = this.config.prediction_type;
    // 3. x̂_0 and ε̂ from the model output (eq. 12), 4. clip x̂_0, 5. x_{t−δ}
    for (let k = 0; k < n; k++) {
      let xo: number;
      let eps: number;
      if (kind === 'epsilon') {
        eps = m[k]!;
        xo = (s[k]! - sqrtB * eps) / sqrtA;
      } else if (kind === 'v_prediction') {
        xo = sqrtA * s[k]! - sqrtB * m[k]!;
        eps = sqrtA * m[k]! + sqrtB * s[k]!;
      } else {
        xo = m[k]!;
        eps = (s[k]! - sqrtA * xo) / sqrtB;
      }
      if (xo > clip) xo = clip;
      else if (xo < -clip) xo = -clip;
      x0[k] = xo;
      prev[k] = sqrtAPrev * xo + dirCoef * eps;
    }
    // 6. add σ_t·z for η > 0
    if (this.needsNoise) {
      const z = noise!.randn(sample.dims).data;
      for (let k = 0; k < n; k++) prev[k] = prev[k]! + std * z[k]!;
    }
    this.completeStep();
    return { prevSample: tensor(prev, sample.dims), predOriginalSample: tensor(x0, sample.dims) };
  }
}
