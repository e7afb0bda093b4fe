/**
 * What shape inference knows about a tensor, and the small helpers op rules share (attributes, broadcasting,
 * constant values).
 * @module
 */
import { tensorToNumbers } from '../tensor-data.js';
import { externalDataRef } from '../external-data.js';
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto } from '../types.js';

/** Inferred facts about one tensor: its dtype, concrete dims, and (for small constants) its values. */
export interface TensorInfo {
  readonly dtype: number;
  readonly dims: readonly number[];
  /** Row-major values when known by constant propagation (small tensors only). */
  readonly value?: readonly number[];
}

/** Constant values are tracked for tensors up to this many elements (shape arithmetic is tiny). */
const MAX_CONST_ELEMENTS = 4096;

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** TensorInfo of a TensorProto; values read when small and in memory. */
export function infoOfTensor(t: TensorProto): TensorInfo {
  const dtype = t.dataType ?? DataType.UNDEFINED;
  const dims = t.dims;
  // Integer tensors feed shape arithmetic; float ones only matter when tiny (Resize scales, Range bounds).
  const limit = isIntegerType(dtype) ? MAX_CONST_ELEMENTS : 64;
  if (numel(dims) <= limit && !externalDataRef(t) && dtype !== DataType.STRING) {
    return { dtype, dims, value: tensorToNumbers(t) };
  }
  return { dtype, dims };
}

export function attr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute.find((a) => a.name === name);
}

export function intAttr(n: NodeProto, name: string, fallback: number): number {
  return attr(n, name)?.i ?? fallback;
}

export function intsAttr(n: NodeProto, name: string): number[] | undefined {
  const a = attr(n, name);
  return a && (a.type === AttributeType.INTS || (a.ints?.length ?? 0) > 0) ? (a.ints ?? []) : undefined;
}

export function floatAttr(n: NodeProto, name: string, fallback: number): number {
  return attr(n, name)?.f ?? fallback;
}

export function stringAttr(n: NodeProto, name: string, fallback: string): string {
  const s = attr(n, name)?.s;
  return s ? new TextDecoder().decode(s) : fallback;
}

/** Normalises a possibly negative axis. @throws RangeError when out of range */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of several shapes. @throws RangeError when incompatible */
export function broadcastDims(...shapes: ReadonlyArray<readonly number[]>): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new RangeError(`cannot broadcast [${shapes.map((x) => x.join(',')).join('] [')}]`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Values of `value` (dims `dims`) broadcast to `out` (row-major). */
export function broadcastValue(value: readonly number[], dims: readonly number[], out: readonly number[]): number[] {
  const total = numel(out);
  if (value.length === total && dims.length === out.length) return [...value];
  const res = new Array<number>(total);
  const offset = out.length - dims.length;
  const strides: number[] = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = dims[i] === 1 ? 0 : s;
    s *= dims[i]!;
  }
  for (let flat = 0; flat < total; flat++) {
    let rem = flat,
      src = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      const coord = rem % out[i]!;
      rem = Math.floor(rem / out[i]!);
      const j = i - offset;
      if (j >= 0) src += coord * strides[j]!;
    }
    res[flat] = value[src]!;
  }
  return res;
}

const integerTypes = new Set<number>([
  DataType.INT8,
  DataType.INT16,
  DataType.INT32,
  DataType.INT64,
  DataType.UINT8,
  DataType.UINT16,
  DataType.UINT32,
  DataType.UINT64,
  DataType.BOOL,
]);

/** Whether a dtype holds integers (integer division truncates). */
export function isIntegerType(dtype: number): boolean {
  return integerTypes.has(dtype);
}

/** Attaches a value only when small enough to track. */
export function withValue(dtype: number, dims: readonly number[], value: readonly number[] | undefined): TensorInfo {
  return value !== undefined && numel(dims) <= MAX_CONST_ELEMENTS ? { dtype, dims, value } : { dtype, dims };
}
