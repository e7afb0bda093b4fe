/**
 * PNDMScheduler in PLMS mode (`skip_prk_steps=True`), equal to diffusers v0.30.3 `scheduling_pndm.py`
 * (Liu et al. 2022, arXiv:2202.09778). n inference steps take n + 1 model calls: the second timestep is
 * repeated, and the first two calls form a 2nd-order (Heun-like) warm-up before the linear multistep formulas.
 *
 * | here | diffusers |
 * | --- | --- |
 * | `#ets` | `ets`: the last ≤ 4 raw model outputs |
 * | `counter` (`stepsTaken`) | `counter`: calls so far in this run (a run that begins later still warms up from 0) |
 * | begin index | the pipeline's slice start (`timesteps[t_start·order:]`; PNDM has no `set_begin_index`) |
 * | `#curSample` | `cur_sample`: x at the first call, reused by the second |
 * @module
 */
import { z } from 'zod';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { addNoiseVp, npArange, npLinspace, roundHalfEven } from './common.js';
import { betaScheduleShape, parseSchedulerConfig, PredictionType, SchedulerConfigError, TimestepSpacing } from './config.js';
import { BaseScheduler } from './base-scheduler.js';
import type { StepOutput } from './scheduler.js';

const f32 = Math.fround;

/** The keys of diffusers' PNDMScheduler config this implementation reads (with diffusers' defaults). */
export const PndmConfig = z.object({
  ...betaScheduleShape,
  skip_prk_steps: z.literal(true, { error: 'only PLMS mode (skip_prk_steps: true) is supported' }),
  set_alpha_to_one: z.boolean().default(false),
  prediction_type: PredictionType.default('epsilon').refine((p) => p !== 'sample', {
    message: 'PNDMScheduler supports prediction_type epsilon and v_prediction only',
  }),
  timestep_spacing: TimestepSpacing.default('leading'),
  steps_offset: z.number().int().min(0).default(0),
});
export type PndmConfig = z.infer<typeof PndmConfig>;

/** The n base timesteps, ascending (diffusers' `_timesteps`). */
function baseTimesteps(n: number, cfg: PndmConfig): number[] {
  const T = cfg.num_train_timesteps;
  if (cfg.timestep_spacing === 'linspace') return npLinspace(0, T - 1, n).map(roundHalfEven);
  if (cfg.timestep_spacing === 'leading') {
    const ratio = Math.floor(T / n);
    return npArange(0, n, 1).map((k) => roundHalfEven(k * ratio) + cfg.steps_offset);
  }
  if (cfg.timestep_spacing === 'trailing')
    return npArange(T, 0, -T / n)
      .map((v) => roundHalfEven(v))
      .reverse()
      .map((v) => v - 1);
  throw new SchedulerConfigError(`timestep_spacing ${String(cfg.timestep_spacing)} is not supported`);
}

/** PLMS timesteps: `[…ts[:-1], ts[-2], ts[-1]]` reversed, n + 1 entries (the second one repeated). */
function plmsTimesteps(n: number, cfg: PndmConfig): number[] {
  const ts = baseTimesteps(n, cfg);
  return [...ts.slice(0, -1), ...ts.slice(-2, -1), ...ts.slice(-1)].reverse();
}

/** PLMS sampler (deterministic). */
export class PndmScheduler extends BaseScheduler<PndmConfig> {
  readonly name = 'pndm' as const;
  readonly needsNoise = false;
  /** ᾱ_{t−δ} where t − δ < 0 (diffusers' `final_alpha_cumprod`). */
  readonly #finalAlphaCumprod: number;
  #ets: Float32Array[] = [];
  #curSample: Float32Array | null = null;

  constructor(config: PndmConfig) {
    super(config);
    this.#finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  /** Builds a PLMS scheduler from a diffusers scheduler config (unknown keys ignored). */
  static fromConfig(json: unknown, overrides?: Record<string, unknown>): PndmScheduler {
    return new PndmScheduler(parseSchedulerConfig(PndmConfig, 'PNDMScheduler', json, overrides));
  }

  protected buildTimesteps(numInferenceSteps: number): number[] {
    return plmsTimesteps(numInferenceSteps, this.config);
  }

  protected override resetRun(): void {
    this.#ets = [];
    this.#curSample = null;
  }

  protected noiseTo(original: Tensor, noise: Tensor, index: number): Tensor {
    return addNoiseVp(original, noise, this.alphasCumprod[this.timesteps[index]!]!);
  }

  step(modelOutput: Tensor, i: number, sample: Tensor): StepOutput {
    this.checkStep(modelOutput, i, sample);
    const counter = this.stepsTaken;
    const delta = Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    let timestep = this.timesteps[i]!;
    let prevTimestep = timestep - delta;
    // 1. keep the last 4 model outputs (the repeated call at counter 1 is averaged in, not stored)
    if (counter !== 1) {
      this.#ets = this.#ets.slice(-3);
      this.#ets.push(modelOutput.data);
    } else {
      prevTimestep = timestep;
      timestep = timestep + delta;
    }
    // 2. combine into the multistep estimate e′ (PLMS, eq. 12 of the paper)
    const e = this.#ets;
    const len = e.length;
    let x = sample.data;
    let combined: Float32Array;
    if (len === 1 && counter === 0) {
      combined = modelOutput.data;
      this.#curSample = sample.data;
    } else if (len === 1 && counter === 1) {
      combined = lincomb([modelOutput.data, e[0]!], [0.5, 0.5]);
      x = this.#curSample!;
      this.#curSample = null;
    } else if (len === 2) {
      combined = lincomb([e[1]!, e[0]!], [3 / 2, -1 / 2]);
    } else if (len === 3) {
      combined = lincomb([e[2]!, e[1]!, e[0]!], [23 / 12, -16 / 12, 5 / 12]);
    } else {
      combined = lincomb([e[3]!, e[2]!, e[1]!, e[0]!], [55 / 24, -59 / 24, 37 / 24, -9 / 24]);
    }
    // 3. x_{t−δ} from x_t and e′ (eq. 9, diffusers' `_get_prev_sample`)
    const prev = this.#prevSample(x, timestep, prevTimestep, combined);
    this.completeStep();
    return { prevSample: tensor(prev, sample.dims) };
  }

  #prevSample(x: Float32Array, t: number, prevT: number, out: Float32Array): Float32Array {
    const aT = this.alphasCumprod[t]!;
    const aPrev = prevT >= 0 ? this.alphasCumprod[prevT]! : this.#finalAlphaCumprod;
    const bT = f32(1 - aT);
    const bPrev = f32(1 - aPrev);
    const v = this.config.prediction_type === 'v_prediction';
    const sqrtA = Math.sqrt(aT);
    const sqrtB = Math.sqrt(bT);
    const sampleCoeff = Math.sqrt(aPrev / aT);
    const denom = aT * Math.sqrt(bPrev) + Math.sqrt(aT * bT * aPrev);
    const outCoeff = (aPrev - aT) / denom;
    const res = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const eps = v ? sqrtA * out[k]! + sqrtB * x[k]! : out[k]!;
      res[k] = sampleCoeff * x[k]! - outCoeff * eps;
    }
    return res;
  }
}

/** Σ c_j · x_j elementwise (float64 accumulation, float32 result). */
function lincomb(xs: Float32Array[], cs: number[]): Float32Array {
  const n = xs[0]!.length;
  const res = new Float32Array(n);
  for (let j = 0; j < xs.length; j++) {
    const x = xs[j]!;
    const c = cs[j]!;
    for (let k = 0; k < n; k++) res[k] = res[k]! + c * x[k]!;
  }
  return res;
}
