/**
 * The bare pipeline side of the serving benchmark: the stack's model directory loaded in this process with
 * `loadPipeline`, one image generated and encoded with sharp exactly as the backend encodes it (same format,
 * quality and metadata), no HTTP and no storage.
 * @module
 */
import { createHash } from 'node:crypto';
import type { BackendJob } from '../../shared/internal.js';
import type { ResolvedInput } from '../../shared/prediction.js';
import { encodeImage } from '../../gpu-backend/src/image/encode.js';
import { loadPipeline } from '../../gpu-backend/src/pipeline/load.js';
import type { ExecutionProvider } from '../../gpu-backend/src/pipeline/ort-session.js';
import type { StableDiffusionPipeline } from '../../gpu-backend/src/pipeline/sd-pipeline.js';
import { imageMetadata } from '../../gpu-backend/src/server/output-writer.js';

/** One bare request: wall-clock times in ms. */
export interface BareSample {
  /** Generation plus encoding: what the API's latency is compared with. */
  total_ms: number;
  /** `pipeline.run` (prompt encoding, denoising, VAE decode, conversion to 8-bit RGB). */
  pipeline_ms: number;
  /** sharp encoding of the one image. */
  encode_ms: number;
  /** Encoded image size. */
  bytes: number;
  /** SHA-256 of the encoded image (hex), to check the API served the very same image. */
  sha256: string;
}

export interface BarePipelineOptions {
  modelId: string;
  modelDir: string;
  provider: ExecutionProvider;
  /** 0 = onnxruntime's default (as the backend when INTRA_OP_THREADS is unset). */
  threads: number;
  /** DeepCache graph cache of this process (kept apart from the backend's). */
  deepcacheCacheDir: string;
}

/** A loaded in-process pipeline that generates and encodes one image per call. */
export class BarePipeline {
  readonly #pipeline: StableDiffusionPipeline;
  readonly #modelId: string;

  private constructor(pipeline: StableDiffusionPipeline, modelId: string) {
    this.#pipeline = pipeline;
    this.#modelId = modelId;
  }

  /** Loads the model directory and runs the pipeline's own warm-up. */
  static async open(o: BarePipelineOptions): Promise<BarePipeline> {
    const pipeline = await loadPipeline({
      modelId: o.modelId,
      modelDir: o.modelDir,
      providers: [o.provider],
      deepcacheCacheDir: o.deepcacheCacheDir,
      ...(o.threads > 0 ? { intraOpThreads: o.threads } : {}),
    });
    try {
      await pipeline.warmup();
    } catch (err) {
      await pipeline.dispose();
      throw err;
    }
    return new BarePipeline(pipeline, o.modelId);
  }

  /**
   * Generates and encodes one image.
   * @param input a one-image input (`num_outputs` 1), resolved as the edge resolves it
   * @throws Error when the pipeline fails or returns other than one image
   */
  async run(input: ResolvedInput): Promise<BareSample> {
    if (input.num_outputs !== 1) throw new RangeError(`bare runs generate one image, not ${input.num_outputs}`);
    const t0 = performance.now();
    const [result] = await this.#pipeline.run([{ id: 'bench-bare', input, signal: new AbortController().signal }]);
    const t1 = performance.now();
    if (result === undefined || result instanceof Error) throw result ?? new Error('the pipeline returned no result');
    const image = result.images[0];
    if (result.images.length !== 1 || image === undefined) throw new Error(`the pipeline returned ${result.images.length} images for one`);
    const job: Pick<BackendJob, 'model' | 'input'> = { model: this.#modelId, input };
    const body = await encodeImage(image, input.output_format, input.output_quality, imageMetadata(job as BackendJob, image));
    const t2 = performance.now();
    return {
      total_ms: t2 - t0,
      pipeline_ms: t1 - t0,
      encode_ms: t2 - t1,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    };
  }

  async dispose(): Promise<void> {
    await this.#pipeline.dispose();
  }
}
