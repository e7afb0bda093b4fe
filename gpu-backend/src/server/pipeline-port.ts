/**
 * The pipeline as the service sees it: the port's types, the loader's signature and the encoder's.
 * The service takes the loader as a dependency; production and the tests pass the real `loadPipeline`.
 * @module
 */
import type { ImageFormat, GeneratedImage } from '../image/encode.js';
import type { LoadPipelineOptions } from '../pipeline/load.js';
import type { ImagePipeline } from '../pipeline/port.js';

export type { ImageJob, ImagePipeline, JobResult, StepProgress } from '../pipeline/port.js';
export type { GeneratedImage, ImageFormat } from '../image/encode.js';

export type { LoadPipelineOptions } from '../pipeline/load.js';
export type { ExecutionProvider } from '../pipeline/ort-session.js';

/** Loads a model directory into a pipeline. */
export type LoadPipeline = (opts: LoadPipelineOptions) => Promise<ImagePipeline>;

/** Encodes one image (PNG/WebP/JPEG) with generation metadata. */
export type EncodeImage = (
  image: GeneratedImage,
  format: ImageFormat,
  quality: number,
  metadata: Record<string, string>,
) => Promise<Buffer>;
