/**
 * A `NoiseSource` that returns a constant (0 isolates a stochastic sampler's deterministic part; 1 exposes the
 * noise scale it applies). For tests.
 * @module
 */
import { numel, tensor, type Tensor } from '../../../gpu-backend/src/tensor/tensor.js';
import type { NoiseSource } from '../../../gpu-backend/src/noise/noise-source.js';

/** Every draw is `value`; `draws` counts the values handed out. */
export class ConstantNoise implements NoiseSource {
  draws = 0;
  constructor(readonly value: number) {}

  randn(dims: readonly number[]): Tensor {
    const n = numel(dims);
    this.draws += n;
    return tensor(new Float32Array(n).fill(this.value), dims);
  }
}
