/**
 * Argument checks shared by the scheduler implementations: the explicit loop counter and tensor dims.
 * @module
 */
import { sameDims, type Tensor } from '../tensor/tensor.js';

/**
 * Checks the loop index of a `scaleModelInput`/`step` call against the scheduler's explicit counter.
 * @throws Error before `setTimesteps`, or when `i` is not the next index
 */
export function checkLoopIndex(name: string, timesteps: readonly number[], stepIndex: number, i: number): void {
  if (timesteps.length === 0) throw new Error(`${name}: call setTimesteps before stepping`);
  if (stepIndex >= timesteps.length) {
    throw new Error(`${name}: all ${timesteps.length} steps are done; call setTimesteps to start again`);
  }
  if (i !== stepIndex) throw new Error(`${name}: expected loop index ${stepIndex}, got ${i}`);
}

/**
 * Checks a `step` call: loop index, and model output / sample dims (`[B, C, H, W]`, equal).
 * @throws Error or RangeError naming the problem
 */
export function checkStepArgs(
  name: string,
  timesteps: readonly number[],
  stepIndex: number,
  i: number,
  modelOutput: Tensor,
  sample: Tensor,
): void {
  checkLoopIndex(name, timesteps, stepIndex, i);
  if (sample.dims.length !== 4) throw new RangeError(`${name}: sample must be [B, C, H, W], got [${sample.dims.join(', ')}]`);
  if (!sameDims(modelOutput.dims, sample.dims)) {
    throw new RangeError(`${name}: model output dims [${modelOutput.dims.join(', ')}] differ from sample dims [${sample.dims.join(', ')}]`);
  }
}

