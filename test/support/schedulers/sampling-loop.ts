/**
 * The classifier-free-guided denoising loop exactly as diffusers' Stable Diffusion pipelines drive a scheduler,
 * behind a narrow model port so that parity tests (plain or DeepCache) can reuse it.
 * @module
 */
import { tensor, type Tensor } from '../../../gpu-backend/src/tensor/tensor.js';
import type { NoiseSource } from '../../../gpu-backend/src/noise/noise-source.js';
import type { Scheduler } from '../../../gpu-backend/src/schedulers/scheduler.js';

/**
 * Predicts noise for the CFG batch.
 * @param sample float32 `[2B, C, H, W]`: rows `0..B-1` are the unconditional copy, `B..2B-1` the conditional one
 * @param timestep `scheduler.timesteps[index]`
 * @param index loop index (DeepCache decides full/shallow steps from it)
 * @returns float32 `[2B, C, H, W]`
 */
export type GuidedNoisePredictor = (sample: Tensor, timestep: number, index: number) => Promise<Tensor>;

/** Inputs of `runGuidedSamplingLoop`. */
export interface GuidedSamplingOptions {
  scheduler: Scheduler;
  numInferenceSteps: number;
  /** Raw N(0, 1) latents `[B, C, H, W]` (multiplied by `initNoiseSigma` here, as the pipeline does). */
  initialNoise: Tensor;
  guidanceScale: number;
  predictNoise: GuidedNoisePredictor;
  /** Passed to `step` (required by stochastic schedulers). */
  noise?: NoiseSource;
  /** Called after each step with the loop index and the new latents. */
  onStep?: (index: number, latents: Tensor) => void;
}

/** `[x; x]` along the batch axis. */
function duplicateBatch(x: Tensor): Tensor {
  const data = new Float32Array(x.data.length * 2);
  data.set(x.data, 0);
  data.set(x.data, x.data.length);
  return tensor(data, [x.dims[0]! * 2, ...x.dims.slice(1)]);
}

/** `uncond + g·(cond − uncond)` in float32 arithmetic, as torch computes it. */
function guide(out: Tensor, g: number): Tensor {
  const half = out.data.length / 2;
  const res = new Float32Array(half);
  const f32 = Math.fround;
  const gf = f32(g);
  for (let k = 0; k < half; k++) {
    const u = out.data[k]!;
    res[k] = u + f32(gf * f32(out.data[half + k]! - u));
  }
  return tensor(res, [out.dims[0]! / 2, ...out.dims.slice(1)]);
}

/**
 * Runs the sampling loop: `setTimesteps` → latents = noise·initNoiseSigma → per loop index i:
 * `[x; x]` → `scaleModelInput` → model → guidance → `step`.
 * @returns the final latents `[B, C, H, W]`
 */
export async function runGuidedSamplingLoop(opts: GuidedSamplingOptions): Promise<Tensor> {
  const { scheduler } = opts;
  scheduler.setTimesteps(opts.numInferenceSteps);
  const sigma = Math.fround(scheduler.initNoiseSigma);
  const scaled = new Float32Array(opts.initialNoise.data.length);
  for (let k = 0; k < scaled.length; k++) scaled[k] = opts.initialNoise.data[k]! * sigma;
  let latents = tensor(scaled, opts.initialNoise.dims);
  const timesteps = [...scheduler.timesteps];
  for (let i = 0; i < timesteps.length; i++) {
    const input = scheduler.scaleModelInput(duplicateBatch(latents), i);
    const out = await opts.predictNoise(input, timesteps[i]!, i);
    latents = scheduler.step(guide(out, opts.guidanceScale), i, latents, opts.noise).prevSample;
    opts.onStep?.(i, latents);
  }
  return latents;
}
