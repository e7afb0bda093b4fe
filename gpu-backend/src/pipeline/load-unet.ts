/**
 * Opens a U-Net with its DeepCache graphs: the cached full graph (every branch's feature as an output) in one
 * session and the shallow graphs of the requested branches, the others split and loaded on first use.
 * @module
 */
import { branchRange } from '../../../shared/models.js';
import { DeepCacheGraphs } from './deepcache-graphs.js';
import type { ExecutionProvider, ModelSource } from './ort-session.js';
import { OnnxUNet } from './unet.js';

export interface LoadUnetOptions {
  /** `unet/model.onnx` of a model directory. */
  unetPath: string;
  /** readModelDirectory's `unetFingerprint.key` (keys the on-disk graph cache). */
  fingerprint: string;
  providers: readonly ExecutionProvider[];
  /** Branches whose shallow graphs are loaded now; others load on first use. */
  branches?: readonly number[];
  /** Where DeepCache graphs are cached (default `<U-Net folder>/.deepcache`). */
  cacheDir?: string;
  intraOpThreads?: number;
}

/**
 * @throws RangeError when a requested branch is outside the U-Net's range
 */
export async function loadUnetWithDeepCache(opts: LoadUnetOptions): Promise<{ unet: OnnxUNet; graphs: DeepCacheGraphs }> {
  const graphs = await DeepCacheGraphs.open({
    unetPath: opts.unetPath,
    fingerprint: opts.fingerprint,
    ...(opts.cacheDir ? { cacheRoot: opts.cacheDir } : {}),
  });
  const { max } = branchRange({ unet_levels: graphs.branchCount / 3 });
  const shallow = new Map<number, ModelSource>();
  for (const b of opts.branches ?? []) {
    if (!Number.isInteger(b) || b < 0 || b > max) throw new RangeError(`DeepCache branch ${b} is outside this U-Net's range 0–${max}`);
    shallow.set(b, await graphs.shallowSource(b));
  }
  const unet = await OnnxUNet.create({
    full: await graphs.fullSource(),
    featureOutputs: graphs.featureOutputs,
    shallow,
    shallowLoader: (b) => graphs.shallowSource(b),
    providers: opts.providers,
    intraOpThreads: opts.intraOpThreads,
  });
  return { unet, graphs };
}
