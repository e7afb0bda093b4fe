/**
 * Opens a model directory's U-Net the way `loadPipeline` does (the shared full graph plus shallow graphs from the
 * on-disk DeepCache cache), without text encoders or VAE, for timing single U-Net calls.
 * @module
 */
import { readModelDirectory } from '../../gpu-backend/src/models/model-directory.js';
import { loadUnetWithDeepCache } from '../../gpu-backend/src/pipeline/load-unet.js';
import type { ExecutionProvider } from '../../gpu-backend/src/pipeline/ort-session.js';
import type { OnnxUNet } from '../../gpu-backend/src/pipeline/unet.js';

/** Options of {@link openUnet}. */
export interface OpenUnetOptions {
  readonly modelDir: string;
  readonly providers: readonly ExecutionProvider[];
  /** Shallow graphs to load (split and cached on first use). */
  readonly branches: readonly number[];
  readonly intraOpThreads?: number;
}

/**
 * The U-Net with its DeepCache graphs (through the pipeline's own loader), the time spent reading the model
 * directory (`prepareMs`) and preparing the graph cache plus creating the sessions (`sessionMs`).
 */
export async function openUnet(opts: OpenUnetOptions): Promise<{ unet: OnnxUNet; prepareMs: number; sessionMs: number }> {
  const t0 = performance.now();
  const desc = await readModelDirectory(opts.modelDir);
  const t1 = performance.now();
  const { unet } = await loadUnetWithDeepCache({
    unetPath: desc.components.unet.model,
    fingerprint: desc.unetFingerprint.key,
    providers: opts.providers,
    branches: opts.branches,
    ...(opts.intraOpThreads ? { intraOpThreads: opts.intraOpThreads } : {}),
  });
  return { unet, prepareMs: t1 - t0, sessionMs: performance.now() - t1 };
}
