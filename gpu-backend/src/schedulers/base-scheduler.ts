/**
 * The scaffolding every scheduler shares (the part of diffusers' `SchedulerMixin` and the scheduler classes'
 * common code that is not the sampler itself): the parsed config, the training ᾱ table, the `setTimesteps`
 * guard, the explicit step counter with its begin index, and the argument checks of `addNoise`,
 * `scaleModelInput` and `step`.
 *
 * A subclass supplies what makes it a sampler: its timestep grid (`buildTimesteps`), the per-run state it resets
 * (`resetRun`), how `addNoise` and `scaleModelInput` act at a grid position, and `step`, which starts with
 * `checkStep` and ends with `completeStep`.
 * @module
 */
import type { SchedulerName } from '../../../shared/scheduler.js';
import type { NoiseSource } from '../noise/noise-source.js';
import type { Tensor } from '../tensor/tensor.js';
import { alphasCumprod, makeBetas, type BetaConfig } from './common.js';
import type { Scheduler, StepOutput } from './scheduler.js';
import { checkAddNoise, checkBeginIndex, checkLoopIndex, checkStepArgs } from './step-checks.js';

/**
 * ᾱ_t for t = 0..T-1 (float32) from the config's beta schedule. With `rescale_betas_zero_snr` the last ᾱ is
 * exactly 0 after rescaling; diffusers then sets it to 2⁻²⁴ so that σ and 1/√ᾱ stay finite.
 */
function trainingAlphasCumprod(config: BetaConfig): Float32Array {
  const table = alphasCumprod(makeBetas(config));
  if (config.rescale_betas_zero_snr === true) table[table.length - 1] = 2 ** -24;
  return table;
}

/** Base class of the schedulers: state and checks common to all, the update rule left to `step`. */
export abstract class BaseScheduler<C extends BetaConfig> implements Scheduler {
  abstract readonly name: SchedulerName;
  abstract readonly needsNoise: boolean;
  readonly order = 1;
  readonly config: C;
  /** ᾱ_t for t = 0..T-1 (diffusers' `alphas_cumprod`, float32, zero-SNR patched). */
  protected readonly alphasCumprod: Float32Array;
  #timesteps: number[] = [];
  #numInferenceSteps = 0;
  #stepIndex = 0;
  #beginIndex = 0;

  constructor(config: C) {
    this.config = config;
    this.alphasCumprod = trainingAlphasCumprod(config);
  }

  /**
   * The timesteps of a run of `numInferenceSteps` steps (one per model evaluation). A σ-space scheduler also
   * builds its σ table for the run here.
   */
  protected abstract buildTimesteps(numInferenceSteps: number): number[];

  /** Clears the multistep state of the previous run (called by `setTimesteps` after the grid is built). */
  protected resetRun(): void {}

  /** The `addNoise` rule at a checked grid position (ᾱ or σ at `timesteps[index]`). */
  protected abstract noiseTo(original: Tensor, noise: Tensor, index: number): Tensor;

  /** The `scaleModelInput` rule at a checked loop index: the identity unless a subclass scales. */
  protected scaleAt(sample: Tensor, _i: number): Tensor {
    return sample;
  }

  abstract step(modelOutput: Tensor, i: number, sample: Tensor, noise?: NoiseSource): StepOutput;

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  get stepIndex(): number {
    return this.#stepIndex;
  }

  get initNoiseSigma(): number {
    return 1;
  }

  /** n of the last `setTimesteps(n)` (0 before the first). */
  protected get numInferenceSteps(): number {
    return this.#numInferenceSteps;
  }

  /** Steps taken since `setTimesteps` (the run's own counter: 0 at the begin index). */
  protected get stepsTaken(): number {
    return this.#stepIndex - this.#beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const T = this.config.num_train_timesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > T) {
      throw new RangeError(`${this.name}: numInferenceSteps must be an integer in [1, ${T}], got ${numInferenceSteps}`);
    }
    this.#timesteps = this.buildTimesteps(numInferenceSteps);
    this.#numInferenceSteps = numInferenceSteps;
    this.#stepIndex = 0;
    this.#beginIndex = 0;
    this.resetRun();
  }

  setBeginIndex(beginIndex: number): void {
    checkBeginIndex(this.name, this.#timesteps, this.stepsTaken, beginIndex);
    this.#beginIndex = beginIndex;
    this.#stepIndex = beginIndex;
  }

  addNoise(original: Tensor, noise: Tensor, index: number): Tensor {
    checkAddNoise(this.name, this.#timesteps, index, original, noise);
    return this.noiseTo(original, noise, index);
  }

  scaleModelInput(sample: Tensor, i: number): Tensor {
    checkLoopIndex(this.name, this.#timesteps, this.#stepIndex, i);
    return this.scaleAt(sample, i);
  }

  /**
   * The checks every `step` starts with: `setTimesteps` was called, `i` is the next loop index, dims agree.
   * @throws Error or RangeError naming the problem
   */
  protected checkStep(modelOutput: Tensor, i: number, sample: Tensor): void {
    checkStepArgs(this.name, this.#timesteps, this.#stepIndex, i, modelOutput, sample);
  }

  /** Advances the loop counter; the last statement of every successful `step`. */
  protected completeStep(): void {
    this.#stepIndex += 1;
  }
}
