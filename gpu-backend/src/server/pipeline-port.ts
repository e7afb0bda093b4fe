/**
 * The pipeline as the service sees it: the port's types, the loader's signature and the encoder's.
 * The service injects a loader (the real `loadPipeline` in production and in tests).
 * @module
 */
import type { ImageFormat, GeneratedImage } from '../image/encode.js';
import type { ImagePipeline } from '../pipeline/port.js';

export type { ImageJob, ImagePipeline, JobResult, StepProgress } from '../pipeline/port.js';
export type { GeneratedImage, ImageFormat } from '../image/encode.js';

export interface LoadPipelineOptions {
  modelId: string;
  modelDir: string;
  /** Execution providers tried in order; the first that loads wins. */
  providers: string[];
  deepcacheBranches?: number[];
}

/** Loads a model directory into a pipeline. */
export type LoadPipeline = (opts: LoadPipelineOptions) => Promise<ImagePipeline>;

/** Encodes one image (PNG/WebP/JPEG) with generation metadata. */
export type EncodeImage = (image: GeneratedImage, format: ImageFormat, quality: number, metadata: Record<string, string>) => Promise<Buffer>;
