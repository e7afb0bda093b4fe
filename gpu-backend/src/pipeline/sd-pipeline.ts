/**
 * Stable Diffusion text-to-image, image-to-image and inpainting over ONNX components: the pipeline
 * composes a prompt encoder, a scheduler, the U-Net port (with DeepCache graphs), the VAE encoder and decoder and
 * image post-processing, and owns only orchestration, guidance and batching. Jobs with equal batch keys run as one
 * batch; each job keeps its own seed, prompts, guidance and input image, so a batched image equals the same job run
 * alone. A job's random draws come from its seed's stream in diffusers' order: image posterior sample, noise,
 * masked-image posterior sample (dedicated inpainting U-Net), then the scheduler's per-step draws.
 * @module
 */
import type { ModelFamily } from '../../../shared/models.js';
import type { ResolvedInput } from '../../../shared/prediction.js';
import type { NoiseSource } from '../noise/noise-source.js';
import { createScheduler } from '../schedulers/registry.js';
import { toUint8Hwc } from '../image/postprocess.js';
import type { GeneratedImage } from '../image/encode.js';
import type { Tensor } from '../tensor/tensor.js';
import { denoiseLanes, type DenoiseLane } from './denoise.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import { DEFAULT_PROMPT_STRENGTH } from '../../../shared/input-image.js';
import { FeatureCache, type StepKind } from './feature-cache.js';
import { concatRows, sliceRows } from './guidance.js';
import type { ImageJob, ImagePipeline, JobResult } from './port.js';
import type { PromptEmbedding, PromptEncoder } from './text-encoder.js';
import type { UNetConditioning, UNetModel } from './unet.js';
import type { VaeDecoder } from './vae.js';
import type { VaeEncoder } from './vae-encoder.js';
import { imageLane, imageRunCache, imageToTensor, latentMask, maskedImage, maskToTensor, strengthSchedule } from './img2img.js';

export interface SdComponents {
  modelId: string;
  family: ModelFamily;
  unet: UNetModel;
  vae: VaeDecoder;
  /** The VAE encoder (`vae_encoder/`), needed for image-to-image and inpainting. */
  vaeEncoder?: VaeEncoder;
  /** The U-Net's input channels: 4, or 9 for a dedicated inpainting U-Net (latents ‖ mask ‖ masked-image latents). */
  unetInChannels?: number;
  prompts: PromptEncoder;
  /** The model's `scheduler/scheduler_config.json`; every scheduler is built from it. */
  schedulerConfig: unknown;
  /** Pixels per latent cell (8). */
  vaeScaleFactor: number;
  /** Width and height must be multiples of this (VAE factor × U-Net downsampling: SD 64, SDXL 32). */
  sizeMultiple: number;
  /** SDXL: an empty negative prompt gives zero embeddings (model_index.json `force_zeros_for_empty_prompt`). */
  forceZerosForEmptyPrompt: boolean;
  /** A seeded Gaussian stream for one job. */
  noise: (seed: number) => NoiseSource;
  /** Releases what the components hold. */
  dispose: () => Promise<void>;
}

function zerosLike(t: Tensor): Tensor {
  return { data: new Float32Array(t.data.length), dims: t.dims };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

/** k copies of a [1, …] tensor as [k, …]. */
function repeatRows(t: Tensor, k: number): Tensor {
  return k === 1 ? t : concatRows(Array.from({ length: k }, () => t));
}

export class StableDiffusionPipeline implements ImagePipeline {
  readonly modelId: string;
  /**
   * U-Net row evaluations since load (CFG counts both rows of an image), and those spent on jobs already aborted
   * when the call started (0: a canceled job leaves its batch at the next step boundary).
   */
  readonly usage = { unetRows: 0, unetRowsAfterAbort: 0 };
  #components: SdComponents;

  constructor(components: SdComponents) {
    this.#components = components;
    this.modelId = components.modelId;
  }

  get executionProvider(): string {
    return this.#components.unet.provider;
  }

  get family(): ModelFamily {
    return this.#components.family;
  }

  /** What the model can do from an input image: image-to-image needs a VAE encoder; a 9-channel U-Net only inpaints. */
  get capabilities(): { textToImage: boolean; imageToImage: boolean; inpaint: boolean } {
    const encoder = this.#components.vaeEncoder !== undefined;
    const dedicated = (this.#components.unetInChannels ?? 4) === 9;
    return { textToImage: !dedicated, imageToImage: encoder && !dedicated, inpaint: encoder };
  }

  /**
   * Jobs with equal keys share a run: same size, steps, scheduler, DeepCache settings, CFG on/off, and the same
   * mode (text, image, inpaint) and strength (so the same steps run).
   */
  batchKey(input: ResolvedInput): string {
    const { width, height, num_inference_steps, scheduler, deepcache } = input;
    const mode = input.image === undefined ? 'text' : input.mask === undefined ? 'image' : 'inpaint';
    const strength = mode === 'text' ? null : (input.prompt_strength ?? DEFAULT_PROMPT_STRENGTH);
    return JSON.stringify({ width, height, num_inference_steps, scheduler, deepcache, cfg: input.guidance_scale > 1, mode, strength });
  }

  async run(jobs: ImageJob[]): Promise<Array<JobResult | Error>> {
    if (jobs.length === 0) return [];
    const key = this.batchKey(jobs[0]!.input);
    if (jobs.some((j) => this.batchKey(j.input) !== key)) throw new RangeError('jobs in one run must share a batch key');
    try {
      return await this.#generate(jobs);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      return jobs.map((j) => (j.signal.aborted ? abortError(j.signal) : e));
    }
  }

  async #generate(jobs: ImageJob[]): Promise<Array<JobResult | Error>> {
    const first = jobs[0]!.input;
    const { width, height, num_inference_steps: steps } = first;
    const f = this.#components.vaeScaleFactor;
    const m = this.#components.sizeMultiple;
    if (width % m || height % m) throw new RangeError(`width and height must be multiples of ${m} for this model, got ${width}×${height}`);
    const cfg = first.guidance_scale > 1;
    const timings: Record<string, number> = {};
    let t0 = performance.now();

    // 1. encode prompts (each distinct prompt once)
    const texts = jobs.flatMap((j) => (cfg ? [j.input.prompt, j.input.negative_prompt] : [j.input.prompt]));
    const embeddings = await this.#components.prompts.encode(texts);
    const embed = (text: string, negative: boolean): PromptEmbedding => {
      const e = embeddings.get(text)!;
      if (negative && text === '' && this.#components.forceZerosForEmptyPrompt) {
        return { hidden: zerosLike(e.hidden), ...(e.pooled ? { pooled: zerosLike(e.pooled) } : {}) };
      }
      return e;
    };
    const perRow = (negative: boolean) =>
      jobs.flatMap((j) =>
        Array.from({ length: j.input.num_outputs }, () => embed(negative ? j.input.negative_prompt : j.input.prompt, negative)),
      );
    const rowEmbeds = cfg ? [...perRow(true), ...perRow(false)] : perRow(false);
    const cond: UNetConditioning = { encoderHiddenStates: concatRows(rowEmbeds.map((e) => e.hidden)) };
    if (this.#components.family === 'sdxl') {
      cond.textEmbeds = concatRows(rowEmbeds.map((e) => e.pooled!));
      const ids = Float32Array.from([height, width, 0, 0, height, width]);
      cond.timeIds = concatRows(rowEmbeds.map(() => ({ data: ids, dims: [1, 6] })));
    }
    timings.encode_prompt = performance.now() - t0;

    // Each job is a lane of the loop: its own rows of the conditioning, scheduler (its state is per job), noise
    // stream and abort signal; a canceled job leaves the batch at the next step boundary.
    const half = cond.encoderHiddenStates.dims[0]! / (cfg ? 2 : 1);
    const laneRows = (t: Tensor | undefined, start: number, k: number): Tensor | undefined =>
      t === undefined
        ? undefined
        : cfg
          ? concatRows([sliceRows(t, start, start + k), sliceRows(t, half + start, half + start + k)])
          : sliceRows(t, start, start + k);
    const laneParts = jobs.map((j, n) => {
      const k = j.input.num_outputs;
      const row = jobs.slice(0, n).reduce((sum, o) => sum + o.input.num_outputs, 0);
      const laneCond: UNetConditioning = { encoderHiddenStates: laneRows(cond.encoderHiddenStates, row, k)! };
      if (cond.textEmbeds) laneCond.textEmbeds = laneRows(cond.textEmbeds, row, k)!;
      if (cond.timeIds) laneCond.timeIds = laneRows(cond.timeIds, row, k)!;
      const scheduler = createScheduler(first.scheduler, this.#components.schedulerConfig);
      scheduler.setTimesteps(steps);
      return {
        row,
        k,
        scheduler,
        noise: this.#components.noise(j.input.seed),
        cond: laneCond,
        guidanceScales: cfg ? Array.from({ length: k }, () => j.input.guidance_scale) : null,
        signal: j.signal,
        onStep: (step: number, total: number, kind: StepKind) => {
          if (!j.signal.aborted) j.onProgress?.({ step, total, unet: kind });
        },
      };
    });

    let lanes: DenoiseLane[];
    let cache: FeatureCache;
    let beginIndex = 0;
    if (first.image !== undefined) {
      // 2. timesteps, 3. encoded image and start latents (draws from each job's stream in diffusers' order)
      const image = await this.#prepareImageRun(
        jobs,
        laneParts.map((p) => p.noise),
        laneParts[0]!.scheduler,
      );
      timings.encode_image = image.encodeMs;
      const { sampling } = image;
      const rowsOf = (t: Tensor, p: { row: number; k: number }) => sliceRows(t, p.row, p.row + p.k);
      lanes = laneParts.map(
        (p) =>
          imageLane({
            scheduler: p.scheduler,
            schedule: image.schedule,
            imageLatents: sampling.imageLatents === null ? null : rowsOf(sampling.imageLatents, p),
            noise: rowsOf(sampling.noise, p),
            ...(sampling.inpaint
              ? {
                  inpaint: {
                    mask: rowsOf(sampling.inpaint.mask, p),
                    ...(sampling.inpaint.maskedImageLatents ? { maskedImageLatents: rowsOf(sampling.inpaint.maskedImageLatents, p) } : {}),
                  },
                }
              : {}),
            cond: p.cond,
            guidanceScales: p.guidanceScales,
            noiseSource: p.noise,
            signal: p.signal,
            onStep: p.onStep,
          }).lane,
      );
      cache = imageRunCache(image.schedule, first.deepcache);
      beginIndex = image.schedule.beginIndex;
    } else {
      // 2. timesteps, 3. initial latents (one seeded stream per job)
      lanes = laneParts.map((p) => ({
        scheduler: p.scheduler,
        latents: p.noise.randn([p.k, 4, height / f, width / f]),
        cond: p.cond,
        guidanceScales: p.guidanceScales,
        noise: p.noise,
        signal: p.signal,
        onStep: p.onStep,
      }));
      cache = FeatureCache.forRun(laneParts[0]!.scheduler.timesteps.length, steps, first.deepcache);
    }
    if (cache.branch !== null) await this.#components.unet.ensureBranch(cache.branch);

    // 4. denoising loop with DeepCache; an aborted job leaves the batch at the next step boundary
    t0 = performance.now();
    const result = await denoiseLanes({ unet: this.#components.unet, cache, lanes, beginIndex });
    this.usage.unetRows += result.unetRows;
    this.usage.unetRowsAfterAbort += result.unetRowsAfterAbort;
    const perJob = result.lanes.map((lane) => (lane instanceof Error ? lane : lane.latents));
    const { fullSteps, shallowSteps } = result;
    timings.denoise = performance.now() - t0;

    // 5. decode and convert, per job
    t0 = performance.now();
    const out: Array<JobResult | Error> = [];
    for (const [n, j] of jobs.entries()) {
      const k = j.input.num_outputs;
      const latents = perJob[n]!;
      if (latents instanceof Error || j.signal.aborted) {
        out.push(latents instanceof Error ? latents : abortError(j.signal));
      } else {
        const samples = await this.#components.vae.decode(latents);
        const images: GeneratedImage[] = Array.from({ length: k }, (_, i) => ({ index: i, width, height, rgb: toUint8Hwc(samples, i) }));
        out.push({ images, unetFullSteps: fullSteps, unetShallowSteps: shallowSteps, timingsMs: timings });
      }
    }
    timings.decode = performance.now() - t0;
    return out;
  }

  /**
   * Encodes the jobs' input images (and masked images) with draws from each job's own stream, in diffusers'
   * order, and returns what `sampleFromImage` needs. A job with k outputs encodes its image once and repeats the
   * latents k times (as diffusers repeats them per prompt); its noise is k rows.
   * @throws RangeError when the model cannot do the job (no VAE encoder, a 9-channel U-Net without a mask) or the
   * strength leaves no step
   */
  async #prepareImageRun(jobs: ImageJob[], sources: NoiseSource[], scheduler: Scheduler) {
    const t0 = performance.now();
    const first = jobs[0]!.input;
    const { width, height, num_inference_steps: steps } = first;
    const encoder = this.#components.vaeEncoder;
    if (!encoder) throw new RangeError(`model ${this.modelId} has no VAE encoder: it cannot start from an input image`);
    const inpaint = first.mask !== undefined;
    const dedicated = (this.#components.unetInChannels ?? 4) === 9;
    if (dedicated && !inpaint) throw new RangeError(`model ${this.modelId} has an inpainting U-Net: it needs a mask`);
    const strength = first.prompt_strength ?? DEFAULT_PROMPT_STRENGTH;
    const schedule = strengthSchedule(scheduler, steps, strength);
    const f = this.#components.vaeScaleFactor;
    const [h, w] = [height / f, width / f];
    const needImageLatents = !(inpaint && dedicated && strength === 1);
    const imageRows: Tensor[] = [];
    const noiseRows: Tensor[] = [];
    const maskRows: Tensor[] = [];
    const maskedRows: Tensor[] = [];
    for (const [n, j] of jobs.entries()) {
      const given = j.inputImages;
      if (!given) throw new RangeError(`job ${j.id} has an image key but no decoded image`);
      const k = j.input.num_outputs;
      const src = sources[n]!;
      const x = imageToTensor(given.image, width, height);
      if (needImageLatents) imageRows.push(repeatRows(await encoder.encode(x, src.randn([1, 4, h, w])), k));
      noiseRows.push(src.randn([k, 4, h, w]));
      if (inpaint) {
        if (!given.mask) throw new RangeError(`job ${j.id} has a mask key but no decoded mask`);
        const full = maskToTensor(given.mask, width, height);
        maskRows.push(repeatRows(latentMask(full, h, w), k));
        if (dedicated) maskedRows.push(repeatRows(await encoder.encode(maskedImage(x, full), src.randn([1, 4, h, w])), k));
      }
    }
    const sampling = {
      schedule,
      imageLatents: needImageLatents ? concatRows(imageRows) : null,
      noise: concatRows(noiseRows),
      ...(inpaint ? { inpaint: { mask: concatRows(maskRows), ...(dedicated ? { maskedImageLatents: concatRows(maskedRows) } : {}) } } : {}),
    };
    return { schedule, sampling, encodeMs: performance.now() - t0 };
  }

  /** Runs one tiny generation so the first request does not pay for graph initialisation. */
  async warmup(): Promise<void> {
    // a dedicated inpainting U-Net cannot run text-to-image: its first request initialises the graphs instead
    if (!this.capabilities.textToImage) return;
    const ctrl = new AbortController();
    const size = this.#components.sizeMultiple;
    const input: ResolvedInput = {
      prompt: 'warm-up',
      negative_prompt: '',
      width: size,
      height: size,
      num_inference_steps: 2,
      guidance_scale: 7.5,
      seed: 0,
      scheduler: 'ddim',
      num_outputs: 1,
      output_format: 'png',
      output_quality: 90,
      deepcache: false,
    };
    const [r] = await this.run([{ id: 'warmup', input, signal: ctrl.signal }]);
    if (r instanceof Error) throw r;
  }

  async dispose(): Promise<void> {
    await this.#components.dispose();
  }
}
