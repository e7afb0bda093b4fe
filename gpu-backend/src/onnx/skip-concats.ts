/**
 * Finding the U-Net's up-path skip Concats (the DeepCache cache points), by torch scope name
 * (`/up_blocks.U/Concat`, `_1`, `_2`) or, when names are absent, structurally: a Concat along axis 1 of two 4-D
 * tensors that both depend on the graph inputs, the chain of them running along the decoder side of the U.
 * @module
 */
import { indexGraph, type GraphIndex } from './graph-index.js';
import { inferShapesCached, type TensorInfo } from './shape/infer-shapes.js';
import { probeInputDims } from './shape/symbolic-dims.js';
import { intAttr } from './shape/tensor-info.js';
import { topologicalOrder } from './topo-sort.js';
import type { ModelProto, NodeProto } from './types.js';

/** One skip Concat: its node index and name, the cached tensor (input 0) and the skip tensor (input 1). */
export interface SkipConcat {
  readonly nodeIndex: number;
  readonly nodeName: string;
  readonly cachedInput: string;
  readonly skipInput: string;
}

/** The skip Concats in graph order and how they were found. */
export interface SkipConcats {
  readonly concats: readonly SkipConcat[];
  readonly method: 'name' | 'structure';
}

const NAME = /^\/up_blocks\.(\d+)\/Concat(?:_(\d+))?$/;

function toSkip(n: NodeProto, i: number): SkipConcat {
  return { nodeIndex: i, nodeName: n.name ?? '', cachedInput: n.input[0]!, skipInput: n.input[1]! };
}

function byName(model: ModelProto): SkipConcat[] {
  const found: Array<{ u: number; r: number; c: SkipConcat }> = [];
  model.graph.node.forEach((n, i) => {
    const m = n.opType === 'Concat' ? NAME.exec(n.name ?? '') : null;
    if (m) found.push({ u: Number(m[1]), r: Number(m[2] ?? 0), c: toSkip(n, i) });
  });
  return found.sort((a, b) => a.u - b.u || a.r - b.r).map((f) => f.c);
}

/** Nodes whose outputs depend on a graph input (activations, as opposed to weights and folded constants). */
function dataDependent(model: ModelProto, order: readonly number[], index: GraphIndex): Set<string> {
  const live = new Set<string>(index.inputs);
  for (const t of model.graph.initializer) live.delete(t.name ?? '');
  for (const i of order) {
    const n = model.graph.node[i]!;
    if (n.input.some((x) => live.has(x))) for (const o of n.output) live.add(o);
  }
  return live;
}

function structural(model: ModelProto): SkipConcat[] {
  const g = model.graph;
  const order = topologicalOrder(g);
  const index = indexGraph(g);
  const shapes = inferShapesCached(model, probeInputDims(model), { unknownOps: 'skip' });
  const rank = (name: string): number | undefined =>
    g.valueInfo.find((v) => v.name === name)?.type?.tensorType?.shape?.dim?.length ??
    (shapes.get(name) as TensorInfo | undefined)?.dims.length;
  const live = dataDependent(model, order, index);
  const found: SkipConcat[] = [];
  for (const i of order) {
    const n = g.node[i]!;
    if (n.opType !== 'Concat' || n.input.length !== 2) continue;
    const axis = intAttr(n, 'axis', 0);
    if (!n.input.every((x) => rank(x) === 4 && live.has(x)) || (axis !== 1 && axis !== -3)) continue;
    found.push(toSkip(n, i));
  }
  return found;
}

/**
 * The up-path skip Concats in graph order (first = deepest, last = the one before `conv_out`).
 * @throws Error when none is found
 */
export function findSkipConcats(model: ModelProto, method: 'auto' | 'name' | 'structure' = 'auto'): SkipConcats {
  if (method !== 'structure') {
    const named = byName(model);
    if (named.length > 0 || method === 'name') {
      if (named.length === 0) throw new Error('no /up_blocks.U/Concat nodes in the graph');
      return { concats: named, method: 'name' };
    }
  }
  const concats = structural(model);
  if (concats.length === 0) throw new Error('no up-path skip Concat (axis 1, two 4-D activations) found');
  return { concats, method: 'structure' };
}
