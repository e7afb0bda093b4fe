/**
 * Opens a model directory's U-Net the way `loadPipeline` does (the shared full graph plus shallow graphs from the
 * on-disk DeepCache cache), without text encoders or VAE, for timing single U-Net calls.
 * @module
 */
import { readModelDirectory } from '../../gpu-backend/src/models/model-directory.js';
import { DeepCacheGraphs } from '../../gpu-backend/src/pipeline/deepcache-graphs.js';
import type { ExecutionProvider, ModelSource } from '../../gpu-backend/src/pipeline/ort-session.js';
import { OnnxUNet } from '../../gpu-backend/src/pipeline/unet.js';

/** Options of {@link openUnet}. */
export interface OpenUnetOptions {
  readonly modelDir: string;
  readonly providers: readonly ExecutionProvider[];
  /** Shallow graphs to load (split and cached on first use). */
  readonly branches: readonly number[];
  readonly intraOpThreads?: number;
}

/** The U-Net with its DeepCache graphs and the time spent preparing graphs and creating sessions. */
export async function openUnet(opts: OpenUnetOptions): Promise<{ unet: OnnxUNet; prepareMs: number; sessionMs: number }> {
  const t0 = performance.now();
  const desc = await readModelDirectory(opts.modelDir);
  const graphs = await DeepCacheGraphs.open({ unetPath: desc.components.unet.model, fingerprint: desc.unetFingerprint.key });
  const shallow = new Map<number, ModelSource>();
  for (const b of opts.branches) shallow.set(b, await graphs.shallowSource(b));
  const t1 = performance.now();
  const unet = await OnnxUNet.create({
    full: await graphs.fullSource(),
    featureOutputs: graphs.featureOutputs,
    shallow,
    shallowLoader: (b) => graphs.shallowSource(b),
    providers: opts.providers,
    intraOpThreads: opts.intraOpThreads,
  });
  return { unet, prepareMs: t1 - t0, sessionMs: performance.now() - t1 };
}
