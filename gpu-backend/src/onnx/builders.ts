/**
 * Builders for ONNX messages: nodes, attributes, tensors, value infos, graphs and models. Used by graph passes,
 * tests and the synthetic model builder.
 * @module
 */
import { float32ToFloat16 } from './tensor-data.js';
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type OperatorSetIdProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from './types.js';

/** An attribute value: number → INT if integral else FLOAT (use {@link floatAttr} to force FLOAT). */
export type AttributeValue = number | string | number[] | string[] | TensorProto | GraphProto | FloatAttr;

/** Marks a number (or list) to be stored as FLOAT(S) even when integral. */
export interface FloatAttr {
  readonly float: number | number[];
}

/** Wraps a value so {@link makeAttribute} stores it as FLOAT/FLOATS. */
export function floatAttr(value: number | number[]): FloatAttr {
  return { float: value };
}

const utf8 = new TextEncoder();

function isTensor(v: object): v is TensorProto {
  return 'dims' in v && 'dataType' in v;
}

/**
 * Builds an AttributeProto; the type follows the JS value.
 * @throws TypeError for an empty array (type unknown) or unsupported values
 */
export function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: utf8.encode(value) };
  if (Array.isArray(value)) {
    if (value.length === 0) throw new TypeError(`attribute ${name}: empty list has no type; use floatAttr([]) or a typed list`);
    if (typeof value[0] === 'string') return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => utf8.encode(s)) };
    const nums = value as number[];
    return nums.every(Number.isInteger)
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  if ('float' in value) {
    return Array.isArray(value.float)
      ? { name, type: AttributeType.FLOATS, floats: value.float }
      : { name, type: AttributeType.FLOAT, f: value.float };
  }
  if (isTensor(value)) return { name, type: AttributeType.TENSOR, t: value };
  if ('node' in value) return { name, type: AttributeType.GRAPH, g: value };
  throw new TypeError(`attribute ${name}: unsupported value`);
}

/** Options of {@link makeNode}. */
export interface MakeNodeOptions {
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/**
 * Builds a NodeProto.
 * @example makeNode('Conv', ['x', 'w', 'b'], ['y'], { name: '/conv_in/Conv', attributes: { pads: [1, 1, 1, 1] } })
 */
export function makeNode(opType: string, inputs: readonly string[], outputs: readonly string[], options: MakeNodeOptions = {}): NodeProto {
  const node: NodeProto = {
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(options.attributes ?? {}).map(([k, v]) => makeAttribute(k, v)),
  };
  if (options.name !== undefined) node.name = options.name;
  if (options.domain !== undefined) node.domain = options.domain;
  return node;
}

/** Tensor values accepted by {@link makeTensor}. */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | readonly number[];

function rawBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

/**
 * Builds a TensorProto with little-endian `rawData`.
 * `dataType` FLOAT16 takes float values (converted, round to nearest even) or a Uint16Array of half bits.
 * @throws RangeError when the value count does not match the dims
 */
export function makeTensor(name: string, dataType: DataType, dims: readonly number[], values: TensorValues): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new RangeError(`tensor ${name}: ${values.length} values for dims [${dims.join(', ')}] (${count})`);
  }
  let raw: Uint8Array;
  switch (dataType) {
    case DataType.FLOAT:
      raw = rawBytes(values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>));
      break;
    case DataType.DOUBLE:
      raw = rawBytes(Float64Array.from(values as ArrayLike<number>));
      break;
    case DataType.FLOAT16:
      raw = rawBytes(values instanceof Uint16Array ? values : float32ToFloat16(Float32Array.from(values as ArrayLike<number>)));
      break;
    case DataType.INT64:
      raw = rawBytes(
        values instanceof BigInt64Array ? values : BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(Math.trunc(v))),
      );
      break;
    case DataType.INT32:
      raw = rawBytes(Int32Array.from(values as ArrayLike<number>));
      break;
    case DataType.INT16:
      raw = rawBytes(Int16Array.from(values as ArrayLike<number>));
      break;
    case DataType.UINT16:
      raw = rawBytes(Uint16Array.from(values as ArrayLike<number>));
      break;
    case DataType.INT8:
      raw = rawBytes(Int8Array.from(values as ArrayLike<number>));
      break;
    case DataType.UINT8:
    case DataType.BOOL:
      raw = rawBytes(Uint8Array.from(values as ArrayLike<number>));
      break;
    default:
      throw new RangeError(`makeTensor: data type ${dataType} not supported`);
  }
  return { name, dataType, dims: [...dims], rawData: raw };
}

/** A dimension: number = fixed size, string = symbolic (dim_param), null = unknown. */
export type DimSpec = number | string | null;

/** Builds a tensor TypeProto; `shape` undefined = unknown rank. */
export function makeTensorType(elemType: DataType, shape?: readonly DimSpec[]): TypeProto {
  const tensorType: NonNullable<TypeProto['tensorType']> = { elemType };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { tensorType };
}

/** Builds a ValueInfoProto for a tensor. @example makeValueInfo('sample', DataType.FLOAT, ['batch', 4, 'h', 'w']) */
export function makeValueInfo(name: string, elemType: DataType, shape?: readonly DimSpec[]): ValueInfoProto {
  return { name, type: makeTensorType(elemType, shape) };
}

/** Parts of a graph for {@link makeGraph}. */
export interface MakeGraphParts {
  readonly nodes: readonly NodeProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly initializers?: readonly TensorProto[];
  readonly valueInfo?: readonly ValueInfoProto[];
}

/** Builds a GraphProto. */
export function makeGraph(name: string, parts: MakeGraphParts): GraphProto {
  return {
    name,
    node: [...parts.nodes],
    input: [...parts.inputs],
    output: [...parts.outputs],
    initializer: [...(parts.initializers ?? [])],
    valueInfo: [...(parts.valueInfo ?? [])],
  };
}

/** Options of {@link makeModel}. */
export interface MakeModelOptions {
  /** Default 8 (onnxruntime 1.30 reads up to 10+). */
  readonly irVersion?: number;
  /** Default `[{ domain: '', version: 17 }]`. */
  readonly opsetImport?: readonly OperatorSetIdProto[];
  readonly producerName?: string;
}

/** Wraps a graph in a ModelProto. */
export function makeModel(graph: GraphProto, options: MakeModelOptions = {}): ModelProto {
  return {
    irVersion: options.irVersion ?? 8,
    opsetImport: [...(options.opsetImport ?? [{ domain: '', version: 17 }])],
    producerName: options.producerName ?? 'deepcache-image-api',
    graph,
  };
}
