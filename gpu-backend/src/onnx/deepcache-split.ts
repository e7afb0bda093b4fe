/**
 * Splitting a U-Net for DeepCache: for cache branch b, a FULL graph (the original plus the cached tensor as the
 * extra output `deepcache_feature`) and a SHALLOW graph (the minimal subgraph computing `out_sample` from the
 * inputs it still needs plus the cached tensor as input `deepcache_feature`).
 *
 * The cached tensor for branch b is input 0 of the b-th up-path skip Concat counted from the end, i.e. the hidden
 * state entering `up_blocks[n-1-b//3].resnets[2-b%3]`. The split is plain graph surgery: it does not look at op
 * types, so it works on optimised/fused graphs too.
 * @module
 */
import type { DimSpec } from './builders.js';
import { cutAtTensor } from './cut-graph.js';
import { promoteToOutput } from './promote-output.js';
import { inferShapesCached } from './shape/infer-shapes.js';
import { inferSymbolicDims, probeInputDims } from './shape/symbolic-dims.js';
import { findSkipConcats, type SkipConcats } from './skip-concats.js';
import type { ModelProto } from './types.js';

/** Name of the cached tensor: extra output of the full graph, extra input of the shallow graph. */
export const DEEPCACHE_FEATURE = 'deepcache_feature';

/** What {@link splitUnetForDeepCache} did. */
export interface DeepCacheSplitInfo {
  readonly branch: number;
  /** Number of valid branches (3 per level: 12 for SD 1.x/2.x, 9 for SDXL). */
  readonly branchCount: number;
  readonly concatNode: string;
  readonly concatNodeIndex: number;
  /** Graph tensor cached on full steps (input 0 of the Concat). */
  readonly cachedTensor: string;
  /** Skip tensor recomputed on shallow steps (input 1 of the Concat). */
  readonly skipTensor: string;
  /** ONNX element type of the cached tensor. */
  readonly elemType: number;
  /** Symbolic dims, e.g. `['batch_size', 16, 'height/2', 'width/2']`. */
  readonly dims: readonly DimSpec[];
  readonly foundBy: SkipConcats['method'];
  readonly fullNodeCount: number;
  readonly shallowNodeCount: number;
  /** Graph inputs the shallow graph needs besides `deepcache_feature`. */
  readonly shallowInputs: readonly string[];
}

/** Options of {@link splitUnetForDeepCache}. */
export interface DeepCacheSplitOptions {
  /** How to find the skip Concats: by torch name when present (default `auto`), or only one way. */
  readonly find?: 'auto' | 'name' | 'structure';
  /** The name of the model output to keep in the shallow graph. Default: the first graph output. */
  readonly output?: string;
}

/** The full and shallow graphs for one cache branch. */
export interface DeepCacheSplit {
  readonly full: ModelProto;
  readonly shallow: ModelProto;
  readonly info: DeepCacheSplitInfo;
}

function featureType(unet: ModelProto, tensor: string): { elemType: number; dims: DimSpec[] } {
  const known = unet.graph.valueInfo.find((v) => v.name === tensor)?.type?.tensorType;
  if (known?.elemType && known.shape) {
    return { elemType: known.elemType, dims: (known.shape.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? null) };
  }
  const info = inferShapesCached(unet, probeInputDims(unet), { unknownOps: 'skip' }).get(tensor);
  const elemType = known?.elemType ?? info?.dtype;
  if (!elemType) throw new Error(`cannot infer the type of ${tensor}: add value_info for it to the graph`);
  return { elemType, dims: inferSymbolicDims(unet, tensor, { unknownOps: 'skip' }) };
}

/**
 * Splits a U-Net at the cache point of `branchId`.
 * @param unet the exported U-Net (any input set: SD 1.x/2.x, SDXL's extra `text_embeds`/`time_ids`)
 * @param branchId DeepCache `cache_branch_id` b ∈ [0, branchCount)
 * @throws RangeError when `branchId` is outside the graph's valid range (the message names it)
 */
export function splitUnetForDeepCache(unet: ModelProto, branchId: number, options: DeepCacheSplitOptions = {}): DeepCacheSplit {
  const found = findSkipConcats(unet, options.find ?? 'auto');
  const count = found.concats.length;
  if (!Number.isInteger(branchId) || branchId < 0 || branchId >= count) {
    throw new RangeError(`cache branch ${branchId} is out of range: this U-Net has branches 0–${count - 1}`);
  }
  const concat = found.concats[count - 1 - branchId]!;
  const output = options.output ?? unet.graph.output[0]?.name;
  if (!output) throw new Error('the U-Net graph has no output');
  const type = featureType(unet, concat.cachedInput);
  const full = promoteToOutput(unet, concat.cachedInput, {
    outputName: DEEPCACHE_FEATURE,
    type: { elemType: type.elemType, shape: type.dims },
  });
  const shallowType = full.graph.output[full.graph.output.length - 1]!.type!;
  const shallow = cutAtTensor(unet, concat.cachedInput, { inputName: DEEPCACHE_FEATURE, type: shallowType, outputs: [output] });
  return {
    full,
    shallow,
    info: {
      branch: branchId,
      branchCount: count,
      concatNode: concat.nodeName,
      concatNodeIndex: concat.nodeIndex,
      cachedTensor: concat.cachedInput,
      skipTensor: concat.skipInput,
      elemType: type.elemType,
      dims: type.dims,
      foundBy: found.method,
      fullNodeCount: full.graph.node.length,
      shallowNodeCount: shallow.graph.node.length,
      shallowInputs: shallow.graph.input.map((v) => v.name).filter((n) => n !== DEEPCACHE_FEATURE),
    },
  };
}
