/**
 * Median time of single U-Net calls: the full graph and each branch's shallow graph, at the benchmark's batch
 * (CFG doubles it). Calls are interleaved round by round (full, shallow b0, shallow b1, …) after one warm-up
 * each, so slow phases of a shared machine hit every graph alike.
 * @module
 */
import { fillNormal } from '../../gpu-backend/src/synthetic/random.js';
import type { Tensor } from '../../gpu-backend/src/tensor/tensor.js';
import type { CachedFeature, UNetConditioning, UNetModel } from '../../gpu-backend/src/pipeline/unet.js';
import { median, relativeSpread } from '../lib/stats.js';

/** Per-call timings of one graph. */
export interface CallTimings {
  /** `full` or `shallow-<b>`. */
  readonly graph: string;
  readonly branch: number | null;
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  /** (max − min) / median of the samples. */
  readonly spread: number;
}

/** Shapes of the U-Net calls to time. */
export interface CallShape {
  /** U-Net batch (2 for one image with CFG). */
  readonly batch: number;
  /** Latent side (image side / 8). */
  readonly latentSide: number;
  /** encoder_hidden_states width (SD 1.5: 768). */
  readonly contextDim: number;
}

function normal(dims: number[], name: string): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { data: fillNormal(new Float32Array(n), 7, name, 1), dims };
}

/**
 * Times full and shallow calls of a U-Net.
 * @param rounds measured rounds after the warm-up round
 */
export async function timeUnetCalls(
  unet: UNetModel,
  branches: readonly number[],
  shape: CallShape,
  rounds: number,
): Promise<CallTimings[]> {
  const sample = normal([shape.batch, 4, shape.latentSide, shape.latentSide], 'sample');
  const cond: UNetConditioning = { encoderHiddenStates: normal([shape.batch, 77, shape.contextDim], 'context') };
  const t = 501;
  for (const b of branches) await unet.ensureBranch(b);
  const features = new Map<number, CachedFeature>();
  for (const b of branches) {
    const { feature } = await unet.predict(sample, t, cond, b);
    if (!feature) throw new Error(`full call returned no feature for branch ${b}`);
    features.set(b, feature);
  }
  const graphs: Array<{ graph: string; branch: number | null; call: () => Promise<unknown> }> = [
    { graph: 'full', branch: null, call: () => unet.predict(sample, t, cond) },
    ...branches.map((b) => ({ graph: `shallow-${b}`, branch: b, call: () => unet.predictShallow(sample, t, cond, features.get(b)!) })),
  ];
  const samples = new Map<string, number[]>(graphs.map((g) => [g.graph, []]));
  for (const g of graphs) await g.call(); // warm-up (the full graph was warmed by the feature captures)
  for (let r = 0; r < rounds; r++) {
    for (const g of graphs) {
      const t0 = performance.now();
      await g.call();
      samples.get(g.graph)!.push(performance.now() - t0);
    }
  }
  return graphs.map((g) => {
    const s = samples.get(g.graph)!;
    return { graph: g.graph, branch: g.branch, samplesMs: s, medianMs: median(s), spread: relativeSpread(s) };
  });
}
