/**
 * Multiply-accumulate counts of a graph at concrete input dims: Conv/ConvTranspose ("conv"), MatMul/Gemm with a
 * weight operand ("linear") and activation×activation MatMuls such as attention's QKᵀ and ·V ("attention").
 * The DeepCache paper's figure (SD 1.5 at 512²: 338.8 GMACs) counts conv + linear only.
 * @module
 */
import { indexGraph } from './graph-index.js';
import { inferShapesCached, type InputDims, type TensorInfo } from './shape/infer-shapes.js';
import { matmulDims } from './shape/nn-rules.js';
import { intAttr } from './shape/tensor-info.js';
import type { ModelProto, NodeProto } from './types.js';

/** MAC totals by kind. `total` = conv + linear + attention; `paper` = conv + linear (the paper's convention). */
export interface MacCounts {
  readonly conv: number;
  readonly linear: number;
  readonly attention: number;
  readonly total: number;
  readonly paper: number;
}

/** Ops that keep a weight a weight (layout or dtype changes of an initializer). */
const WEIGHT_PASSTHROUGH = new Set(['Transpose', 'Cast', 'Reshape', 'Identity', 'Unsqueeze', 'Squeeze', 'DequantizeLinear', 'Flatten']);

/** Whether a tensor is an initializer/Constant, possibly through Transpose/Cast/Reshape-like ops. */
function isWeight(model: ModelProto, name: string, index: ReturnType<typeof indexGraph>): boolean {
  if (index.initializers.has(name)) return true;
  const p = index.producer.get(name);
  if (p === undefined) return false;
  const n = model.graph.node[p]!;
  if (n.opType === 'Constant') return true;
  return WEIGHT_PASSTHROUGH.has(n.opType) && n.input[0] !== undefined && isWeight(model, n.input[0], index);
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** MACs of one Conv/ConvTranspose/MatMul/Gemm node given its input infos (0 for other ops). */
function nodeMacs(node: NodeProto, ins: ReadonlyArray<TensorInfo | undefined>, out: TensorInfo | undefined): number {
  const [a, b] = ins;
  if (!a || !b) return 0;
  switch (node.opType) {
    case 'Conv': {
      // every output element: (Cin/group)·k_h·k_w MACs; weight dims [Cout, Cin/group, kh, kw]
      if (!out) return 0;
      return prod(out.dims) * prod(b.dims.slice(1));
    }
    case 'ConvTranspose': {
      // every input element scatters into (Cout/group)·kh·kw outputs; weight dims [Cin, Cout/group, kh, kw]
      return prod(a.dims) * prod(b.dims.slice(1));
    }
    case 'MatMul': {
      const k = a.dims.length === 1 ? a.dims[0]! : a.dims[a.dims.length - 1]!;
      return prod(matmulDims(a.dims, b.dims)) * k;
    }
    case 'Gemm': {
      const k = intAttr(node, 'transA', 0) ? a.dims[0]! : a.dims[1]!;
      return out ? prod(out.dims) * k : 0;
    }
    default:
      return 0;
  }
}

/**
 * Counts MACs of the model at concrete input dims.
 * @param inputDims e.g. `{ sample: [1, 4, 64, 64], timestep: [1], encoder_hidden_states: [1, 77, 768] }`
 * @throws Error when shape inference fails (an op without a rule, inconsistent dims)
 */
export function countMacs(model: ModelProto, inputDims: InputDims): MacCounts {
  const shapes = inferShapesCached(model, inputDims);
  const index = indexGraph(model.graph);
  let conv = 0,
    linear = 0,
    attention = 0;
  for (const n of model.graph.node) {
    if (n.opType !== 'Conv' && n.opType !== 'ConvTranspose' && n.opType !== 'MatMul' && n.opType !== 'Gemm') continue;
    const macs = nodeMacs(
      n,
      n.input.map((x) => shapes.get(x)),
      shapes.get(n.output[0] ?? ''),
    );
    if (n.opType === 'Conv' || n.opType === 'ConvTranspose') conv += macs;
    else if (isWeight(model, n.input[0]!, index) || isWeight(model, n.input[1]!, index)) linear += macs;
    else attention += macs;
  }
  return { conv, linear, attention, total: conv + linear + attention, paper: conv + linear };
}
