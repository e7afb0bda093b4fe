/**
 * Topological order: a check and a stable sort (Kahn's algorithm, keeping the original order among ready nodes).
 * @module
 */
import { indexGraph, nodeReads } from './graph-index.js';
import type { GraphProto, ModelProto } from './types.js';

/** True when every node comes after the producers of everything it reads. */
export function isTopologicallySorted(g: GraphProto): boolean {
  const index = indexGraph(g);
  return g.node.every((n, i) => nodeReads(n).every((name) => (index.producer.get(name) ?? -1) < i));
}

/**
 * Node indices in a topological order, stable with respect to the current order.
 * @throws Error naming a node on a cycle
 */
export function topologicalOrder(g: GraphProto): number[] {
  const index = indexGraph(g);
  const pending = g.node.map(
    (n) =>
      new Set(
        nodeReads(n)
          .map((x) => index.producer.get(x))
          .filter((p): p is number => p !== undefined),
      ).size,
  );
  const dependents: number[][] = g.node.map(() => []);
  g.node.forEach((n, i) => {
    for (const p of new Set(nodeReads(n).map((x) => index.producer.get(x)))) if (p !== undefined) dependents[p]!.push(i);
  });
  // A min-heap on node index keeps the original order wherever the dependencies allow it.
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= heap[i]!) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]! < heap[m]!) m = l;
        if (r < heap.length && heap[r]! < heap[m]!) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  pending.forEach((c, i) => {
    if (c === 0) push(i);
  });
  const order: number[] = [];
  while (heap.length > 0) {
    const i = pop();
    order.push(i);
    for (const d of dependents[i]!) if (--pending[d]! === 0) push(d);
  }
  if (order.length !== g.node.length) {
    const stuck = g.node.findIndex((_, i) => pending[i]! > 0);
    throw new Error(`graph has a cycle through node ${g.node[stuck]?.name || `#${stuck}`}`);
  }
  return order;
}

/** A copy of the model with its nodes in topological order (unchanged order when already sorted). */
export function topoSort(model: ModelProto): ModelProto {
  const order = topologicalOrder(model.graph);
  return { ...model, graph: { ...model.graph, node: order.map((i) => model.graph.node[i]!) } };
}
