/**
 * External tensor data: reading the bytes a TensorProto points at (`location`/`offset`/`length`, relative to the
 * model file's folder), and walking every tensor of a model (initializers, Constant attributes, subgraphs,
 * functions) to rewrite them.
 * @module
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { dataTypeByteSize, elementCount } from './tensor-data.js';
import {
  DataLocation,
  DataType,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
} from './types.js';

/** Where an external tensor's bytes live. */
export interface ExternalDataRef {
  /** File name relative to the model's folder. */
  readonly location: string;
  readonly offset: number;
  /** Byte length; undefined = to the end of the file. */
  readonly length: number | undefined;
}

/** The external data reference of a tensor, or undefined when its data is inside the proto. */
export function externalDataRef(t: TensorProto): ExternalDataRef | undefined {
  if (t.dataLocation !== DataLocation.EXTERNAL) return undefined;
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new Error(`tensor ${t.name ?? ''} is EXTERNAL but has no location`);
  const offset = Number(entries.get('offset') ?? '0');
  const lengthText = entries.get('length');
  return { location, offset, length: lengthText === undefined ? undefined : Number(lengthText) };
}

/** Builds the external-data fields of a tensor stored at `location`/`offset`/`length`. */
export function withExternalRef(t: TensorProto, ref: ExternalDataRef): TensorProto {
  const { rawData: _r, floatData: _f, int32Data: _i, int64Data: _l, doubleData: _d, uint64Data: _u, ...rest } = t;
  const externalData = [
    { key: 'location', value: ref.location },
    { key: 'offset', value: String(ref.offset) },
  ];
  if (ref.length !== undefined) externalData.push({ key: 'length', value: String(ref.length) });
  return { ...rest, externalData, dataLocation: DataLocation.EXTERNAL };
}

/**
 * Reads the bytes of an external tensor.
 * @param baseDir the folder of the model file the reference belongs to
 * @throws Error when the file is missing or shorter than offset + length
 */
export function readExternalBytes(t: TensorProto, baseDir: string): Uint8Array {
  const ref = externalDataRef(t);
  if (!ref) throw new Error(`tensor ${t.name ?? ''} has no external data`);
  const file = path.resolve(baseDir, ref.location);
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = ref.length ?? size - ref.offset;
    if (ref.offset + length > size) {
      throw new Error(`external data of ${t.name ?? ''} (${ref.offset}+${length}) runs past the end of ${file} (${size})`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, ref.offset + done);
      if (n === 0) throw new Error(`short read of ${file}`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function typedFieldBytes(t: TensorProto): Uint8Array {
  const dt = t.dataType ?? DataType.UNDEFINED;
  const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  switch (dt) {
    case DataType.FLOAT:
      return bytes(Float32Array.from(t.floatData ?? []));
    case DataType.DOUBLE:
      return bytes(Float64Array.from(t.doubleData ?? []));
    case DataType.INT64:
      return bytes(BigInt64Array.from(t.int64Data ?? [], (v) => BigInt(Math.trunc(v))));
    case DataType.UINT64:
      return bytes(BigUint64Array.from(t.uint64Data ?? [], (v) => BigInt(Math.trunc(v))));
    case DataType.UINT32:
      return bytes(Uint32Array.from(t.uint64Data ?? []));
    case DataType.INT32:
      return bytes(Int32Array.from(t.int32Data ?? []));
    case DataType.INT16:
      return bytes(Int16Array.from(t.int32Data ?? []));
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return bytes(Uint16Array.from(t.int32Data ?? []));
    case DataType.INT8:
      return bytes(Int8Array.from(t.int32Data ?? []));
    case DataType.UINT8:
    case DataType.BOOL:
      return bytes(Uint8Array.from(t.int32Data ?? []));
    default:
      throw new TypeError(`tensor ${t.name ?? ''}: data type ${dt} has no raw byte form`);
  }
}

/**
 * The little-endian payload bytes of a tensor, wherever they live (raw_data, typed fields or external file).
 * @param baseDir needed for external tensors: the folder of the model they were loaded from
 */
export function readTensorBytes(t: TensorProto, baseDir?: string): Uint8Array {
  if (externalDataRef(t)) {
    if (baseDir === undefined) throw new Error(`tensor ${t.name ?? ''} is external; pass the model's folder`);
    return readExternalBytes(t, baseDir);
  }
  if (t.rawData && t.rawData.byteLength > 0) return t.rawData;
  if (elementCount(t.dims) === 0) return new Uint8Array(0);
  return typedFieldBytes(t);
}

/** Payload size in bytes of a tensor held in memory (0 for external tensors and strings). */
export function inMemoryByteSize(t: TensorProto): number {
  if (externalDataRef(t) || t.dataType === DataType.STRING) return 0;
  return elementCount(t.dims) * dataTypeByteSize(t.dataType ?? DataType.UNDEFINED);
}

type TensorFn = (t: TensorProto) => TensorProto;

function mapSparse(s: SparseTensorProto, fn: TensorFn): SparseTensorProto {
  return { ...s, ...(s.values ? { values: fn(s.values) } : {}), ...(s.indices ? { indices: fn(s.indices) } : {}) };
}

function mapAttribute(a: AttributeProto, fn: TensorFn): AttributeProto {
  const out: AttributeProto = { ...a };
  if (a.t) out.t = fn(a.t);
  if (a.tensors?.length) out.tensors = a.tensors.map(fn);
  if (a.sparseTensor) out.sparseTensor = mapSparse(a.sparseTensor, fn);
  if (a.sparseTensors?.length) out.sparseTensors = a.sparseTensors.map((s) => mapSparse(s, fn));
  if (a.g) out.g = mapGraphTensors(a.g, fn);
  if (a.graphs?.length) out.graphs = a.graphs.map((g) => mapGraphTensors(g, fn));
  return out;
}

function mapNode(n: NodeProto, fn: TensorFn): NodeProto {
  return { ...n, attribute: n.attribute.map((a) => mapAttribute(a, fn)) };
}

/** A copy of `g` with `fn` applied to every tensor (initializers, sparse initializers, attributes, subgraphs). */
function mapGraphTensors(g: GraphProto, fn: TensorFn): GraphProto {
  return {
    ...g,
    initializer: g.initializer.map(fn),
    ...(g.sparseInitializer ? { sparseInitializer: g.sparseInitializer.map((s) => mapSparse(s, fn)) } : {}),
    node: g.node.map((n) => mapNode(n, fn)),
  };
}

/** A copy of `model` with `fn` applied to every tensor of its graph and functions. */
export function mapModelTensors(model: ModelProto, fn: TensorFn): ModelProto {
  return {
    ...model,
    graph: mapGraphTensors(model.graph, fn),
    ...(model.functions ? { functions: model.functions.map((f) => ({ ...f, node: (f.node ?? []).map((n) => mapNode(n, fn)) })) } : {}),
  };
}
