/**
 * The σ-space time grid shared by the Euler-family schedulers (diffusers' EulerDiscreteScheduler and
 * EulerAncestralDiscreteScheduler `set_timesteps`): float32 timesteps spaced over the training range,
 * σ interpolated from the training table, optional Karras σ, and a final σ.
 * @module
 */
import type { TimestepSpacing } from './config.js';
import { SchedulerConfigError } from './config.js';
import { interpAtIndex, karrasSigmas, logSigmas, npArange, npLinspace, roundHalfEven, sigmaToT } from './common.js';

const f32 = Math.fround;

/** Inputs of `eulerSigmaGrid`. */
export interface SigmaGridOptions {
  numTrainTimesteps: number;
  spacing: TimestepSpacing;
  stepsOffset: number;
  /** Training σ table (float32, ascending in t). */
  trainSigmas: Float32Array;
  useKarras: boolean;
  /** Explicit Karras bounds (diffusers' `sigma_min`/`sigma_max` config); default: ends of the interpolated σ. */
  karrasMin?: number | null;
  karrasMax?: number | null;
  /** σ appended after the last step: 0 (`zero`) or the smallest training σ (`sigma_min`). */
  finalSigma: 'zero' | 'sigma_min';
}

/** float32 timesteps (descending) and float32 σ (n + 1 entries, last = final σ). */
export interface SigmaGrid {
  timesteps: number[];
  sigmas: Float32Array;
}

/** Euler-family timesteps before σ conversion (float32 values, descending). */
function eulerTimesteps(n: number, T: number, spacing: TimestepSpacing, stepsOffset: number): number[] {
  if (spacing === 'linspace')
    return npLinspace(0, T - 1, n)
      .map(f32)
      .reverse();
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    return npArange(0, n, 1)
      .map((k) => f32(roundHalfEven(k * ratio)) + stepsOffset)
      .reverse();
  }
  if (spacing === 'trailing') return npArange(T, 0, -T / n).map((v) => f32(roundHalfEven(v)) - 1);
  throw new SchedulerConfigError(`timestep_spacing ${String(spacing)} is not supported`);
}

/** Builds the Euler σ grid for `n` inference steps. */
export function eulerSigmaGrid(n: number, options: SigmaGridOptions): SigmaGrid {
  let timesteps = eulerTimesteps(n, options.numTrainTimesteps, options.spacing, options.stepsOffset);
  let sigmas = timesteps.map((t) => interpAtIndex(t, options.trainSigmas));
  if (options.useKarras) {
    const sMin = options.karrasMin ?? sigmas[sigmas.length - 1]!;
    const sMax = options.karrasMax ?? sigmas[0]!;
    sigmas = karrasSigmas(sMin, sMax, n);
    const logSig = logSigmas(options.trainSigmas);
    timesteps = sigmas.map((s) => f32(sigmaToT(s, logSig)));
  }
  const last = options.finalSigma === 'zero' ? 0 : options.trainSigmas[0]!;
  const out = new Float32Array(n + 1);
  for (let k = 0; k < n; k++) out[k] = sigmas[k]!;
  out[n] = last;
  return { timesteps, sigmas: out };
}

/** diffusers' Euler `init_noise_sigma`: max σ for linspace/trailing spacing, √(σmax² + 1) for leading (float32). */
export function eulerInitNoiseSigma(sigmas: Float32Array, spacing: TimestepSpacing): number {
  let max = 0;
  for (const s of sigmas) max = Math.max(max, s);
  return spacing === 'leading' ? f32(Math.sqrt(f32(f32(max * max) + 1))) : max;
}

/**
 * `sample / √(σ² + 1)` in float32 arithmetic (diffusers' Euler `scale_model_input`).
 * @param sample float32, any dims
 */
export function scaleBySigma(sample: Float32Array, sigma: number): Float32Array {
  const d = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
  const out = new Float32Array(sample.length);
  for (let k = 0; k < sample.length; k++) out[k] = sample[k]! / d;
  return out;
}
