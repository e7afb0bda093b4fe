/**
 * Shape rules of the data-movement and shape-arithmetic ops torch exports emit (Constant, Shape, Gather,
 * Unsqueeze, Squeeze, Concat, Reshape, Transpose, Expand, Slice, Split, ConstantOfShape, Range, Flatten, Tile, Pad),
 * with constant propagation of their (small) values.
 * @module
 */
import { AttributeType, DataType } from '../types.js';
import { need, needValue, type RuleInputs, type ShapeRule } from './rule.js';
import {
  attr,
  broadcastDims,
  broadcastValue,
  infoOfTensor,
  intAttr,
  intsAttr,
  normAxis,
  numel,
  withValue,
  type TensorInfo,
} from './tensor-info.js';
import type { NodeProto } from '../types.js';

/** Axes from the attribute (older opsets) or from input `i` (newer opsets); undefined when neither is given. */
function axesOf(node: NodeProto, ins: RuleInputs, i: number): readonly number[] | undefined {
  return intsAttr(node, 'axes') ?? (ins[i] ? needValue(node, ins, i) : undefined);
}

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Values of `value` (dims `dims`) at the given per-axis index lists (row-major gather). */
function pick(value: readonly number[], dims: readonly number[], indices: readonly (readonly number[])[]): number[] {
  const strides = stridesOf(dims);
  const out: number[] = [];
  const walk = (axis: number, base: number) => {
    if (axis === dims.length) {
      out.push(value[base]!);
      return;
    }
    for (const i of indices[axis]!) walk(axis + 1, base + i * strides[axis]!);
  };
  walk(0, 0);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function sliceRule(node: NodeProto, ins: RuleInputs, opset: number): TensorInfo {
  const x = need(node, ins, 0);
  const rank = x.dims.length;
  const starts = opset >= 10 ? needValue(node, ins, 1) : (intsAttr(node, 'starts') ?? []);
  const ends = opset >= 10 ? needValue(node, ins, 2) : (intsAttr(node, 'ends') ?? []);
  const axes = opset >= 10 ? (ins[3] ? needValue(node, ins, 3) : range(starts.length)) : (intsAttr(node, 'axes') ?? range(starts.length));
  const steps = opset >= 10 && ins[4] ? needValue(node, ins, 4) : starts.map(() => 1);
  const picks = x.dims.map((d) => range(d));
  axes.forEach((ax, k) => {
    const a = normAxis(ax, rank);
    const d = x.dims[a]!;
    const step = steps[k]!;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[k]!;
    let e = ends[k]!;
    s = s < 0 ? s + d : s;
    e = e < 0 ? e + d : e;
    const list: number[] = [];
    if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
      for (let i = s; i < e; i += step) list.push(i);
    } else {
      s = clamp(s, -1, d - 1);
      e = clamp(e, -1, d - 1);
      for (let i = s; i > e; i += step) list.push(i);
    }
    picks[a] = list;
  });
  const dims = picks.map((p) => p.length);
  return withValue(x.dtype, dims, x.value ? pick(x.value, x.dims, picks) : undefined);
}

/** Rules of tensor/shape ops by op type. */
export const tensorRules: Record<string, ShapeRule> = {
  Constant: (node) => {
    const a = node.attribute[0];
    if (!a) throw new Error(`Constant ${node.name ?? ''} has no value`);
    if (a.t) return [infoOfTensor(a.t)];
    if (a.name === 'value_float') return [{ dtype: DataType.FLOAT, dims: [], value: [a.f ?? 0] }];
    if (a.name === 'value_floats') return [{ dtype: DataType.FLOAT, dims: [a.floats?.length ?? 0], value: a.floats ?? [] }];
    if (a.name === 'value_int') return [{ dtype: DataType.INT64, dims: [], value: [a.i ?? 0] }];
    if (a.name === 'value_ints') return [{ dtype: DataType.INT64, dims: [a.ints?.length ?? 0], value: a.ints ?? [] }];
    throw new Error(`Constant ${node.name ?? ''}: attribute ${a.name} not supported`);
  },
  Shape: (node, ins) => {
    const x = need(node, ins, 0);
    const rank = x.dims.length;
    let start = intAttr(node, 'start', 0);
    let end = intAttr(node, 'end', rank);
    start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
    end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
    const value = x.dims.slice(start, end);
    return [{ dtype: DataType.INT64, dims: [value.length], value }];
  },
  Size: (node, ins) => [{ dtype: DataType.INT64, dims: [], value: [numel(need(node, ins, 0).dims)] }],
  Gather: (node, ins) => {
    const [x, idx] = [need(node, ins, 0), need(node, ins, 1)];
    const axis = normAxis(intAttr(node, 'axis', 0), x.dims.length);
    const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
    if (!x.value || !idx.value || numel(dims) > 4096) return [{ dtype: x.dtype, dims }];
    const d = x.dims[axis]!;
    const norm = idx.value.map((i) => (i < 0 ? i + d : i));
    const outer = numel(x.dims.slice(0, axis));
    const inner = numel(x.dims.slice(axis + 1));
    const value: number[] = [];
    for (let o = 0; o < outer; o++) for (const i of norm) for (let k = 0; k < inner; k++) value.push(x.value[(o * d + i) * inner + k]!);
    return [withValue(x.dtype, dims, value)];
  },
  Unsqueeze: (node, ins) => {
    const x = need(node, ins, 0);
    const axes = axesOf(node, ins, 1) ?? [];
    const rank = x.dims.length + axes.length;
    const norm = new Set(axes.map((a) => normAxis(a, rank)));
    const dims: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) dims.push(norm.has(i) ? 1 : x.dims[k++]!);
    return [withValue(x.dtype, dims, x.value)];
  },
  Squeeze: (node, ins) => {
    const x = need(node, ins, 0);
    const axes = axesOf(node, ins, 1);
    const drop = new Set(axes ? axes.map((a) => normAxis(a, x.dims.length)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
    return [
      withValue(
        x.dtype,
        x.dims.filter((_, i) => !drop.has(i)),
        x.value,
      ),
    ];
  },
  Concat: (node, ins) => {
    const parts = ins.filter((t): t is TensorInfo => t !== undefined);
    const first = parts[0]!;
    const axis = normAxis(intAttr(node, 'axis', 0), first.dims.length);
    const dims = [...first.dims];
    dims[axis] = parts.reduce((s, t) => s + t.dims[axis]!, 0);
    const flat = dims.length <= 1 || dims.slice(0, axis).every((d) => d === 1);
    const value = flat && parts.every((t) => t.value) ? parts.flatMap((t) => t.value!) : undefined;
    return [withValue(first.dtype, dims, value)];
  },
  Reshape: (node, ins) => {
    const x = need(node, ins, 0);
    const shape = needValue(node, ins, 1);
    const allowZero = intAttr(node, 'allowzero', 0) === 1;
    const dims = shape.map((s, i) => (s === 0 && !allowZero ? x.dims[i]! : s));
    const unknown = dims.indexOf(-1);
    if (unknown >= 0) dims[unknown] = numel(x.dims) / dims.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    if (numel(dims) !== numel(x.dims) || !dims.every(Number.isInteger)) {
      throw new RangeError(`Reshape ${node.name ?? ''}: [${x.dims.join(',')}] cannot become [${shape.join(',')}]`);
    }
    return [withValue(x.dtype, dims, x.value)];
  },
  Transpose: (node, ins) => {
    const x = need(node, ins, 0);
    const perm = intsAttr(node, 'perm') ?? range(x.dims.length).reverse();
    const dims = perm.map((p) => x.dims[p]!);
    return [withValue(x.dtype, dims, x.dims.length <= 1 ? x.value : undefined)];
  },
  Expand: (node, ins) => {
    const x = need(node, ins, 0);
    const dims = broadcastDims(x.dims, needValue(node, ins, 1));
    return [withValue(x.dtype, dims, x.value && numel(dims) <= 4096 ? broadcastValue(x.value, x.dims, dims) : undefined)];
  },
  Slice: (node, ins, ctx) => [sliceRule(node, ins, ctx.opset)],
  Split: (node, ins, ctx) => {
    const x = need(node, ins, 0);
    const axis = normAxis(intAttr(node, 'axis', 0), x.dims.length);
    const d = x.dims[axis]!;
    const n = node.output.length;
    const given = intsAttr(node, 'split') ?? (ctx.opset >= 13 && ins[1] ? needValue(node, ins, 1) : undefined);
    const sizes = given ?? Array.from({ length: n }, (_, i) => Math.min(Math.ceil(d / n), Math.max(0, d - i * Math.ceil(d / n))));
    return sizes.map((s) => ({ dtype: x.dtype, dims: x.dims.map((v, i) => (i === axis ? s : v)) }));
  },
  ConstantOfShape: (node, ins) => {
    const dims = needValue(node, ins, 0);
    const t = attr(node, 'value')?.t;
    const fill = t ? infoOfTensor(t) : { dtype: DataType.FLOAT, dims: [1], value: [0] };
    const count = numel(dims);
    return [withValue(fill.dtype, dims, count <= 4096 ? new Array<number>(count).fill(fill.value?.[0] ?? 0) : undefined)];
  },
  Range: (node, ins) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => needValue(node, ins, i)[0]!);
    const n = Math.max(Math.ceil((limit! - start!) / delta!), 0);
    return [
      withValue(
        need(node, ins, 0).dtype,
        [n],
        Array.from({ length: n }, (_, i) => start! + i * delta!),
      ),
    ];
  },
  Flatten: (node, ins) => {
    const x = need(node, ins, 0);
    const axis = intAttr(node, 'axis', 1);
    const a = axis < 0 ? axis + x.dims.length : axis;
    return [withValue(x.dtype, [numel(x.dims.slice(0, a)), numel(x.dims.slice(a))], x.value)];
  },
  Tile: (node, ins) => {
    const x = need(node, ins, 0);
    const reps = needValue(node, ins, 1);
    return [{ dtype: x.dtype, dims: x.dims.map((d, i) => d * reps[i]!) }];
  },
  Pad: (node, ins, ctx) => {
    const x = need(node, ins, 0);
    const pads = ctx.opset >= 11 ? needValue(node, ins, 1) : (intsAttr(node, 'pads') ?? []);
    const r = x.dims.length;
    const axes = ctx.opset >= 18 && ins[3] ? needValue(node, ins, 3).map((a) => normAxis(a, r)) : range(r);
    const dims = [...x.dims];
    axes.forEach((a, k) => {
      dims[a] = dims[a]! + pads[k]! + pads[k + axes.length]!;
    });
    return [{ dtype: x.dtype, dims }];
  },
};

/** Whether an attribute type is a graph (If/Loop/Scan bodies): such ops are not shape-inferred here. */
export function hasSubgraph(node: NodeProto): boolean {
  return node.attribute.some((a) => a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS);
}
