/**
 * Tensor payload helpers: element sizes per ONNX data type, fp16 ⇄ fp32 conversion, and reading a TensorProto's
 * values (raw little-endian bytes or the typed `*_data` fields) as float32, float64 or int64.
 * @module
 */
import { DataType, type TensorProto } from './types.js';

const byteSizes: Readonly<Record<number, number>> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2,
  [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4, [DataType.UINT64]: 8, [DataType.COMPLEX64]: 8, [DataType.COMPLEX128]: 16,
  [DataType.BFLOAT16]: 2, [DataType.FLOAT8E4M3FN]: 1, [DataType.FLOAT8E4M3FNUZ]: 1, [DataType.FLOAT8E5M2]: 1,
  [DataType.FLOAT8E5M2FNUZ]: 1,
};

/**
 * Bytes per element of a fixed-size ONNX data type.
 * @throws RangeError for STRING, sub-byte types and unknown codes
 */
export function dataTypeByteSize(dataType: number): number {
  const size = byteSizes[dataType];
  if (size === undefined) throw new RangeError(`data type ${dataType} has no fixed byte size`);
  return size;
}

/** Number of elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half → float (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float → IEEE half bits, rounding to nearest even; overflow gives ±Infinity, NaN stays NaN. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m += 1;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m += 1;
    if (m === 0x400) { m = 0; e += 1; if (e >= 31) return sign | 0x7c00; }
  }
  return sign | (e << 10) | m;
}

/** Converts fp16 bit patterns to float32 values. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]!);
  return out;
}

/** Converts float32 values to fp16 bit patterns (round to nearest even). */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]!);
  return out;
}

/** A copy of `bytes` in a fresh, aligned ArrayBuffer. */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function rawOrThrow(t: TensorProto, raw: Uint8Array | undefined): Uint8Array | undefined {
  if (raw) return raw;
  if (t.rawData && t.rawData.byteLength > 0) return t.rawData;
  if (t.dataLocation === 1) {
    throw new Error(`tensor ${t.name ?? ''} has external data that is not loaded; pass its bytes (readTensorBytes)`);
  }
  return undefined;
}

/**
 * Values of a numeric tensor as float64 numbers (int64 values beyond 2^53 are rounded).
 * @param raw the payload bytes when they live outside the proto (external data)
 */
export function tensorToNumbers(t: TensorProto, raw?: Uint8Array): number[] {
  const dt = t.dataType ?? DataType.UNDEFINED;
  if (dt === DataType.INT64) return Array.from(tensorToBigInt64(t, raw), (v) => Number(v));
  return Array.from(tensorToFloat64(t, raw));
}

/** Values of an INT64 tensor. @throws TypeError for other data types */
export function tensorToBigInt64(t: TensorProto, raw?: Uint8Array): BigInt64Array {
  if (t.dataType !== DataType.INT64) throw new TypeError(`tensor ${t.name ?? ''} is data type ${t.dataType}, not INT64`);
  const bytes = rawOrThrow(t, raw);
  if (bytes) return new BigInt64Array(aligned(bytes));
  return BigInt64Array.from(t.int64Data ?? [], (v) => BigInt(Math.trunc(v)));
}

/** Values of a numeric tensor as float32 (fp16/bf16 widened, integers converted). */
export function tensorToFloat32(t: TensorProto, raw?: Uint8Array): Float32Array {
  if (t.dataType === DataType.FLOAT) {
    const bytes = rawOrThrow(t, raw);
    return bytes ? new Float32Array(aligned(bytes)) : Float32Array.from(t.floatData ?? []);
  }
  return Float32Array.from(tensorToFloat64(t, raw));
}

/**
 * Values of a numeric tensor as float64.
 * @throws TypeError for STRING, complex and float8 tensors
 */
export function tensorToFloat64(t: TensorProto, raw?: Uint8Array): Float64Array {
  const dt = t.dataType ?? DataType.UNDEFINED;
  const bytes = rawOrThrow(t, raw);
  if (bytes) {
    const buf = aligned(bytes);
    switch (dt) {
      case DataType.FLOAT: return Float64Array.from(new Float32Array(buf));
      case DataType.DOUBLE: return new Float64Array(buf);
      case DataType.FLOAT16: return Float64Array.from(new Uint16Array(buf), halfToFloat);
      case DataType.BFLOAT16: return Float64Array.from(new Uint16Array(buf), (b) => { u32[0] = b << 16; return f32[0]!; });
      case DataType.INT8: return Float64Array.from(new Int8Array(buf));
      case DataType.UINT8: case DataType.BOOL: return Float64Array.from(new Uint8Array(buf));
      case DataType.INT16: return Float64Array.from(new Int16Array(buf));
      case DataType.UINT16: return Float64Array.from(new Uint16Array(buf));
      case DataType.INT32: return Float64Array.from(new Int32Array(buf));
      case DataType.UINT32: return Float64Array.from(new Uint32Array(buf));
      case DataType.INT64: return Float64Array.from(new BigInt64Array(buf), (v) => Number(v));
      case DataType.UINT64: return Float64Array.from(new BigUint64Array(buf), (v) => Number(v));
      default: throw new TypeError(`tensor ${t.name ?? ''}: cannot read data type ${dt} as numbers`);
    }
  }
  switch (dt) {
    case DataType.FLOAT: return Float64Array.from(t.floatData ?? []);
    case DataType.DOUBLE: return Float64Array.from(t.doubleData ?? []);
    case DataType.INT64: return Float64Array.from(t.int64Data ?? []);
    case DataType.UINT32: case DataType.UINT64: return Float64Array.from(t.uint64Data ?? []);
    case DataType.FLOAT16: return Float64Array.from(t.int32Data ?? [], halfToFloat);
    case DataType.BFLOAT16: return Float64Array.from(t.int32Data ?? [], (b) => { u32[0] = b << 16; return f32[0]!; });
    case DataType.INT8: case DataType.UINT8: case DataType.BOOL: case DataType.INT16: case DataType.UINT16:
    case DataType.INT32: return Float64Array.from(t.int32Data ?? []);
    default: throw new TypeError(`tensor ${t.name ?? ''}: cannot read data type ${dt} as numbers`);
  }
}
