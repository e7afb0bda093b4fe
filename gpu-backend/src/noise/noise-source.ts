/**
 * The noise port the pipeline and the stochastic schedulers draw Gaussian noise from.
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';

/** A reproducible source of standard normal float32 values. */
export interface NoiseSource {
  /**
   * Draws a tensor of i.i.d. N(0, 1) values, filled row-major, advancing the source.
   * @param dims tensor dims; sources that hold one stream per batch row require `dims[0]` = their row count
   */
  randn(dims: readonly number[]): Tensor;
}
