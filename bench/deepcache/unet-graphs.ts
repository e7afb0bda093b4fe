/**
 * Opens a model directory's U-Net the way `loadPipeline` does (the shared full graph plus shallow graphs from the
 * on-disk DeepCache cache), without text encoders or VAE, for timing single U-Net calls.
 * @module
 */
import { link, lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { readModelDirectory, type ModelDirectory } from '../../gpu-backend/src/models/model-directory.js';
import { DeepCacheGraphs } from '../../gpu-backend/src/pipeline/deepcache-graphs.js';
import type { ExecutionProvider } from '../../gpu-backend/src/pipeline/ort-session.js';
import { OnnxUNet } from '../../gpu-backend/src/pipeline/unet.js';

/** Options of {@link openUnet}. */
export interface OpenUnetOptions {
  readonly modelDir: string;
  readonly providers: readonly ExecutionProvider[];
  /** Shallow graphs to load (split and cached on first use). */
  readonly branches: readonly number[];
  readonly intraOpThreads?: number;
}

/**
 * Makes the DeepCache cache folder usable for a U-Net with external weights. `readModelDirectory` lists
 * `externalData` as absolute paths while `DeepCacheGraphs.open` expects names in the U-Net folder and links
 * `<cache>/<name>`; with an absolute path that link's parent folders do not exist and `open` fails (ENOENT), so
 * `loadPipeline` cannot open any model with `model.onnx_data`. Besides, onnxruntime 1.30 refuses external data
 * whose resolved path leaves the model's folder, which a symbolic link to `../../model.onnx_data` does.
 * This creates the weight file the graphs need as a hard link (`<cache>/model.onnx_data`, same file system, no
 * copy) and the parent folders `open` expects, so both this module and `loadPipeline` work until `open` is fixed.
 */
export async function prepareDeepCacheLinks(desc: ModelDirectory): Promise<void> {
  const unetDir = path.dirname(desc.components.unet.model);
  const dir = path.join(unetDir, '.deepcache', desc.unetFingerprint.key);
  await mkdir(dir, { recursive: true });
  for (const file of desc.components.unet.externalData) {
    const abs = path.resolve(unetDir, file);
    const target = path.join(dir, path.basename(abs));
    const st = await lstat(target).catch(() => null);
    if (st?.isSymbolicLink()) await rm(target);
    if (!st || st.isSymbolicLink()) await link(abs, target);
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  }
}

/** The U-Net with its DeepCache graphs and the time spent preparing graphs and creating sessions. */
export async function openUnet(opts: OpenUnetOptions): Promise<{ unet: OnnxUNet; prepareMs: number; sessionMs: number }> {
  const t0 = performance.now();
  const desc = await readModelDirectory(opts.modelDir);
  await prepareDeepCacheLinks(desc);
  const graphs = await DeepCacheGraphs.open({
    unetPath: desc.components.unet.model,
    externalData: desc.components.unet.externalData.map((f) => path.basename(f)),
    fingerprint: desc.unetFingerprint.key,
  });
  const shallow = new Map<number, string>();
  for (const b of opts.branches) shallow.set(b, await graphs.shallowPath(b));
  const t1 = performance.now();
  const unet = await OnnxUNet.create({
    full: graphs.fullPath,
    featureOutputs: graphs.featureOutputs,
    shallow,
    shallowLoader: (b) => graphs.shallowPath(b),
    providers: opts.providers,
    intraOpThreads: opts.intraOpThreads,
  });
  return { unet, prepareMs: t1 - t0, sessionMs: performance.now() - t1 };
}
