/**
 * The pipeline as the service sees it. These are the names `gpu-backend/src/pipeline/port.ts` exports;
 * this module is the service's single import point for them, so switching to that module is a one-line change.
 * @module
 */
import type { ResolvedInput } from '../../../shared/prediction.js';

/** One prediction inside a pipeline run. */
export interface ImageJob {
  id: string;
  /** width/height/steps/scheduler/deepcache are identical within a batch. */
  input: ResolvedInput;
  /** Abort = cancel or deadline; the pipeline checks it between steps. */
  signal: AbortSignal;
  onProgress?: (p: { step: number; total: number; unet: 'full' | 'shallow' }) => void;
}

/** One decoded image: HWC uint8 with 3 channels, `rgb.length === width·height·3`. */
export interface GeneratedImage {
  index: number;
  width: number;
  height: number;
  rgb: Uint8Array;
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
  /** One entry per job; an aborted job's entry is an Error named AbortError. */
  run(jobs: ImageJob[]): Promise<Array<JobResult | Error>>;
  warmup(): Promise<void>;
  dispose(): Promise<void>;
}

export interface LoadPipelineOptions {
  modelId: string;
  modelDir: string;
  providers: string[];
  deepcacheBranches?: number[];
}

/** Loads a model directory (trying the providers in order) into a pipeline. */
export type LoadPipeline = (opts: LoadPipelineOptions) => Promise<ImagePipeline>;

/** Encodes one image (PNG/WebP/JPEG) with generation metadata. */
export type EncodeImage = (
  image: GeneratedImage,
  format: 'png' | 'webp' | 'jpeg',
  quality: number,
  metadata: Record<string, string>,
) => Promise<Buffer>;
