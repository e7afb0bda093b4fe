/**
 * The state both Euler-family schedulers share (σ-space samplers on the Euler σ grid): training σs from the beta
 * schedule, the grid for n steps, the step counter, `init_noise_sigma`, and `scale_model_input` (÷√(σ²+1)).
 * Subclasses add only what differs: the grid options they allow and the update rule in `step`.
 * @module
 */
import type { SchedulerName } from '../../../shared/scheduler.js';
import type { NoiseSource } from '../noise/noise-source.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { alphasCumprod, makeBetas, scaledSum, trainingSigmas } from './common.js';
import type { BetaConfig } from './common.js';
import type { TimestepSpacing } from './config.js';
import type { Scheduler, StepOutput } from './scheduler.js';
import { eulerInitNoiseSigma, eulerSigmaGrid, scaleBySigma, type SigmaGridOptions } from './sigma-grid.js';
import { checkAddNoise, checkBeginIndex, checkLoopIndex } from './step-checks.js';

/** Config keys every σ-grid scheduler reads. */
export interface SigmaSchedulerConfig extends BetaConfig {
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
}

export abstract class SigmaGridScheduler<C extends SigmaSchedulerConfig> implements Scheduler {
  abstract readonly name: SchedulerName;
  abstract readonly needsNoise: boolean;
  readonly order = 1;
  readonly config: C;
  protected readonly trainSigmas: Float32Array;
  protected timestepList: number[] = [];
  protected sigmaList: Float32Array = new Float32Array(0);
  protected index = 0;
  #begin = 0;
  #initNoiseSigma = 1;

  constructor(config: C) {
    this.config = config;
    const acp = alphasCumprod(makeBetas(config));
    if (config.rescale_betas_zero_snr) acp[acp.length - 1] = 2 ** -24;
    this.trainSigmas = trainingSigmas(acp);
  }

  /** The grid options beyond spacing, offset and training σs (Karras spacing, final σ). */
  protected abstract gridOptions(): Pick<SigmaGridOptions, 'useKarras' | 'karrasMin' | 'karrasMax' | 'finalSigma'>;

  abstract step(modelOutput: Tensor, i: number, sample: Tensor, noise?: NoiseSource): StepOutput;

  get timesteps(): readonly number[] {
    return this.timestepList;
  }

  get stepIndex(): number {
    return this.index;
  }

  get initNoiseSigma(): number {
    return this.#initNoiseSigma;
  }

  /** σ_0 … σ_n (float32; the last one is the final σ). */
  get sigmas(): Float32Array {
    return this.sigmaList;
  }

  setTimesteps(numInferenceSteps: number): void {
    const T = this.config.num_train_timesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > T) {
      throw new RangeError(`${this.name}: numInferenceSteps must be an integer in [1, ${T}], got ${numInferenceSteps}`);
    }
    const grid = eulerSigmaGrid(numInferenceSteps, {
      numTrainTimesteps: T,
      spacing: this.config.timestep_spacing,
      stepsOffset: this.config.steps_offset,
      trainSigmas: this.trainSigmas,
      ...this.gridOptions(),
    });
    this.timestepList = grid.timesteps;
    this.sigmaList = grid.sigmas;
    this.#initNoiseSigma = eulerInitNoiseSigma(grid.sigmas, this.config.timestep_spacing);
    this.index = 0;
    this.#begin = 0;
  }

  setBeginIndex(beginIndex: number): void {
    checkBeginIndex(this.name, this.timestepList, this.index - this.#begin, beginIndex);
    this.#begin = beginIndex;
    this.index = beginIndex;
  }

  /** x_0 + σ·ε with σ at position `index` (diffusers: σ at the begin index before the first step, at the step index after). */
  addNoise(original: Tensor, noise: Tensor, index: number): Tensor {
    checkAddNoise(this.name, this.timestepList, index, original, noise);
    return scaledSum(original, 1, noise, this.sigmaList[index]!);
  }

  scaleModelInput(sample: Tensor, i: number): Tensor {
    checkLoopIndex(this.name, this.timestepList, this.index, i);
    return tensor(scaleBySigma(sample.data, this.sigmaList[i]!), sample.dims);
  }
}
