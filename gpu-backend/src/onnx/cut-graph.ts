/**
 * Passes: cut a graph at a tensor (it becomes a graph input) and dead-code elimination (keep only the nodes,
 * initializers, inputs and value_infos needed for the requested outputs).
 * @module
 */
import { ancestorNodes, indexGraph, nodeReads } from './graph-index.js';
import type { ModelProto, TypeProto, ValueInfoProto } from './types.js';

/** Options of {@link pruneToOutputs}. */
export interface PruneOptions {
  /** Graph inputs to keep even when unused (the rest of the unused inputs are dropped). */
  readonly keepInputs?: readonly string[];
}

/**
 * Keeps only what `outputs` need: reachable nodes, the initializers and inputs they read, their value_infos.
 * @param outputs names of graph outputs to keep (in this order)
 * @throws Error when a name is not an output of the graph
 */
export function pruneToOutputs(model: ModelProto, outputs: readonly string[], options: PruneOptions = {}): ModelProto {
  const g = model.graph;
  const kept = outputs.map((name) => {
    const o = g.output.find((v) => v.name === name);
    if (!o) throw new Error(`pruneToOutputs: ${name} is not a graph output`);
    return o;
  });
  const nodes = ancestorNodes(g, outputs, indexGraph(g)).map((i) => g.node[i]!);
  const used = new Set<string>(outputs);
  for (const n of nodes) {
    for (const r of nodeReads(n)) used.add(r);
    for (const o of n.output) used.add(o);
  }
  const keep = new Set(options.keepInputs ?? []);
  return {
    ...model,
    graph: {
      ...g,
      node: nodes,
      input: g.input.filter((v) => used.has(v.name) || keep.has(v.name)),
      output: kept,
      initializer: g.initializer.filter((t) => used.has(t.name ?? '')),
      valueInfo: g.valueInfo.filter((v) => used.has(v.name)),
      ...(g.sparseInitializer ? { sparseInitializer: g.sparseInitializer.filter((s) => used.has(s.values?.name ?? '')) } : {}),
    },
  };
}

/** Options of {@link cutAtTensor}. */
export interface CutOptions extends PruneOptions {
  /** Name of the new graph input replacing the tensor. Default: the tensor's own name. */
  readonly inputName?: string;
  /** Type of the new input when the graph has no value_info for the tensor. */
  readonly type?: TypeProto;
  /** Outputs to keep. Default: all current outputs. */
  readonly outputs?: readonly string[];
}

/**
 * Cuts the graph at `tensor`: every node that read it now reads a new graph input, the tensor's producers that
 * nothing else needs disappear (dead-code elimination), and unused inputs are dropped.
 * @throws Error when the tensor is not produced by a node, no type is known, or the new input name is taken
 */
export function cutAtTensor(model: ModelProto, tensor: string, options: CutOptions = {}): ModelProto {
  const g = model.graph;
  const index = indexGraph(g);
  if (!index.producer.has(tensor)) throw new Error(`cutAtTensor: ${tensor} is not produced by a node`);
  const inputName = options.inputName ?? tensor;
  if (inputName !== tensor && (index.producer.has(inputName) || index.inputs.has(inputName) || index.initializers.has(inputName))) {
    throw new Error(`cutAtTensor: name ${inputName} is already used`);
  }
  const type = g.valueInfo.find((v) => v.name === tensor)?.type ?? options.type;
  if (!type?.tensorType?.elemType) throw new Error(`cutAtTensor: no type known for ${tensor}; pass options.type`);
  const rename = (name: string) => (name === tensor ? inputName : name);
  const input: ValueInfoProto = { name: inputName, type };
  // The producer keeps writing `tensor` under its old name only when the input keeps that name: drop the output.
  const node = g.node.map((n) => ({
    ...n,
    input: n.input.map(rename),
    output: n.output.map((o) => (o === tensor ? `${tensor}__cut` : o)),
  }));
  const output = g.output.map((o) => ({ ...o, name: rename(o.name) }));
  const cut: ModelProto = {
    ...model,
    graph: { ...g, node, input: [...g.input, input], output, valueInfo: g.valueInfo.filter((v) => v.name !== tensor) },
  };
  const outputs = (options.outputs ?? g.output.map((o) => o.name)).map(rename);
  return pruneToOutputs(cut, outputs, { keepInputs: [...(options.keepInputs ?? []), inputName] });
}
