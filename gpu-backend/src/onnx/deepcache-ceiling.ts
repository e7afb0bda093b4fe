/**
 * The MAC-based speed-up ceiling of DeepCache per cache branch: full-graph MACs vs shallow-graph MACs, and the
 * ratio for a schedule with k full steps out of n: n·full / (k·full + (n−k)·shallow).
 * @module
 */
import { countMacs, type MacCounts } from './mac-counter.js';
import { splitUnetForDeepCache, DEEPCACHE_FEATURE } from './deepcache-split.js';
import { inferShapesCached, type InputDims } from './shape/infer-shapes.js';
import type { ModelProto } from './types.js';

/** Full vs shallow MACs of one branch. */
export interface BranchCeiling {
  readonly branch: number;
  readonly full: MacCounts;
  readonly shallow: MacCounts;
}

/**
 * MAC ratio of a schedule with `fullSteps` full steps out of `steps` (1 = no gain).
 * @throws RangeError unless 0 < fullSteps <= steps
 */
export function macRatio(full: number, shallow: number, steps: number, fullSteps: number): number {
  if (!(fullSteps > 0 && fullSteps <= steps)) throw new RangeError(`need 0 < fullSteps (${fullSteps}) <= steps (${steps})`);
  return (steps * full) / (fullSteps * full + (steps - fullSteps) * shallow);
}

/**
 * Full and shallow MACs for every cache branch of a U-Net at concrete input dims (totals include attention).
 * @param dims concrete dims of the U-Net inputs
 */
export function deepcacheCeiling(unet: ModelProto, dims: InputDims): BranchCeiling[] {
  const full = countMacs(unet, dims);
  const { info } = splitUnetForDeepCache(unet, 0);
  const out: BranchCeiling[] = [];
  for (let b = 0; b < info.branchCount; b++) {
    const split = splitUnetForDeepCache(unet, b);
    const featureDims = inferShapesCached(unet, dims).get(split.info.cachedTensor)?.dims;
    if (!featureDims) throw new Error(`shape of ${split.info.cachedTensor} unknown at the given dims`);
    const shallowDims: Record<string, readonly number[]> = { [DEEPCACHE_FEATURE]: featureDims };
    for (const name of split.info.shallowInputs) shallowDims[name] = dims[name]!;
    out.push({ branch: b, full, shallow: countMacs(split.shallow, shallowDims) });
  }
  return out;
}
