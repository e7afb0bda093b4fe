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
  /** Process CPU time (user + system, all threads) of the whole run: insensitive to waiting for a busy CPU. */
  readonly e2eCpuMs: number;
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
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const [r] = await pipeline.run([{ id: label, input, signal: new AbortController().signal }]);
  const e2eMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!r) throw new Error(`${label}: the pipeline returned no result`);
  if (r instanceof Error) throw r;
  const t = r.timingsMs;
  return {
    label,
    loopMs: t.denoise ?? Number.NaN,
    e2eMs,
    e2eCpuMs: (cpu.user + cpu.system) / 1000,
    encodeMs: t.encode_prompt ?? Number.NaN,
    decodeMs: t.decode ?? Number.NaN,
    fullSteps: r.unetFullSteps,
    shallowSteps: r.unetShallowSteps,
  };
}

/**
 * The fastest of repeated runs of one configuration, field by field (contention on a shared machine only ever
 * slows a run down, so the minimum is the least disturbed estimate).
 * @throws RangeError for no runs
 */
export function fastestRun(runs: readonly LoopRun[]): LoopRun {
  const first = runs[0];
  if (!first) throw new RangeError('no runs');
  const min = (f: (r: LoopRun) => number) => Math.min(...runs.map(f));
  return {
    ...first,
    loopMs: min((r) => r.loopMs),
    e2eMs: min((r) => r.e2eMs),
    e2eCpuMs: min((r) => r.e2eCpuMs),
    encodeMs: min((r) => r.encodeMs),
    decodeMs: min((r) => r.decodeMs),
  };
}

/** Round r runs the configurations rotated by r, so no configuration always runs first or last. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const k = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
