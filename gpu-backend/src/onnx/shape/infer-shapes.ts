/**
 * Concrete shape inference with constant propagation over the ops Stable Diffusion exports use: given concrete
 * dims for the graph inputs, computes dtype and dims of every tensor, folding the int64 shape-arithmetic
 * subgraphs torch emits (Shape → Gather → Unsqueeze → Concat → Reshape).
 * @module
 */
import { nodeReads } from '../graph-index.js';
import { topologicalOrder } from '../topo-sort.js';
import type { GraphProto, ModelProto, NodeProto } from '../types.js';
import { elementwiseRules } from './elementwise-rules.js';
import { nnRules } from './nn-rules.js';
import type { RuleContext, ShapeRule } from './rule.js';
import { infoOfTensor, type TensorInfo } from './tensor-info.js';
import { hasSubgraph, tensorRules } from './tensor-rules.js';

export type { TensorInfo } from './tensor-info.js';

const rules: Readonly<Record<string, ShapeRule>> = { ...elementwiseRules, ...tensorRules, ...nnRules };

/** Op types with a shape rule (default domain). */
export const supportedOps: readonly string[] = Object.keys(rules).sort();

/** Options of {@link inferShapes}. */
export interface InferShapesOptions {
  /**
   * `throw` (default): an op without a rule is an error. `skip`: its outputs stay unknown (and so does everything
   * computed from them), for callers that only need part of the graph (e.g. ranks on fused graphs).
   */
  readonly unknownOps?: 'throw' | 'skip';
}

/** Concrete dims per graph input name, e.g. `{ sample: [2, 4, 64, 64], timestep: [1], ... }`. */
export type InputDims = Readonly<Record<string, readonly number[]>>;

function opsetOf(model: ModelProto): number {
  return model.opsetImport.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')?.version ?? 1;
}

function ruleFor(node: NodeProto): ShapeRule | undefined {
  const domain = node.domain ?? '';
  if (domain !== '' && domain !== 'ai.onnx') return undefined;
  return hasSubgraph(node) ? undefined : rules[node.opType];
}

/** Node indices in graph order when that is already topological (the usual case), else sorted. */
function nodeOrder(g: GraphProto): number[] {
  const defined = new Set<string>([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name ?? '')]);
  const produced = new Set<string>();
  for (const n of g.node) for (const o of n.output) produced.add(o);
  for (const n of g.node) {
    for (const r of nodeReads(n)) if (produced.has(r) && !defined.has(r)) return topologicalOrder(g);
    for (const o of n.output) defined.add(o);
  }
  return g.node.map((_, i) => i);
}

const memo = new WeakMap<ModelProto, Map<string, Map<string, TensorInfo> | Error>>();

/**
 * {@link inferShapes} memoised per model object and arguments (models are treated as immutable values).
 * Callers must not mutate the returned map.
 */
export function inferShapesCached(
  model: ModelProto,
  inputDims: InputDims,
  options: InferShapesOptions = {},
): ReadonlyMap<string, TensorInfo> {
  const key = JSON.stringify([inputDims, options.unknownOps ?? 'throw']);
  let perModel = memo.get(model);
  if (!perModel) {
    perModel = new Map();
    memo.set(model, perModel);
  }
  let hit = perModel.get(key);
  if (!hit) {
    try {
      hit = inferShapes(model, inputDims, options);
    } catch (e) {
      hit = e as Error;
    }
    perModel.set(key, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

/**
 * Infers every tensor's dtype and dims for concrete input dims.
 * @param inputDims dims for the inputs whose declared shape is not fully static
 * @returns map tensor name → info (tensors downstream of skipped ops are absent)
 * @throws Error for a missing input dim, an op without a rule (unless skipped), or inconsistent shapes
 */
export function inferShapes(model: ModelProto, inputDims: InputDims, options: InferShapesOptions = {}): Map<string, TensorInfo> {
  const g: GraphProto = model.graph;
  const ctx: RuleContext = { opset: opsetOf(model) };
  const known = new Map<string, TensorInfo>();
  for (const t of g.initializer) known.set(t.name ?? '', infoOfTensor(t));
  for (const v of g.input) {
    const tt = v.type?.tensorType;
    const given = inputDims[v.name];
    if (given) {
      known.set(v.name, { dtype: tt?.elemType ?? 0, dims: [...given] });
      continue;
    }
    if (known.has(v.name)) continue;
    const dims = tt?.shape?.dim?.map((d) => d.dimValue);
    if (!dims || dims.some((d) => d === undefined)) throw new Error(`inferShapes: no dims given for input ${v.name}`);
    known.set(v.name, { dtype: tt?.elemType ?? 0, dims: dims as number[] });
  }
  for (const i of nodeOrder(g)) {
    const node = g.node[i]!;
    const rule = ruleFor(node);
    if (!rule) {
      if (options.unknownOps === 'skip') continue;
      throw new Error(`inferShapes: no shape rule for ${node.domain ? `${node.domain}.` : ''}${node.opType} (node ${node.name ?? i})`);
    }
    const ins = node.input.map((name) => (name === '' ? undefined : known.get(name)));
    if (node.input.some((name, k) => name !== '' && !ins[k])) {
      if (options.unknownOps === 'skip') continue;
      throw new Error(`inferShapes: node ${node.name ?? i} reads a tensor of unknown shape`);
    }
    let outs: TensorInfo[];
    try {
      outs = rule(node, ins, ctx);
    } catch (e) {
      throw new Error(`inferShapes: ${node.opType} node ${node.name ?? i}: ${(e as Error).message}`, { cause: e });
    }
    node.output.forEach((name, k) => {
      if (name !== '' && outs[k]) known.set(name, outs[k]!);
    });
  }
  return known;
}
