/**
 * The sampling-scheduler contract the denoising loop relies on (diffusers' `SchedulerMixin` habits, made explicit).
 *
 * Loop shape: `setTimesteps(n)` → latents × `initNoiseSigma` → for `i` in `0..timesteps.length-1`:
 * `scaleModelInput(x, i)` → model at `timesteps[i]` → `step(out, i, latents, noise)`.
 * The loop index `i` is an explicit counter, never looked up from a timestep value (PLMS repeats timesteps).
 *
 * The implementations extend `BaseScheduler` (`base-scheduler.ts`: config, ᾱ table, counters, argument checks), the
 * Euler family through `SigmaGridScheduler` (`sigma-scheduler.ts`); each scheduler's own file holds its timestep
 * grid and its `step`.
 * @module
 */
import type { SchedulerName } from '../../../shared/scheduler.js';
import type { Tensor } from '../tensor/tensor.js';
import type { NoiseSource } from '../noise/noise-source.js';

/** Result of one scheduler step. Tensors have the dims of the `sample` passed to `step`. */
export interface StepOutput {
  /** x_{t-1}, float32 `[B, C, H, W]`. */
  prevSample: Tensor;
  /** The model's estimate of x_0 at this step, where the scheduler computes one. */
  predOriginalSample?: Tensor;
}

/** A diffusers-equivalent sampling scheduler. */
export interface Scheduler {
  readonly name: SchedulerName;
  /** Model evaluations per step in diffusers' sense (the class attribute `order`). */
  readonly order: number;
  /** Factor for the initial N(0, 1) latents; valid after `setTimesteps`. */
  readonly initNoiseSigma: number;
  /** One entry per model evaluation (PLMS: n + 1 entries for n steps); empty before `setTimesteps`. */
  readonly timesteps: readonly number[];
  /** How many times `step` was called since the last `setTimesteps`. */
  readonly stepIndex: number;
  /** Stochastic samplers (Euler ancestral, DDIM with eta > 0) need a `NoiseSource` in `step`. */
  readonly needsNoise: boolean;
  /** Builds the time grid for `numInferenceSteps` and resets all step state (the run begins at index 0). */
  setTimesteps(numInferenceSteps: number): void;
  /**
   * Makes the run begin at position `beginIndex` of `timesteps` (image-to-image: diffusers' `get_timesteps`, which
   * slices the timesteps and calls `set_begin_index` where the scheduler has it). Call right after `setTimesteps`;
   * the first `scaleModelInput`/`step` then takes `i = beginIndex`. Multistep state (PLMS warm-up, DPM-Solver
   * order) starts fresh at the begin index, as in diffusers.
   * @throws RangeError when `beginIndex` is outside `[0, timesteps.length)` or a step already ran
   */
  setBeginIndex(beginIndex: number): void;
  /**
   * diffusers' `add_noise`: the clean `original` latents noised to the level of position `index` of `timesteps`
   * (ᾱ at that timestep for DDIM/PLMS, σ at that position for the σ-grid samplers and DPM-Solver).
   * @param original float32 `[B, C, H, W]`
   * @param noise N(0, 1) draws, same dims
   */
  addNoise(original: Tensor, noise: Tensor, index: number): Tensor;
  /**
   * Scales the model input for loop index `i` (identity for DDIM/PNDM/DPM; ÷√(σ²+1) for Euler).
   * @param sample float32 `[N, C, H, W]` (any batch, e.g. the CFG-doubled batch)
   * @param i loop index; must equal `stepIndex`
   * @returns a new tensor of the same dims (or `sample` itself when the scaling is the identity)
   */
  scaleModelInput(sample: Tensor, i: number): Tensor;
  /**
   * One update x_t → x_{t-1}.
   * @param modelOutput float32 `[B, C, H, W]`, the (guided) model prediction at `timesteps[i]`
   * @param i loop index; must equal `stepIndex`
   * @param sample float32 `[B, C, H, W]`, the current latents
   * @param noise required when `needsNoise`; draws one independent stream per batch row
   * @throws Error before `setTimesteps`, on a wrong `i`, on mismatched dims, or when noise is missing
   */
  step(modelOutput: Tensor, i: number, sample: Tensor, noise?: NoiseSource): StepOutput;
}

/** Construction-time options that are not part of diffusers' scheduler config (they are `step` arguments there). */
export interface SchedulerOptions {
  /** DDIM η (0 = deterministic DDIM; > 0 draws noise each step). Default 0. */
  eta?: number;
}

/**
 * Builds a scheduler from a diffusers `scheduler_config.json` object (any class's config: only known keys are
 * read, the way `Cls.from_config(config)` works).
 */
export type SchedulerFactory = (configJson: unknown, options?: SchedulerOptions) => Scheduler;
