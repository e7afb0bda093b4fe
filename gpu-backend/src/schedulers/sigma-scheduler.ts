/**
 * The state both Euler-family schedulers share (σ-space samplers on the Euler σ grid): training σs from the beta
 * schedule, the grid for n steps, `init_noise_sigma`, `add_noise` (x_0 + σ·ε) and `scale_model_input` (÷√(σ²+1)).
 * Subclasses add only what differs: the grid options they allow and the update rule in `step`.
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/tensor.js';
import { BaseScheduler } from './base-scheduler.js';
import { scaledSum, trainingSigmas } from './common.js';
import type { BetaConfig } from './common.js';
import type { TimestepSpacing } from './config.js';
import { eulerInitNoiseSigma, eulerSigmaGrid, scaleBySigma, type SigmaGridOptions } from './sigma-grid.js';

/** Config keys every σ-grid scheduler reads. */
export interface SigmaSchedulerConfig extends BetaConfig {
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
}

export abstract class SigmaGridScheduler<C extends SigmaSchedulerConfig> extends BaseScheduler<C> {
  readonly #trainSigmas: Float32Array;
  #sigmas: Float32Array = new Float32Array(0);
  #initNoiseSigma = 1;

  constructor(config: C) {
    super(config);
    this.#trainSigmas = trainingSigmas(this.alphasCumprod);
  }

  /** The grid options beyond spacing, offset and training σs (Karras spacing, final σ). */
  protected abstract gridOptions(): Pick<SigmaGridOptions, 'useKarras' | 'karrasMin' | 'karrasMax' | 'finalSigma'>;

  override get initNoiseSigma(): number {
    return this.#initNoiseSigma;
  }

  /** σ_0 … σ_n (float32; the last one is the final σ). */
  get sigmas(): Float32Array {
    return this.#sigmas;
  }

  protected buildTimesteps(numInferenceSteps: number): number[] {
    const grid = eulerSigmaGrid(numInferenceSteps, {
      numTrainTimesteps: this.config.num_train_timesteps,
      spacing: this.config.timestep_spacing,
      stepsOffset: this.config.steps_offset,
      trainSigmas: this.#trainSigmas,
      ...this.gridOptions(),
    });
    this.#sigmas = grid.sigmas;
    this.#initNoiseSigma = eulerInitNoiseSigma(grid.sigmas, this.config.timestep_spacing);
    return grid.timesteps;
  }

  /** x_0 + σ·ε with σ at position `index` (diffusers: σ at the begin index before the first step, at the step index after). */
  protected noiseTo(original: Tensor, noise: Tensor, index: number): Tensor {
    return scaledSum(original, 1, noise, this.#sigmas[index]!);
  }

  protected override scaleAt(sample: Tensor, i: number): Tensor {
    return tensor(scaleBySigma(sample.data, this.#sigmas[i]!), sample.dims);
  }
}
