/**
 * Image-to-image and inpainting on top of the denoising loop, as diffusers 0.30.3's
 * `StableDiffusion(XL)Img2ImgPipeline` / `StableDiffusion(XL)InpaintPipeline` do it:
 * - `strength` → the run's timesteps (`get_timesteps`): init_timestep = min(⌊n·strength⌋, n), t_start = n − init_timestep,
 *   the run begins at position t_start·order of the scheduler's timesteps (PLMS included: it has n + 1 of them);
 * - start latents = `add_noise(image_latents, noise, timesteps[begin])` (inpainting at strength 1: noise·initNoiseSigma);
 * - inpainting with a dedicated U-Net: model input = scaled latents ‖ mask ‖ masked-image latents (9 channels);
 * - inpainting with a regular U-Net: after every step the known region is re-noised to the next timestep (un-noised
 *   after the last) and blended back: latents = (1 − mask)·known + mask·latents.
 * DeepCache's step counter starts at the run's first U-Net call (the `FeatureCache` is built per run).
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { NoiseSource } from '../noise/noise-source.js';
import { denoiseLanes, type DenoiseLane, type DenoiseResult } from './denoise.js';
import { FeatureCache, type StepKind } from './feature-cache.js';
import type { DeepCacheSettings } from '../../../shared/deepcache.js';
import { concatRows } from './guidance.js';
import type { UNetConditioning, UNetModel } from './unet.js';

const f32 = Math.fround;

/** The part of a scheduler's timesteps an image-to-image run does. */
export interface StrengthSchedule {
  strength: number;
  numInferenceSteps: number;
  /** min(⌊n·strength⌋, n): the steps of the full schedule the run keeps. */
  initTimestep: number;
  /** n − initTimestep: the steps skipped. */
  tStart: number;
  /** tStart·order: the first position of `scheduler.timesteps` the run evaluates. */
  beginIndex: number;
  /** U-Net calls of the run (timesteps.length − beginIndex; PLMS has one more than its steps). */
  runLength: number;
}

/**
 * diffusers' `get_timesteps` for a scheduler on which `setTimesteps(numInferenceSteps)` was called.
 * @throws RangeError when the strength leaves no step (diffusers' "number of pipeline steps is < 1")
 */
export function strengthSchedule(
  scheduler: Pick<Scheduler, 'order' | 'timesteps'>,
  numInferenceSteps: number,
  strength: number,
): StrengthSchedule {
  if (!(strength >= 0 && strength <= 1)) throw new RangeError(`strength must be in [0, 1], got ${strength}`);
  const initTimestep = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  const tStart = Math.max(numInferenceSteps - initTimestep, 0);
  if (numInferenceSteps - tStart < 1) {
    throw new RangeError(
      `strength ${strength} with ${numInferenceSteps} steps leaves no denoising step (needs strength ≥ ${minimumStrength(numInferenceSteps)})`,
    );
  }
  const beginIndex = tStart * scheduler.order;
  return { strength, numInferenceSteps, initTimestep, tStart, beginIndex, runLength: scheduler.timesteps.length - beginIndex };
}

/** The smallest strength that runs at least one step with n inference steps (⌊n·s⌋ ≥ 1). */
export function minimumStrength(numInferenceSteps: number): number {
  let s = 1 / numInferenceSteps;
  while (Math.trunc(numInferenceSteps * s) < 1) s *= 1 + Number.EPSILON;
  return s;
}

/**
 * An 8-bit RGB image (row-major HWC, already at the model size) as the VAE's input: 2·(u8/255) − 1, NCHW [1, 3, H, W]
 * (diffusers' `VaeImageProcessor.preprocess`, do_normalize).
 */
export function imageToTensor(rgb: Uint8Array, width: number, height: number): Tensor {
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new RangeError(`image has ${rgb.length} bytes, ${width}×${height} RGB needs ${plane * 3}`);
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = f32(2 * f32(rgb[p * 3 + c]! / 255) - 1);
  return { data, dims: [1, 3, height, width] };
}

/**
 * An 8-bit grayscale mask (row-major, at the model size; 255 = repaint) binarised as diffusers' mask processor
 * does (v/255 < 0.5 → 0, else 1): [1, 1, H, W].
 */
export function maskToTensor(gray: Uint8Array, width: number, height: number): Tensor {
  if (gray.length !== width * height) throw new RangeError(`mask has ${gray.length} values, ${width}×${height} needs ${width * height}`);
  const data = new Float32Array(gray.length);
  for (let i = 0; i < gray.length; i++) data[i] = f32(gray[i]! / 255) < 0.5 ? 0 : 1;
  return { data, dims: [1, 1, height, width] };
}

/** The image with the area to repaint set to 0: image · (mask < 0.5). image [B, 3, H, W], mask [B, 1, H, W]. */
export function maskedImage(image: Tensor, mask: Tensor): Tensor {
  const [b, c, h, w] = image.dims as [number, number, number, number];
  if (mask.dims[0] !== b || mask.dims[2] !== h || mask.dims[3] !== w)
    throw new RangeError(`mask [${mask.dims.join(', ')}] does not fit image [${image.dims.join(', ')}]`);
  const plane = h * w;
  const data = new Float32Array(image.data.length);
  for (let r = 0; r < b; r++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < plane; p++)
        data[(r * c + k) * plane + p] = mask.data[r * plane + p]! < 0.5 ? image.data[(r * c + k) * plane + p]! : 0;
  return { data, dims: [b, c, h, w] };
}

/**
 * A mask resized to the latent grid by nearest neighbour (torch `interpolate(mode="nearest")`: cell (i, j) takes
 * pixel (⌊i·H/h⌋, ⌊j·W/w⌋)). [B, 1, H, W] → [B, 1, h, w].
 */
export function latentMask(mask: Tensor, h: number, w: number): Tensor {
  const [b, , H, W] = mask.dims as [number, number, number, number];
  const data = new Float32Array(b * h * w);
  for (let r = 0; r < b; r++)
    for (let i = 0; i < h; i++) {
      const y = Math.min(H - 1, Math.floor((i * H) / h));
      for (let j = 0; j < w; j++) data[(r * h + i) * w + j] = mask.data[(r * H + y) * W + Math.min(W - 1, Math.floor((j * W) / w))]!;
    }
  return { data, dims: [b, 1, h, w] };
}

/** (1 − mask)·known + mask·latents, the mask [B, 1, h, w] broadcast over channels. */
function blendKnown(latents: Tensor, known: Tensor, mask: Tensor): Tensor {
  const [b, c, h, w] = latents.dims as [number, number, number, number];
  const plane = h * w;
  const data = new Float32Array(latents.data.length);
  for (let r = 0; r < b; r++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < plane; p++) {
        const m = mask.data[r * plane + p]!;
        const idx = (r * c + k) * plane + p;
        data[idx] = f32(f32((1 - m) * known.data[idx]!) + f32(m * latents.data[idx]!));
      }
  return { data, dims: [b, c, h, w] };
}

/** What an inpainting run adds to image-to-image. */
export interface InpaintInputs {
  /** [B, 1, h, w] the binarised mask on the latent grid (1 = repaint). */
  mask: Tensor;
  /**
   * [B, 4, h, w] scaled latents of the masked image: given → the U-Net takes 9 channels; absent → a regular U-Net,
   * the known region blended back after every step (then `imageLatents` is required).
   */
  maskedImageLatents?: Tensor;
}

export interface ImageSamplingOptions {
  unet: UNetModel;
  /** `setTimesteps(schedule.numInferenceSteps)` done, no step taken. */
  scheduler: Scheduler;
  schedule: StrengthSchedule;
  /** [B, 4, h, w] scaled latents of the input image (null only for a 9-channel inpaint at strength 1). */
  imageLatents: Tensor | null;
  /** [B, 4, h, w] the N(0, 1) noise of add_noise (and of the blend). */
  noise: Tensor;
  inpaint?: InpaintInputs;
  cond: UNetConditioning;
  guidanceScales: readonly number[] | null;
  /** The run's DeepCache plan over `schedule.runLength` steps. */
  cache: FeatureCache;
  /** Noise for stochastic schedulers. */
  noiseSource?: NoiseSource;
  signal?: AbortSignal;
  onStep?: (step: number, total: number, kind: StepKind, latents: Tensor) => void;
  /** Receives the latents right after each scheduler step, before a blend (for checks against references). */
  onSchedulerStep?: (latents: Tensor, runIndex: number) => void;
}

export interface ImageSamplingResult extends DenoiseResult {
  /** The loop's start latents. */
  start: Tensor;
}

/** The loop's start latents (diffusers' `prepare_latents` of the img2img / inpaint pipelines). */
function imageStartLatents(
  scheduler: Scheduler,
  schedule: StrengthSchedule,
  imageLatents: Tensor | null,
  noise: Tensor,
  inpaint: boolean,
): Tensor {
  if (inpaint && schedule.strength === 1) {
    const s = f32(scheduler.initNoiseSigma);
    const data = new Float32Array(noise.data.length);
    for (let i = 0; i < data.length; i++) data[i] = f32(noise.data[i]! * s);
    return { data, dims: [...noise.dims] };
  }
  if (!imageLatents) throw new RangeError('image latents are needed below strength 1');
  return scheduler.addNoise(imageLatents, noise, schedule.beginIndex);
}

/** What one lane of an image run needs beyond its own scheduler (the job's rows of the batch's inputs). */
export type ImageLaneOptions = Pick<
  ImageSamplingOptions,
  | 'scheduler'
  | 'schedule'
  | 'imageLatents'
  | 'noise'
  | 'inpaint'
  | 'cond'
  | 'guidanceScales'
  | 'noiseSource'
  | 'signal'
  | 'onStep'
  | 'onSchedulerStep'
>;

/**
 * One job of an image-to-image or inpainting run as a lane of the denoising loop: its start latents (add_noise at
 * the run's first timestep, or pure noise for inpainting at strength 1), the 9-channel U-Net's extra channels, and
 * for a regular U-Net the known region re-noised to the next timestep and blended back after every step.
 */
export function imageLane(opts: ImageLaneOptions): { lane: DenoiseLane; start: Tensor } {
  const { scheduler, schedule, imageLatents, noise, inpaint } = opts;
  if (scheduler.stepIndex !== 0) throw new Error('an image run needs a scheduler with no step taken');
  const blend = inpaint !== undefined && inpaint.maskedImageLatents === undefined;
  if (blend && !imageLatents) throw new RangeError('inpainting with a regular U-Net needs the image latents');
  const start = imageStartLatents(scheduler, schedule, imageLatents, noise, inpaint !== undefined);
  let extraChannels: Tensor | undefined;
  if (inpaint?.maskedImageLatents) {
    const [b, , h, w] = inpaint.maskedImageLatents.dims as [number, number, number, number];
    const perRow = new Float32Array(b * 5 * h * w);
    const plane = h * w;
    for (let r = 0; r < b; r++) {
      perRow.set(inpaint.mask.data.subarray(r * plane, (r + 1) * plane), r * 5 * plane);
      perRow.set(inpaint.maskedImageLatents.data.subarray(r * 4 * plane, (r + 1) * 4 * plane), (r * 5 + 1) * plane);
    }
    const rows: Tensor = { data: perRow, dims: [b, 5, h, w] };
    extraChannels = opts.guidanceScales ? concatRows([rows, rows]) : rows;
  }
  const last = scheduler.timesteps.length - 1;
  const lane: DenoiseLane = {
    scheduler,
    latents: start,
    startLatents: true,
    cond: opts.cond,
    guidanceScales: opts.guidanceScales,
    ...(extraChannels ? { extraChannels } : {}),
    ...(opts.noiseSource ? { noise: opts.noiseSource } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
    afterStep: (latents, k, i) => {
      opts.onSchedulerStep?.(latents, k);
      if (!blend) return latents;
      const known = i < last ? scheduler.addNoise(imageLatents!, noise, i + 1) : imageLatents!;
      return blendKnown(latents, known, inpaint!.mask);
    },
  };
  return { lane, start };
}

/** Runs image-to-image or inpainting from encoded inputs (one lane). */
export async function sampleFromImage(opts: ImageSamplingOptions): Promise<ImageSamplingResult> {
  const { lane, start } = imageLane(opts);
  const run = await denoiseLanes({ unet: opts.unet, cache: opts.cache, lanes: [lane], beginIndex: opts.schedule.beginIndex });
  const [only] = run.lanes;
  if (only instanceof Error) throw only;
  return { latents: only!.latents, fullSteps: run.fullSteps, shallowSteps: run.shallowSteps, stepKinds: run.stepKinds, start };
}

/**
 * The DeepCache plan of an image-to-image run: counted from the run's first U-Net call (never looked up by
 * timestep value), fresh per run. A non-uniform schedule is laid over the run's own steps.
 */
export function imageRunCache(schedule: StrengthSchedule, settings: DeepCacheSettings | false): FeatureCache {
  return FeatureCache.forRun(schedule.runLength, schedule.numInferenceSteps - schedule.tStart, settings);
}
