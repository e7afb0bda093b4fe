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

/**
 * Checks a `setBeginIndex` call: after `setTimesteps`, before any step, inside the grid.
 * @throws Error or RangeError naming the problem
 */
export function checkBeginIndex(name: string, timesteps: readonly number[], stepsTaken: number, beginIndex: number): void {
  if (timesteps.length === 0) throw new Error(`${name}: call setTimesteps before setBeginIndex`);
  if (stepsTaken !== 0) throw new Error(`${name}: setBeginIndex must come before the first step`);
  if (!Number.isInteger(beginIndex) || beginIndex < 0 || beginIndex >= timesteps.length) {
    throw new RangeError(`${name}: begin index must be an integer in [0, ${timesteps.length}), got ${beginIndex}`);
  }
}

/**
 * Checks an `addNoise` call: equal dims and an index inside the grid.
 * @throws RangeError naming the problem
 */
export function checkAddNoise(name: string, timesteps: readonly number[], index: number, original: Tensor, noise: Tensor): void {
  if (!Number.isInteger(index) || index < 0 || index >= timesteps.length) {
    throw new RangeError(`${name}: addNoise index must be an integer in [0, ${timesteps.length}), got ${index}`);
  }
  if (!sameDims(original.dims, noise.dims)) {
    throw new RangeError(`${name}: noise dims [${noise.dims.join(', ')}] differ from sample dims [${original.dims.join(', ')}]`);
  }
}
