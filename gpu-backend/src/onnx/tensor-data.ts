/**
 * Tensor payload helpers: element sizes per ONNX data type, fp16 ⇄ fp32 conversion, and reading a TensorProto's
 * values (raw little-endian bytes or the typed `*_data` fields) as float32, float64 or int64.
 * @module
 */
import { fromHalfBits } from '../tensor/float16.js';
import { DataType, type TensorProto } from './types.js';

const byteSizes: Readonly<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.COMPLEX64]: 8,
  [DataType.COMPLEX128]: 16,
  [DataType.BFLOAT16]: 2,
  [DataType.FLOAT8E4M3FN]: 1,
  [DataType.FLOAT8E4M3FNUZ]: 1,
  [DataType.FLOAT8E5M2]: 1,
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

/** fp16 ⇄ fp32 conversion lives with the tensor type; re-exported here for the ONNX tensor helpers. */
export { float16ToFloat32, float32ToFloat16, fromHalfBits as halfToFloat, toHalfBits as floatToHalf } from '../tensor/float16.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** bfloat16 bits → float. */
const bf16ToFloat = (b: number): number => {
  u32[0] = b << 16;
  return f32[0]!;
};

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
function tensorToBigInt64(t: TensorProto, raw?: Uint8Array): BigInt64Array {
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
function tensorToFloat64(t: TensorProto, raw?: Uint8Array): Float64Array {
  const dt = t.dataType ?? DataType.UNDEFINED;
  const bytes = rawOrThrow(t, raw);
  if (bytes) {
    const buf = aligned(bytes);
    switch (dt) {
      case DataType.FLOAT:
        return Float64Array.from(new Float32Array(buf));
      case DataType.DOUBLE:
        return new Float64Array(buf);
      case DataType.FLOAT16:
        return Float64Array.from(new Uint16Array(buf), fromHalfBits);
      case DataType.BFLOAT16:
        return Float64Array.from(new Uint16Array(buf), bf16ToFloat);
      case DataType.INT8:
        return Float64Array.from(new Int8Array(buf));
      case DataType.UINT8:
      case DataType.BOOL:
        return Float64Array.from(new Uint8Array(buf));
      case DataType.INT16:
        return Float64Array.from(new Int16Array(buf));
      case DataType.UINT16:
        return Float64Array.from(new Uint16Array(buf));
      case DataType.INT32:
        return Float64Array.from(new Int32Array(buf));
      case DataType.UINT32:
        return Float64Array.from(new Uint32Array(buf));
      case DataType.INT64:
        return Float64Array.from(new BigInt64Array(buf), (v) => Number(v));
      case DataType.UINT64:
        return Float64Array.from(new BigUint64Array(buf), (v) => Number(v));
      default:
        throw new TypeError(`tensor ${t.name ?? ''}: cannot read data type ${dt} as numbers`);
    }
  }
  switch (dt) {
    case DataType.FLOAT:
      return Float64Array.from(t.floatData ?? []);
    case DataType.DOUBLE:
      return Float64Array.from(t.doubleData ?? []);
    case DataType.INT64:
      return Float64Array.from(t.int64Data ?? []);
    case DataType.UINT32:
    case DataType.UINT64:
      return Float64Array.from(t.uint64Data ?? []);
    case DataType.FLOAT16:
      return Float64Array.from(t.int32Data ?? [], fromHalfBits);
    case DataType.BFLOAT16:
      return Float64Array.from(t.int32Data ?? [], bf16ToFloat);
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL:
    case DataType.INT16:
    case DataType.UINT16:
    case DataType.INT32:
      return Float64Array.from(t.int32Data ?? []);
    default:
      throw new TypeError(`tensor ${t.name ?? ''}: cannot read data type ${dt} as numbers`);
  }
}
