/**
 * Pass: promote an internal tensor to a graph output.
 * @module
 */
import { makeNode, makeTensorType } from './builders.js';
import type { DimSpec } from './builders.js';
import { indexGraph } from './graph-index.js';
import type { ModelProto, TypeProto, ValueInfoProto } from './types.js';

/** Options of {@link promoteToOutput}. */
export interface PromoteOptions {
  /** Name of the new output; when it differs from the tensor, an Identity node produces it. Default: the tensor. */
  readonly outputName?: string;
  /**
   * Type of the output when the graph has no value_info for the tensor (e.g. from `inferSymbolicShape`).
   * `elemType` is required by onnxruntime; dims may be symbolic names or null.
   */
  readonly type?: { readonly elemType: number; readonly shape?: readonly DimSpec[] };
}

/**
 * Returns a copy of the model whose graph has one more output: the internal tensor `tensor`.
 * The type comes from the graph's value_info for the tensor, else from `options.type`.
 * @throws Error when the tensor is not produced by a node, the name is taken, or no type is known
 */
export function promoteToOutput(model: ModelProto, tensor: string, options: PromoteOptions = {}): ModelProto {
  const g = model.graph;
  const index = indexGraph(g);
  if (!index.producer.has(tensor)) throw new Error(`promoteToOutput: ${tensor} is not produced by a node`);
  const outputName = options.outputName ?? tensor;
  if (g.output.some((o) => o.name === outputName)) throw new Error(`promoteToOutput: graph already has output ${outputName}`);
  if (outputName !== tensor && (index.producer.has(outputName) || index.inputs.has(outputName) || index.initializers.has(outputName))) {
    throw new Error(`promoteToOutput: tensor name ${outputName} is already used`);
  }
  const known = g.valueInfo.find((v) => v.name === tensor)?.type;
  const type: TypeProto | undefined = known ?? (options.type && makeTensorType(options.type.elemType as never, options.type.shape));
  if (!type?.tensorType?.elemType) throw new Error(`promoteToOutput: no type known for ${tensor}; pass options.type`);
  const output: ValueInfoProto = { name: outputName, type };
  const node = outputName === tensor ? [] : [makeNode('Identity', [tensor], [outputName], { name: `${outputName}/Identity` })];
  return { ...model, graph: { ...g, node: [...g.node, ...node], output: [...g.output, output] } };
}
