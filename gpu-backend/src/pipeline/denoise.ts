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
  /**
   * [B, 4, h, w] initial latents: N(0, 1) draws, scaled by the scheduler's initNoiseSigma here, or, with
   * `startLatents: true`, the loop's start latents used as they are (image-to-image: the noised image latents).
   */
  latents: Tensor;
  /** The latents are the loop's start latents already (no initNoiseSigma scaling). Default false. */
  startLatents?: boolean;
  /**
   * Position of `scheduler.timesteps` the run begins at (image-to-image's truncated schedule; the scheduler's
   * `setBeginIndex` is called here). Default 0. The run has `timesteps.length − beginIndex` loop steps, and the
   * DeepCache plan covers exactly those (its step counter starts at the run's first U-Net call).
   */
  beginIndex?: number;
  /**
   * Channels appended to the scaled model input on axis 1 before the U-Net (an inpainting U-Net's mask and
   * masked-image latents), batched like the model input ([2B, C, h, w] with CFG, else [B, C, h, w]).
   */
  extraChannels?: Tensor;
  /**
   * Called after each scheduler step with the latents, the run position and the scheduler position of the step;
   * returns the latents the loop continues with (inpainting with a regular U-Net blends the known region back).
   */
  afterStep?: (latents: Tensor, runIndex: number, schedulerIndex: number) => Tensor;
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
  /** Called after each step with the 1-based run step number and the latents after it ([B, 4, h, w]). */
  onStep?: (step: number, total: number, kind: StepKind, latents: Tensor) => void;
}

export interface DenoiseResult {
  /** [B, 4, h, w] final latents */
  latents: Tensor;
  fullSteps: number;
  shallowSteps: number;
  stepKinds: StepKind[];
}

/** Concatenates [N, Ca, h, w] and [N, Cb, h, w] on the channel axis. */
export function concatChannels(a: Tensor, b: Tensor): Tensor {
  const [n, ca, h, w] = a.dims as [number, number, number, number];
  const cb = b.dims[1]!;
  if (b.dims.length !== 4 || b.dims[0] !== n || b.dims[2] !== h || b.dims[3] !== w) {
    throw new RangeError(`concatChannels: [${b.dims.join(', ')}] does not fit [${a.dims.join(', ')}]`);
  }
  const plane = h * w;
  const data = new Float32Array(n * (ca + cb) * plane);
  for (let r = 0; r < n; r++) {
    data.set(a.data.subarray(r * ca * plane, (r + 1) * ca * plane), r * (ca + cb) * plane);
    data.set(b.data.subarray(r * cb * plane, (r + 1) * cb * plane), (r * (ca + cb) + ca) * plane);
  }
  return { data, dims: [n, ca + cb, h, w] };
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
 * 1. latents × initNoiseSigma (unless they are start latents); 2. per run step k (scheduler position
 * i = beginIndex + k): model input (doubled for CFG) → scaleModelInput → extra channels → full or shallow U-Net by
 * the cache's plan at k → guidance → scheduler.step → afterStep.
 * @throws the signal's reason (an AbortError) when aborted between steps
 */
export async function denoise(opts: DenoiseOptions): Promise<DenoiseResult> {
  const { unet, scheduler, cache, cond, guidanceScales } = opts;
  const begin = opts.beginIndex ?? 0;
  if (begin !== 0) scheduler.setBeginIndex(begin);
  const total = scheduler.timesteps.length - begin;
  if (cache.plan.length !== total) throw new RangeError(`DeepCache plan has ${cache.plan.length} steps, the run ${total}`);
  let latents = opts.startLatents ? opts.latents : scaleBy(opts.latents, scheduler.initNoiseSigma);
  const stepKinds: StepKind[] = [];
  try {
    for (let k = 0; k < total; k++) {
      opts.signal?.throwIfAborted();
      const i = begin + k;
      const t = scheduler.timesteps[i]!;
      const doubled = guidanceScales ? concatRows([latents, latents]) : latents;
      const scaled = scheduler.scaleModelInput(doubled, i);
      const input = opts.extraChannels ? concatChannels(scaled, opts.extraChannels) : scaled;
      let out: Tensor;
      const kind: StepKind = cache.isFullStep(k) ? 'full' : 'shallow';
      if (kind === 'full') {
        const r = await unet.predict(input, t, cond, cache.captureBranch);
        cache.store(r.feature);
        out = r.noise;
      } else {
        out = await unet.predictShallow(input, t, cond, cache.feature);
      }
      const noisePred = guidanceScales ? applyGuidance(out, guidanceScales) : out;
      latents = scheduler.step(noisePred, i, latents, opts.noise).prevSample;
      if (opts.afterStep) latents = opts.afterStep(latents, k, i);
      stepKinds.push(kind);
      opts.onStep?.(k + 1, total, kind, latents);
    }
  } finally {
    cache.clear();
  }
  const fullSteps = stepKinds.filter((k) => k === 'full').length;
  return { latents, fullSteps, shallowSteps: stepKinds.length - fullSteps, stepKinds };
}
