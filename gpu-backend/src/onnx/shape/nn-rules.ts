/**
 * Shape rules of the compute ops: Conv, ConvTranspose, pooling, MatMul, Gemm, Einsum, Resize/Upsample and the
 * Reduce family.
 * @module
 */
import { need, needValue, type RuleInputs, type ShapeRule } from './rule.js';
import { broadcastDims, intAttr, intsAttr, normAxis, stringAttr, type TensorInfo } from './tensor-info.js';
import type { NodeProto } from '../types.js';

/** Output spatial sizes of a convolution or pooling window. */
function windowOut(node: NodeProto, spatial: readonly number[], kernel: readonly number[]): number[] {
  const n = spatial.length;
  const strides = intsAttr(node, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array<number>(n).fill(1);
  const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * n).fill(0);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const ceilMode = intAttr(node, 'ceil_mode', 0) === 1;
  return spatial.map((d, i) => {
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(d / strides[i]!);
    if (autoPad === 'VALID') return Math.floor((d - k) / strides[i]!) + 1;
    const span = d + pads[i]! + pads[i + n]! - k;
    return (ceilMode ? Math.ceil(span / strides[i]!) : Math.floor(span / strides[i]!)) + 1;
  });
}

/** numpy.matmul output dims. */
export function matmulDims(a: readonly number[], b: readonly number[]): number[] {
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const k1 = a2[a2.length - 1]!,
    k2 = b2[b2.length - 2]!;
  if (k1 !== k2) throw new RangeError(`MatMul [${a.join(',')}] × [${b.join(',')}]: inner dims differ`);
  const batch = broadcastDims(a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function reduceRule(axesFromInput: boolean): ShapeRule {
  return (node, ins, ctx) => {
    const x = need(node, ins, 0);
    const keep = intAttr(node, 'keepdims', 1) === 1;
    const useInput = axesFromInput || (node.opType === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18);
    const axes = useInput ? (ins[1] ? needValue(node, ins, 1) : undefined) : intsAttr(node, 'axes');
    const noop = intAttr(node, 'noop_with_empty_axes', 0) === 1;
    if ((!axes || axes.length === 0) && noop) return [x];
    const set = new Set((axes && axes.length > 0 ? axes : x.dims.map((_, i) => i)).map((a) => normAxis(a, x.dims.length)));
    const dims = keep ? x.dims.map((d, i) => (set.has(i) ? 1 : d)) : x.dims.filter((_, i) => !set.has(i));
    return [{ dtype: x.dtype, dims }];
  };
}

function resizeRule(node: NodeProto, ins: RuleInputs): TensorInfo {
  const x = need(node, ins, 0);
  const isUpsample = node.opType === 'Upsample';
  const sizes = !isUpsample && ins[3] ? needValue(node, ins, 3) : undefined;
  const scalesIdx = isUpsample ? 1 : 2;
  const scales = ins[scalesIdx] && (ins[scalesIdx]!.dims[0] ?? 0) > 0 ? needValue(node, ins, scalesIdx) : undefined;
  const axes = intsAttr(node, 'axes')?.map((a) => normAxis(a, x.dims.length)) ?? x.dims.map((_, i) => i);
  const dims = [...x.dims];
  if (sizes && sizes.length > 0)
    axes.forEach((a, k) => {
      dims[a] = sizes[k]!;
    });
  else if (scales)
    axes.forEach((a, k) => {
      dims[a] = Math.floor(x.dims[a]! * scales[k]!);
    });
  else throw new Error(`${node.opType} ${node.name ?? ''}: neither sizes nor scales are known constants`);
  return { dtype: x.dtype, dims };
}

function einsumRule(node: NodeProto, ins: RuleInputs): TensorInfo {
  const eq = stringAttr(node, 'equation', '').replace(/\s/g, '');
  const [lhs, rhs] = eq.split('->');
  const terms = (lhs ?? '').split(',');
  const sizes = new Map<string, number>();
  terms.forEach((term, i) => {
    if (term.includes('.')) throw new Error(`Einsum ${node.name ?? ''}: ellipsis not supported`);
    [...term].forEach((c, j) => {
      sizes.set(c, Math.max(sizes.get(c) ?? 1, need(node, ins, i).dims[j]!));
    });
  });
  const out =
    rhs ??
    [...sizes.keys()]
      .filter((c) => terms.join('').split(c).length === 2)
      .sort()
      .join('');
  return { dtype: need(node, ins, 0).dtype, dims: [...out].map((c) => sizes.get(c)!) };
}

/** Rules of compute ops by op type. */
export const nnRules: Record<string, ShapeRule> = {
  Conv: (node, ins) => {
    const [x, w] = [need(node, ins, 0), need(node, ins, 1)];
    const kernel = intsAttr(node, 'kernel_shape') ?? w.dims.slice(2);
    return [{ dtype: x.dtype, dims: [x.dims[0]!, w.dims[0]!, ...windowOut(node, x.dims.slice(2), kernel)] }];
  },
  ConvTranspose: (node, ins) => {
    const [x, w] = [need(node, ins, 0), need(node, ins, 1)];
    const group = intAttr(node, 'group', 1);
    const spatial = x.dims.slice(2);
    const n = spatial.length;
    const kernel = intsAttr(node, 'kernel_shape') ?? w.dims.slice(2);
    const given = intsAttr(node, 'output_shape');
    const strides = intsAttr(node, 'strides') ?? new Array<number>(n).fill(1);
    const dil = intsAttr(node, 'dilations') ?? new Array<number>(n).fill(1);
    const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * n).fill(0);
    const outPad = intsAttr(node, 'output_padding') ?? new Array<number>(n).fill(0);
    const out =
      given ?? spatial.map((d, i) => strides[i]! * (d - 1) + outPad[i]! + (kernel[i]! - 1) * dil[i]! + 1 - pads[i]! - pads[i + n]!);
    return [{ dtype: x.dtype, dims: [x.dims[0]!, w.dims[1]! * group, ...out] }];
  },
  MaxPool: (node, ins) => {
    const x = need(node, ins, 0);
    const dims = [x.dims[0]!, x.dims[1]!, ...windowOut(node, x.dims.slice(2), intsAttr(node, 'kernel_shape') ?? [])];
    return [{ dtype: x.dtype, dims }];
  },
  GlobalAveragePool: (node, ins) => {
    const x = need(node, ins, 0);
    return [{ dtype: x.dtype, dims: x.dims.map((d, i) => (i < 2 ? d : 1)) }];
  },
  MatMul: (node, ins) => {
    const [a, b] = [need(node, ins, 0), need(node, ins, 1)];
    return [{ dtype: a.dtype, dims: matmulDims(a.dims, b.dims) }];
  },
  Gemm: (node, ins) => {
    const [a, b] = [need(node, ins, 0), need(node, ins, 1)];
    const m = intAttr(node, 'transA', 0) ? a.dims[1]! : a.dims[0]!;
    const n = intAttr(node, 'transB', 0) ? b.dims[0]! : b.dims[1]!;
    return [{ dtype: a.dtype, dims: [m, n] }];
  },
  Einsum: (node, ins) => [einsumRule(node, ins)],
  Resize: (node, ins) => [resizeRule(node, ins)],
  Upsample: (node, ins) => [resizeRule(node, ins)],
  ReduceMean: reduceRule(false),
  ReduceSum: reduceRule(false),
  ReduceMax: reduceRule(false),
  ReduceMin: reduceRule(false),
  ReduceProd: reduceRule(false),
  ReduceL2: reduceRule(false),
  ReduceSumSquare: reduceRule(false),
};
nnRules['AveragePool'] = nnRules['MaxPool']!;
