/**
 * Turns a job's generated images into stored objects: encode (sharp) → PutObject at
 * `<output_prefix>/<id>/<index>.<ext>`, with content type and generation metadata. Neither the prompt nor a hash
 * of it is stored (an unsalted hash of a short prompt can be confirmed by guessing).
 * @module
 */
import type { BackendJob, StoredImage } from '../../../shared/internal.js';
import { contentTypes } from '../image/encode.js';
import { outputKey, type OutputStore } from '../storage/s3-output-store.js';
import type { BackendMetricsRegistry } from './metrics.js';
import type { EncodeImage, GeneratedImage, JobResult } from './pipeline-port.js';

/**
 * Metadata written to the object and embedded in the image: the settings, never the prompts or their hashes.
 * It depends only on the input (not on the prediction id), so the same request encodes to the same bytes.
 */
export function imageMetadata(job: BackendJob, image: GeneratedImage): Record<string, string> {
  const { input } = job;
  const dc = input.deepcache;
  return {
    model: job.model,
    'image-index': String(image.index),
    seed: String(input.seed),
    steps: String(input.num_inference_steps),
    scheduler: input.scheduler,
    'guidance-scale': String(input.guidance_scale),
    size: `${image.width}x${image.height}`,
    deepcache:
      dc === false
        ? 'off'
        : [`interval=${dc.cache_interval}`, `branch=${dc.cache_branch_id}`, `schedule=${dc.schedule}`]
            .concat(dc.center === undefined ? [] : [`center=${dc.center}`], dc.power === undefined ? [] : [`power=${dc.power}`])
            .join(';'),
  };
}

export interface OutputWriterDeps {
  store: OutputStore;
  encode: EncodeImage;
  metrics: BackendMetricsRegistry;
}

/** Why writing outputs failed: which stage, and the cause. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(
    readonly stage: 'encode' | 'upload',
    cause: unknown,
  ) {
    super(`${stage} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Encodes and uploads every image of a job. All or nothing from the caller's view: on any failure it throws
 * {@link OutputError} and the prediction must be reported failed (objects already written are overwritten by a
 * retry of the same id).
 */
export async function writeOutputs(deps: OutputWriterDeps, job: BackendJob, result: JobResult): Promise<StoredImage[]> {
  const format = job.input.output_format;
  const stored: StoredImage[] = [];
  for (const image of result.images) {
    const metadata = imageMetadata(job, image);
    const t0 = performance.now();
    let body: Buffer;
    try {
      body = await deps.encode(image, format, job.input.output_quality, metadata);
    } catch (err) {
      throw new OutputError('encode', err);
    }
    const t1 = performance.now();
    deps.metrics.stageSeconds.observe((t1 - t0) / 1000, { stage: 'encode' });
    const key = outputKey(job.output_prefix, job.id, image.index, format);
    try {
      await deps.store.putImage({ key, body, contentType: contentTypes[format], metadata });
    } catch (err) {
      throw new OutputError('upload', err);
    }
    deps.metrics.stageSeconds.observe((performance.now() - t1) / 1000, { stage: 'upload' });
    stored.push({
      index: image.index,
      key,
      content_type: contentTypes[format],
      bytes: body.byteLength,
      width: image.width,
      height: image.height,
    });
  }
  return stored;
}
