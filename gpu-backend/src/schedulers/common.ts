/**
 * Math shared by the schedulers: beta schedules, ᾱ (alphas_cumprod), the training σ table, numpy/torch-exact
 * grids (linspace, arange, round-half-even), linear interpolation, Karras σ and σ → t.
 *
 * Precision follows diffusers: the training tables are float32 tensors there (torch.linspace / cumprod), so
 * they are rounded to float32 here (`Math.fround`) at the same points; grids built with numpy are float64.
 * @module
 */
import type { BetaSchedule } from './config.js';
import type { Tensor } from '../tensor/tensor.js';
import { SchedulerConfigError } from './config.js';

const f32 = Math.fround;

/** numpy's `np.round`: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `np.linspace(start, stop, num)` in float64 (`i * step + start`, last element exactly `stop`). */
export function npLinspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` in float64 (`start + i * step`, length `ceil((stop - start) / step)`). */
export function npArange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(start + i * step);
  return out;
}

/** `torch.linspace(start, end, steps, dtype=torch.float32)` on CPU: float32 arithmetic, symmetric halves. */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - i - 1)));
  }
  return out;
}

/** diffusers' `betas_for_alpha_bar` with the cosine ᾱ (`squaredcos_cap_v2`), max β 0.999. */
function cosineBetas(n: number): Float32Array {
  const alphaBar = (t: number): number => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  return out;
}

/** Inputs of the training noise schedule (the `betaScheduleShape` keys of a parsed config). */
export interface BetaConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: number[] | null;
  rescale_betas_zero_snr?: boolean;
}

/**
 * β_t for t = 0..T-1 as float32 (diffusers' `betas`), optionally rescaled to zero terminal SNR.
 * @returns length `num_train_timesteps`
 */
export function makeBetas(cfg: BetaConfig): Float32Array {
  let betas: Float32Array;
  if (cfg.trained_betas !== null) {
    if (cfg.trained_betas.length !== cfg.num_train_timesteps) {
      throw new SchedulerConfigError(`trained_betas has ${cfg.trained_betas.length} entries, expected ${cfg.num_train_timesteps}`);
    }
    betas = Float32Array.from(cfg.trained_betas);
  } else if (cfg.beta_schedule === 'linear') {
    betas = torchLinspaceF32(cfg.beta_start, cfg.beta_end, cfg.num_train_timesteps);
  } else if (cfg.beta_schedule === 'scaled_linear') {
    betas = torchLinspaceF32(Math.sqrt(cfg.beta_start), Math.sqrt(cfg.beta_end), cfg.num_train_timesteps);
    for (let i = 0; i < betas.length; i++) betas[i] = f32(betas[i]! * betas[i]!);
  } else if (cfg.beta_schedule === 'squaredcos_cap_v2') {
    betas = cosineBetas(cfg.num_train_timesteps);
  } else {
    throw new SchedulerConfigError(`beta_schedule ${String(cfg.beta_schedule)} is not supported`);
  }
  return cfg.rescale_betas_zero_snr === true ? rescaleZeroTerminalSnr(betas) : betas;
}

/** ᾱ_t = ∏_{s≤t} (1 − β_s): torch.cumprod on CPU accumulates in float64 and stores float32. */
export function alphasCumprod(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f32(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}

/** Rescales β so that the last ᾱ is 0 (arXiv:2305.08891, Algorithm 1); float32 output. */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const acp = alphasCumprod(betas);
  const n = acp.length;
  const sqrt = Array.from(acp, (a) => Math.sqrt(a));
  const first = sqrt[0]!;
  const last = sqrt[n - 1]!;
  const scale = first / (first - last);
  const bar = sqrt.map((s) => ((s - last) * scale) ** 2);
  const out = new Float32Array(n);
  out[0] = 1 - bar[0]!;
  for (let i = 1; i < n; i++) out[i] = 1 - bar[i]! / bar[i - 1]!;
  return out;
}

/** Training σ_t = √((1 − ᾱ_t) / ᾱ_t) in float32, ascending in t (diffusers' un-flipped `sigmas`). */
export function trainingSigmas(acp: Float32Array): Float32Array {
  const out = new Float32Array(acp.length);
  for (let i = 0; i < acp.length; i++) out[i] = f32(Math.sqrt(f32(f32(1 - acp[i]!) / acp[i]!)));
  return out;
}

/** `np.interp(x, arange(len(fp)), fp)`: piecewise-linear, clamped at both ends; float64. */
export function interpAtIndex(x: number, fp: ArrayLike<number>): number {
  const n = fp.length;
  if (x <= 0) return fp[0]!;
  if (x >= n - 1) return fp[n - 1]!;
  const j = Math.floor(x);
  if (j === x) return fp[j]!;
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}

/**
 * Karras et al. (2022) σ schedule, eq. 5 with ρ = 7: `(σmax^(1/ρ) + ramp·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ`.
 * @returns `n` descending σ from `sigmaMax` to `sigmaMin` (float64)
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return npLinspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** float32 `np.log` of the training σ table (diffusers' `log_sigmas`). */
export function logSigmas(sigmas: Float32Array): Float32Array {
  const out = new Float32Array(sigmas.length);
  for (let i = 0; i < sigmas.length; i++) out[i] = Math.log(sigmas[i]!);
  return out;
}

/**
 * diffusers' `_sigma_to_t`: the fractional training timestep whose log σ brackets `sigma`, linearly
 * interpolated in log σ (float64, not rounded).
 * @param logSig ascending float32 log σ table
 */
export function sigmaToT(sigma: number, logSig: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSig.length; i++) if (logSigma - logSig[i]! >= 0) low = i;
  low = Math.min(low, logSig.length - 2);
  const lo = logSig[low]!;
  const hi = logSig[low + 1]!;
  const w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/**
 * The variance-preserving forward process (diffusers' `add_noise` of DDPM/DDIM/PNDM):
 * √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε, with the factors in float32 as torch computes them.
 */
export function addNoiseVp(original: Tensor, noise: Tensor, alphaCumprod: number): Tensor {
  const a = f32(Math.sqrt(alphaCumprod));
  const b = f32(Math.sqrt(f32(1 - alphaCumprod)));
  return scaledSum(original, a, noise, b);
}

/** a·x + b·n elementwise, each product rounded to float32 before the sum (torch's order). */
export function scaledSum(x: Tensor, a: number, n: Tensor, b: number): Tensor {
  const out = new Float32Array(x.data.length);
  for (let k = 0; k < out.length; k++) out[k] = f32(a * x.data[k]!) + f32(b * n.data[k]!);
  return { data: out, dims: [...x.dims] };
}
