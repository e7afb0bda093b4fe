/**
 * A small ONNX graph-building DSL with torch-style scoped names. Inside `b.scope('down_blocks.0', () => …)` a Conv
 * becomes node `/down_blocks.0/…/Conv` (repeats in one scope get `_1`, `_2`, … as torch's exporter numbers them),
 * its output tensor `<node>_output_0`, and parameters are named like the diffusers module path
 * (`down_blocks.0.resnets.0.conv1.weight`). Weights are seeded random values, or shapes only (dims without data)
 * for counting MACs of full-size graphs without materialising gigabytes.
 * @module
 */
import { makeAttribute, makeValueInfo, type AttributeValue, type DimSpec } from '../onnx/builders.js';
import { float32ToFloat16 } from '../onnx/tensor-data.js';
import { DataType, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/types.js';
import { fillNormal } from './random.js';

/** Element type of weights and float activations. */
export type FloatKind = 'float32' | 'float16';

/** `random`: seeded values; `shapes-only`: initializers carry dims and type but no data (for MAC counting only). */
export type WeightMode = 'random' | 'shapes-only';

/** How a parameter is initialised. */
export type WeightInit =
  | { readonly kind: 'normal'; readonly std: number; readonly mean?: number }
  | { readonly kind: 'values'; readonly values: Float32Array };

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  /** Seed of every random weight (default 0). */
  readonly seed?: number;
  /** Default float32. */
  readonly float?: FloatKind;
  /** Default `random`. */
  readonly weights?: WeightMode;
}

/** The ONNX data type of a {@link FloatKind}. */
export const floatDataType = (kind: FloatKind): DataType => (kind === 'float16' ? DataType.FLOAT16 : DataType.FLOAT);

/**
 * Builds one graph. Tensors are referred to by name (plain strings); every node gets a torch-style scoped name.
 * @example
 * const b = new GraphBuilder({ seed: 1 });
 * const x = b.input('sample', DataType.FLOAT, ['batch_size', 4, 'height', 'width']);
 * const y = b.scope('conv_in', () => b.op('Conv', [x, b.weight('weight', [8, 4, 3, 3], { kind: 'normal', std: 0.1 })]));
 */
export class GraphBuilder {
  readonly seed: number;
  readonly float: FloatKind;
  readonly floatType: DataType;
  readonly weightMode: WeightMode;
  #scopes: string[] = [];
  #counters = new Map<string, number>();
  #nodes: NodeProto[] = [];
  #initializers: TensorProto[] = [];
  #initNames = new Set<string>();
  #inputs: ValueInfoProto[] = [];
  #outputs: ValueInfoProto[] = [];

  constructor(options: GraphBuilderOptions = {}) {
    this.seed = options.seed ?? 0;
    this.float = options.float ?? 'float32';
    this.floatType = floatDataType(this.float);
    this.weightMode = options.weights ?? 'random';
  }

  /** Runs `fn` inside a child scope (a module name such as `resnets.0` or `conv1`). */
  scope<T>(name: string, fn: () => T): T {
    this.#scopes.push(name);
    try {
      return fn();
    } finally {
      this.#scopes.pop();
    }
  }

  /** The torch node-name prefix of the current scope, e.g. `/down_blocks.0/resnets.0` ('' at the root). */
  get path(): string {
    return this.#scopes.map((s) => `/${s}`).join('');
  }

  /** The diffusers parameter name of `local` in the current scope, e.g. `down_blocks.0.resnets.0.conv1.weight`. */
  paramName(local: string): string {
    return [...this.#scopes, local].join('.');
  }

  /** Adds a node with `outputs` outputs named `<node>_output_<i>`; returns the output names. */
  node(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, outputs = 1): string[] {
    const key = `${this.path}/${opType}`;
    const n = this.#counters.get(key) ?? 0;
    this.#counters.set(key, n + 1);
    const name = n === 0 ? key : `${key}_${n}`;
    const outNames = Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`);
    this.#nodes.push({
      opType,
      name,
      input: [...inputs],
      output: outNames,
      attribute: Object.entries(attributes).map(([k, v]) => makeAttribute(k, v)),
    });
    return outNames;
  }

  /** Adds a single-output node and returns its output name. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}): string {
    return this.node(opType, inputs, attributes)[0]!;
  }

  /**
   * Adds a float parameter (initializer) named after the current scope.
   * @param local parameter name inside the scope (`weight`, `bias`)
   * @param name full initializer name, when it should not follow the scope
   * @throws Error when the name is already taken
   */
  weight(local: string, dims: readonly number[], init: WeightInit, name = this.paramName(local)): string {
    if (this.#initNames.has(name)) throw new Error(`initializer ${name} defined twice`);
    this.#initNames.add(name);
    const count = dims.reduce((a, b) => a * b, 1);
    const tensor: TensorProto = { name, dataType: this.floatType, dims: [...dims] };
    if (this.weightMode === 'random') {
      let values: Float32Array;
      if (init.kind === 'values') {
        if (init.values.length !== count) throw new RangeError(`${name}: ${init.values.length} values for ${count} elements`);
        values = init.values;
      } else {
        values = fillNormal(new Float32Array(count), this.seed, name, init.std, init.mean ?? 0);
      }
      const bytes = this.float === 'float16' ? float32ToFloat16(values) : values;
      tensor.rawData = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.#initializers.push(tensor);
    return name;
  }

  /** A Constant node in the current scope holding `values` with `dims` and `dataType`. */
  constant(values: ArrayLike<number>, dims: readonly number[], dataType: DataType): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new RangeError(`constant: ${values.length} values for dims [${dims.join(', ')}]`);
    let raw: ArrayBufferView;
    switch (dataType) {
      case DataType.INT64:
        raw = BigInt64Array.from(Array.from(values), (v) => BigInt(v));
        break;
      case DataType.INT32:
        raw = Int32Array.from(values);
        break;
      case DataType.FLOAT:
        raw = Float32Array.from(values);
        break;
      case DataType.FLOAT16:
        raw = float32ToFloat16(Float32Array.from(values));
        break;
      default:
        throw new RangeError(`constant: data type ${dataType} not supported`);
    }
    const t: TensorProto = { dataType, dims: [...dims], rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) };
    return this.op('Constant', [], { value: t });
  }

  /** A 1-D int64 Constant (shapes, axes, indices). */
  ints(values: readonly number[]): string {
    return this.constant(values, [values.length], DataType.INT64);
  }

  /** A float scalar Constant in the graph's float type. */
  scalar(value: number): string {
    return this.constant([value], [], this.floatType);
  }

  /** Declares a graph input. */
  input(name: string, dataType: DataType, shape: readonly DimSpec[]): string {
    this.#inputs.push(makeValueInfo(name, dataType, shape));
    return name;
  }

  /**
   * Declares `tensor` as graph output `name`: the producing node's output is renamed (torch names outputs this way).
   * @throws Error when no node produces `tensor`
   */
  output(tensor: string, name: string, dataType: DataType, shape: readonly DimSpec[]): void {
    let producer: NodeProto | undefined;
    for (const n of this.#nodes) if (n.output.includes(tensor)) producer = n;
    if (!producer || this.#outputs.some((o) => o.name === tensor)) {
      // A graph input, or a tensor that is already an output: name it through an Identity.
      this.#nodes.push({ opType: 'Identity', name: `/${name}/Identity`, input: [tensor], output: [name], attribute: [] });
    } else {
      producer.output = producer.output.map((o) => (o === tensor ? name : o));
      for (const n of this.#nodes) n.input = n.input.map((i) => (i === tensor ? name : i));
    }
    this.#outputs.push(makeValueInfo(name, dataType, shape));
  }

  /** Number of parameters (elements of all initializers). */
  get parameterCount(): number {
    return this.#initializers.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
  }

  /** The finished model (opset 17, IR 8). */
  build(graphName: string, opset = 17): ModelProto {
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'deepcache-image-api synthetic',
      graph: {
        name: graphName,
        node: this.#nodes,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.#initializers,
        valueInfo: [],
      },
    };
  }
}
