/**
 * Indexes over a graph: which node produces each tensor, which nodes consume it, and the names a node reads
 * (explicit inputs plus outer-scope names its subgraphs use).
 * @module
 */
import type { GraphProto, NodeProto } from './types.js';

/** Names a subgraph reads from its enclosing scope (used but not defined inside it). */
function outerScopeNames(g: GraphProto): Set<string> {
  const defined = new Set<string>([...g.input.map((i) => i.name), ...g.initializer.map((t) => t.name ?? '')]);
  for (const n of g.node) for (const o of n.output) defined.add(o);
  const used = new Set<string>();
  for (const n of g.node) for (const name of nodeReads(n)) if (name && !defined.has(name)) used.add(name);
  return used;
}

/** Every tensor name a node reads: its non-empty inputs and the outer-scope names of its subgraphs. */
export function nodeReads(n: NodeProto): string[] {
  const names = n.input.filter((s) => s !== '');
  for (const a of n.attribute) {
    for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) names.push(...outerScopeNames(g));
  }
  return names;
}

/** Producer/consumer maps of a graph (node indices into `graph.node`). */
export interface GraphIndex {
  readonly producer: ReadonlyMap<string, number>;
  readonly consumers: ReadonlyMap<string, readonly number[]>;
  readonly initializers: ReadonlySet<string>;
  readonly inputs: ReadonlySet<string>;
}

/** Builds the producer/consumer maps. A tensor produced twice keeps its first producer (see `validateGraph`). */
export function indexGraph(g: GraphProto): GraphIndex {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  g.node.forEach((n, i) => {
    for (const o of n.output) if (o !== '' && !producer.has(o)) producer.set(o, i);
    for (const name of nodeReads(n)) {
      const list = consumers.get(name);
      if (list) {
        if (list[list.length - 1] !== i) list.push(i);
      } else consumers.set(name, [i]);
    }
  });
  return {
    producer,
    consumers,
    initializers: new Set(g.initializer.map((t) => t.name ?? '')),
    inputs: new Set(g.input.map((v) => v.name)),
  };
}

/**
 * Indices of the nodes needed to compute `targets` (transitive producers), in graph order.
 * Traversal stops at graph inputs and initializers.
 */
export function ancestorNodes(g: GraphProto, targets: Iterable<string>, index: GraphIndex = indexGraph(g)): number[] {
  const seen = new Set<number>();
  const stack = [...targets];
  while (stack.length > 0) {
    const name = stack.pop()!;
    const p = index.producer.get(name);
    if (p === undefined || seen.has(p)) continue;
    seen.add(p);
    stack.push(...nodeReads(g.node[p]!));
  }
  return [...seen].sort((a, b) => a - b);
}
