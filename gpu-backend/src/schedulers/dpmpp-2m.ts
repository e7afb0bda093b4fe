/**
 * DPMSolverMultistepScheduler as DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095, Algorithm 2), equal to
 * diffusers v0.30.3 `scheduling_dpmsolver_multistep.py` with `algorithm_type="dpmsolver++"`, solver order 1 or 2,
 * `solver_type` midpoint or heun, `lower_order_final`, `euler_at_final`, `final_sigmas_type`, Karras σ and
 * `lambda_min_clipped`.
 *
 * | here | paper / diffusers |
 * | --- | --- |
 * | `alpha`, `sig` | α_t = 1/√(σ²+1), σ_t = σ·α_t (`_sigma_to_alpha_sigma_t`) |
 * | `lambda` | λ_t = log α_t − log σ_t (half log-SNR) |
 * | `h`, `r0` | h_i = λ_{t_i} − λ_{t_{i−1}}, r = h_{i−1}/h_i |
 * | `d0`, `d1` | D0 = x̂_0(t_{i−1}), D1 = (x̂_0(t_{i−1}) − x̂_0(t_{i−2}))/r |
 * @module
 */
import { z } from 'zod';
import { tensor, type Tensor } from '../tensor/tensor.js';
import {
  scaledSum,
  interpAtIndex,
  karrasSigmas,
  logSigmas,
  npArange,
  npLinspace,
  roundHalfEven,
  sigmaToT,
  trainingSigmas,
} from './common.js';
import {
  betaScheduleShape,
  ExtendedNumber,
  parseSchedulerConfig,
  PredictionType,
  SchedulerConfigError,
  TimestepSpacing,
} from './config.js';
import { BaseScheduler } from './base-scheduler.js';
import type { StepOutput } from './scheduler.js';

const f32 = Math.fround;

/** The keys of diffusers' DPMSolverMultistepScheduler config this implementation reads (diffusers' defaults). */
export const DpmSolverConfig = z.object({
  ...betaScheduleShape,
  solver_order: z.union([z.literal(1), z.literal(2)], { error: 'solver_order must be 1 or 2' }).default(2),
  prediction_type: PredictionType.default('epsilon'),
  thresholding: z.literal(false, { error: 'thresholding (dynamic thresholding) is not supported' }).default(false),
  algorithm_type: z.literal('dpmsolver++', { error: 'only algorithm_type "dpmsolver++" is supported' }).default('dpmsolver++'),
  // diffusers maps the UniPC names logrho/bh1/bh2 to midpoint
  solver_type: z
    .enum(['midpoint', 'heun', 'logrho', 'bh1', 'bh2'])
    .default('midpoint')
    .transform((t) => (t === 'heun' ? 'heun' : 'midpoint')),
  lower_order_final: z.boolean().default(true),
  euler_at_final: z.boolean().default(false),
  use_karras_sigmas: z.boolean().default(false),
  use_lu_lambdas: z.literal(false, { error: 'use_lu_lambdas is not supported' }).default(false),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).default('zero'),
  lambda_min_clipped: ExtendedNumber.default(Number.NEGATIVE_INFINITY),
  variance_type: z.null({ error: 'variance_type must be null (learned variance is not supported)' }).default(null),
  timestep_spacing: TimestepSpacing.default('linspace'),
  steps_offset: z.number().int().min(0).default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
});
export type DpmSolverConfig = z.infer<typeof DpmSolverConfig>;

/** α_t and σ_t of the VP process at Karras σ (diffusers' `_sigma_to_alpha_sigma_t`). */
function alphaSigma(sigma: number): { alpha: number; sig: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return { alpha, sig: sigma * alpha };
}

/** DPM-Solver++ multistep sampler (deterministic). `name` says whether Karras σ are used. */
export class DpmSolverMultistepScheduler extends BaseScheduler<DpmSolverConfig> {
  readonly name: 'dpmpp_2m' | 'dpmpp_2m_karras';
  readonly needsNoise = false;
  readonly #trainSigmas: Float32Array;
  #sigmas: Float32Array = new Float32Array(0);
  #lowerOrderNums = 0;
  #prevX0: Float32Array | null = null;

  constructor(config: DpmSolverConfig) {
    super(config);
    this.name = config.use_karras_sigmas ? 'dpmpp_2m_karras' : 'dpmpp_2m';
    this.#trainSigmas = trainingSigmas(this.alphasCumprod);
  }

  /** Builds the scheduler from a diffusers scheduler config (unknown keys ignored). */
  static fromConfig(json: unknown, overrides?: Record<string, unknown>): DpmSolverMultistepScheduler {
    return new DpmSolverMultistepScheduler(parseSchedulerConfig(DpmSolverConfig, 'DPMSolverMultistepScheduler', json, overrides));
  }

  /** σ_0 … σ_n (float32; the last one is the final σ). */
  get sigmas(): Float32Array {
    return this.#sigmas;
  }

  /** The last training timestep + 1 whose λ is ≥ `lambda_min_clipped` (diffusers' `last_timestep`). */
  #lastTimestep(): number {
    const T = this.config.num_train_timesteps;
    let clipped = 0; // searchsorted(flip(λ), lambda_min_clipped), λ ascending after the flip
    while (clipped < T) {
      const a = this.alphasCumprod[T - 1 - clipped]!;
      const lambda = f32(f32(Math.log(f32(Math.sqrt(a)))) - f32(Math.log(f32(Math.sqrt(f32(1 - a))))));
      if (lambda >= this.config.lambda_min_clipped) break;
      clipped += 1;
    }
    return T - clipped;
  }

  protected buildTimesteps(numInferenceSteps: number): number[] {
    const cfg = this.config;
    const T = cfg.num_train_timesteps;
    const n = numInferenceSteps;
    // 1. timesteps over [0, last) as in Table 2 of arXiv:2305.08891
    const last = this.#lastTimestep();
    let timesteps: number[];
    if (cfg.timestep_spacing === 'linspace') {
      timesteps = npLinspace(0, last - 1, n + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, n);
    } else if (cfg.timestep_spacing === 'leading') {
      const ratio = Math.floor(last / (n + 1));
      timesteps = npArange(0, n + 1, 1)
        .map((k) => roundHalfEven(k * ratio))
        .reverse()
        .slice(0, n)
        .map((t) => t + cfg.steps_offset);
    } else if (cfg.timestep_spacing === 'trailing') {
      timesteps = npArange(last, 0, -T / n).map((v) => roundHalfEven(v) - 1);
    } else {
      throw new SchedulerConfigError(`timestep_spacing ${String(cfg.timestep_spacing)} is not supported`);
    }
    // 2. σ at those timesteps (or Karras σ, with timesteps mapped back from σ), plus the final σ
    let sigmas: number[];
    let finalSigma: number;
    if (cfg.use_karras_sigmas) {
      sigmas = karrasSigmas(this.#trainSigmas[0]!, this.#trainSigmas[T - 1]!, n);
      const logSig = logSigmas(this.#trainSigmas);
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logSig)));
      finalSigma = cfg.final_sigmas_type === 'zero' ? 0 : sigmas[sigmas.length - 1]!;
    } else {
      sigmas = timesteps.map((t) => interpAtIndex(t, this.#trainSigmas));
      finalSigma = cfg.final_sigmas_type === 'zero' ? 0 : this.#trainSigmas[0]!;
    }
    this.#sigmas = Float32Array.from([...sigmas, finalSigma]);
    return timesteps;
  }

  protected override resetRun(): void {
    this.#lowerOrderNums = 0;
    this.#prevX0 = null;
  }

  /** α_t·x_0 + σ_t·ε at the σ of position `index` (float32 factors, as diffusers' `add_noise`). */
  protected noiseTo(original: Tensor, noise: Tensor, index: number): Tensor {
    const sigma = this.#sigmas[index]!;
    const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
    return scaledSum(original, alpha, noise, f32(sigma * alpha));
  }

  step(modelOutput: Tensor, i: number, sample: Tensor): StepOutput {
    this.checkStep(modelOutput, i, sample);
    const cfg = this.config;
    const len = this.timesteps.length;
    // 1. order for this step (lower orders at the start and, for few steps or σ_last = 0, at the end)
    const lowerOrderFinal =
      i === len - 1 && (cfg.euler_at_final || (cfg.lower_order_final && len < 15) || cfg.final_sigmas_type === 'zero');
    const firstOrder = cfg.solver_order === 1 || this.#lowerOrderNums < 1 || lowerOrderFinal;
    // 2. x̂_0 from the model output at σ_i (diffusers' `convert_model_output`)
    const x0 = this.#predictX0(modelOutput.data, sample.data, this.#sigmas[i]!);
    // 3. coefficients in λ space
    const t = alphaSigma(this.#sigmas[i + 1]!);
    const s0 = alphaSigma(this.#sigmas[i]!);
    const lambdaT = Math.log(t.alpha) - Math.log(t.sig);
    const lambdaS0 = Math.log(s0.alpha) - Math.log(s0.sig);
    const h = lambdaT - lambdaS0;
    const sampleCoeff = t.sig / s0.sig;
    const expm1 = Math.exp(-h) - 1;
    const d0Coeff = -t.alpha * expm1;
    const s = sample.data;
    const prev = new Float32Array(s.length);
    if (firstOrder) {
      // DPM-Solver++(1): x_t = (σ_t/σ_s) x − α_t (e^{−h} − 1) x̂_0
      for (let k = 0; k < s.length; k++) prev[k] = sampleCoeff * s[k]! + d0Coeff * x0[k]!;
    } else {
      // DPM-Solver++(2M): D1 = (m0 − m1)/r0 with r0 = h_0/h
      const s1 = alphaSigma(this.#sigmas[i - 1]!);
      const lambdaS1 = Math.log(s1.alpha) - Math.log(s1.sig);
      const r0 = (lambdaS0 - lambdaS1) / h;
      const d1Coeff = cfg.solver_type === 'midpoint' ? -0.5 * t.alpha * expm1 : t.alpha * (expm1 / h + 1);
      const m1 = this.#prevX0!;
      for (let k = 0; k < s.length; k++) {
        const d1 = (1 / r0) * (x0[k]! - m1[k]!);
        prev[k] = sampleCoeff * s[k]! + d0Coeff * x0[k]! + d1Coeff * d1;
      }
    }
    this.#prevX0 = x0;
    if (this.#lowerOrderNums < cfg.solver_order) this.#lowerOrderNums += 1;
    this.completeStep();
    return { prevSample: tensor(prev, sample.dims), predOriginalSample: tensor(x0, sample.dims) };
  }

  #predictX0(m: Float32Array, s: Float32Array, sigma: number): Float32Array {
    const { alpha, sig } = alphaSigma(sigma);
    const kind = this.config.prediction_type;
    const x0 = new Float32Array(s.length);
    if (kind === 'epsilon') for (let k = 0; k < s.length; k++) x0[k] = (s[k]! - sig * m[k]!) / alpha;
    else if (kind === 'v_prediction') for (let k = 0; k < s.length; k++) x0[k] = alpha * s[k]! - sig * m[k]!;
    else x0.set(m);
    return x0;
  }
}
