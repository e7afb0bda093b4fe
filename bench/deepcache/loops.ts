/**
 * Whole sampling runs through the pipeline (`StableDiffusionPipeline.run`), one job at a time: the U-Net loop time
 * (the pipeline's `denoise` timing: U-Net calls, guidance and scheduler steps) and the end-to-end time (prompt
 * encoding + loop + VAE decode + conversion to 8-bit RGB).
 * @module
 */
import type { DeepCacheSettings } from '../../shared/deepcache.js';
import type { ResolvedInput } from '../../shared/prediction.js';
import type { SchedulerName } from '../../shared/scheduler.js';
import type { ImagePipeline } from '../../gpu-backend/src/pipeline/port.js';

/** What one run measured. */
export interface LoopRun {
  /** `baseline` or a case label. */
  readonly label: string;
  readonly loopMs: number;
  readonly e2eMs: number;
  readonly encodeMs: number;
  readonly decodeMs: number;
  readonly fullSteps: number;
  readonly shallowSteps: number;
}

/** Fixed parts of every benchmark job. */
export interface JobShape {
  readonly side: number;
  readonly steps: number;
  readonly scheduler: SchedulerName;
}

/** The benchmark's request: one image, CFG 7.5 (U-Net batch 2), a fixed prompt and seed. */
export function benchInput(shape: JobShape, deepcache: DeepCacheSettings | false, seed = 0): ResolvedInput {
  return {
    prompt: 'a photograph of an astronaut riding a horse',
    negative_prompt: '',
    width: shape.side,
    height: shape.side,
    num_inference_steps: shape.steps,
    guidance_scale: 7.5,
    seed,
    scheduler: shape.scheduler,
    num_outputs: 1,
    output_format: 'png',
    output_quality: 90,
    deepcache,
  };
}

/**
 * Runs one job and times it.
 * @throws the job's error when the pipeline reports one
 */
export async function timeRun(pipeline: ImagePipeline, label: string, input: ResolvedInput): Promise<LoopRun> {
  const t0 = performance.now();
  const [r] = await pipeline.run([{ id: label, input, signal: new AbortController().signal }]);
  const e2eMs = performance.now() - t0;
  if (!r) throw new Error(`${label}: the pipeline returned no result`);
  if (r instanceof Error) throw r;
  const t = r.timingsMs;
  return {
    label,
    loopMs: t.denoise ?? Number.NaN,
    e2eMs,
    encodeMs: t.encode_prompt ?? Number.NaN,
    decodeMs: t.decode ?? Number.NaN,
    fullSteps: r.unetFullSteps,
    shallowSteps: r.unetShallowSteps,
  };
}
