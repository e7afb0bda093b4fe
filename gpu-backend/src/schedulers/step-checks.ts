/**
 * Argument checks and small elementwise kernels shared by the scheduler implementations.
 * Kernels are plain loops over Float32Array (no per-element closures): they run on `[B, 4, 128, 128]` latents.
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

/** `a·x + b·y` elementwise, computed in float64 and stored as float32. */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = a * x[k]! + b * y[k]!;
  return out;
}

/** `a·x` elementwise (float64 product stored as float32). */
export function scaled(a: number, x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = a * x[k]!;
  return out;
}

/** `x + a·n` in place on `x`: adds scaled noise. */
export function addScaledInPlace(x: Float32Array, a: number, n: Float32Array): void {
  for (let k = 0; k < x.length; k++) x[k] = x[k]! + a * n[k]!;
}
