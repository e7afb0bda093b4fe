/**
 * The port through which the service drives a loaded model: jobs in, images out. Jobs that share a batch key
 * run as one batch; each keeps its own seed, prompts and guidance.
 * @module
 */
import type { ResolvedInput } from '../../../shared/prediction.js';
import type { GeneratedImage } from '../image/encode.js';
import type { StepKind } from './feature-cache.js';

export type { GeneratedImage } from '../image/encode.js';

export interface StepProgress {
  step: number;
  total: number;
  unet: StepKind;
}

export interface ImageJob {
  id: string;
  /** Width, height, steps, scheduler and DeepCache settings are equal within a batch (equal batch keys). */
  input: ResolvedInput;
  /**
   * Image-to-image / inpainting inputs, decoded and resized to the job's width × height: `image` 8-bit RGB
   * (row-major HWC), `mask` 8-bit gray (255 = repaint). Present iff `input.image` is.
   */
  inputImages?: { image: Uint8Array; mask?: Uint8Array };
  /** Abort = cancel or deadline; checked between steps. */
  signal: AbortSignal;
  onProgress?: (p: StepProgress) => void;
}

export interface JobResult {
  images: GeneratedImage[];
  unetFullSteps: number;
  unetShallowSteps: number;
  timingsMs: Record<string, number>;
}

export interface ImagePipeline {
  readonly modelId: string;
  /** The execution provider actually loaded. */
  readonly executionProvider: string;
  /** Jobs with equal keys may share one run. */
  batchKey(input: ResolvedInput): string;
  /** One entry per job, in order; an aborted job's entry is its abort reason (an AbortError). */
  run(jobs: ImageJob[]): Promise<Array<JobResult | Error>>;
  warmup(): Promise<void>;
  dispose(): Promise<void>;
}
