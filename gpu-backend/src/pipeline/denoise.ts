/**
 * The denoising loop: classifier-free guidance and the DeepCache policy around a scheduler and a U-Net port.
 * It owns orchestration only; the update rule is the scheduler's, the noise prediction the U-Net's.
 * @module
 */
import type { NoiseSource } from '../noise/noise-source.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyGuidance, concatRows } from './guidance.js';
import type { FeatureCache, StepKind } from './feature-cache.js';
import type { UNetConditioning, UNetModel } from './unet.js';


export interface DenoiseOptions {
  unet: UNetModel;
  /** A scheduler on which `setTimesteps(numInferenceSteps)` was called. */
  scheduler: Scheduler;
  /** [B, 4, h, w] initial latents, N(0, 1) draws; scaled by the scheduler's initNoiseSigma here. */
  latents: Tensor;
  /**
   * Conditioning batched for CFG (uncond rows 0…B−1, cond rows B…2B−1) when `guidanceScales` is given,
   * else B cond rows.
   */
  cond: UNetConditioning;
  /** Guidance scale per row (length B), or null to run without classifier-free guidance. */
  guidanceScales: readonly number[] | null;
  cache: FeatureCache;
  /** Noise for stochastic schedulers: one independent stream per batch row. */
  noise?: NoiseSource;
  signal?: AbortSignal;
  /** Called after each step with the 1-based step number and the latents after it ([B, 4, h, w]). */
  onStep?: (step: number, total: number, kind: StepKind, latents: Tensor) => void;
}

export interface DenoiseResult {
  /** [B, 4, h, w] final latents */
  latents: Tensor;
  fullSteps: number;
  shallowSteps: number;
  stepKinds: StepKind[];
}

function scaleBy(t: Tensor, s: number): Tensor {
  if (s === 1) return t;
  const data = new Float32Array(t.data.length);
  const f = Math.fround(s);
  for (let i = 0; i < data.length; i++) data[i] = t.data[i]! * f;
  return { data, dims: t.dims };
}

/**
 * Runs the sampling loop.
 * 1. latents × initNoiseSigma; 2. per loop step i: model input (doubled for CFG) → scaleModelInput →
 * full or shallow U-Net by the cache's plan → guidance → scheduler.step.
 * @throws the signal's reason (an AbortError) when aborted between steps
 */
export async function denoise(opts: DenoiseOptions): Promise<DenoiseResult> {
  const { unet, scheduler, cache, cond, guidanceScales } = opts;
  const total = scheduler.timesteps.length;
  if (cache.plan.length !== total) throw new RangeError(`DeepCache plan has ${cache.plan.length} steps, the scheduler ${total}`);
  let latents = scaleBy(opts.latents, scheduler.initNoiseSigma);
  const stepKinds: StepKind[] = [];
  try {
    for (let i = 0; i < total; i++) {
      opts.signal?.throwIfAborted();
      const t = scheduler.timesteps[i]!;
      const doubled = guidanceScales ? concatRows([latents, latents]) : latents;
      const input = scheduler.scaleModelInput(doubled, i);
      let out: Tensor;
      const kind: StepKind = cache.isFullStep(i) ? 'full' : 'shallow';
      if (kind === 'full') {
        const r = await unet.predict(input, t, cond, cache.captureBranch);
        cache.store(r.feature);
        out = r.noise;
      } else {
        out = await unet.predictShallow(input, t, cond, cache.feature);
      }
      const noisePred = guidanceScales ? applyGuidance(out, guidanceScales) : out;
      latents = scheduler.step(noisePred, i, latents, opts.noise).prevSample;
      stepKinds.push(kind);
      opts.onStep?.(i + 1, total, kind, latents);
    }
  } finally {
    cache.clear();
  }
  const fullSteps = stepKinds.filter((k) => k === 'full').length;
  return { latents, fullSteps, shallowSteps: stepKinds.length - fullSteps, stepKinds };
}
