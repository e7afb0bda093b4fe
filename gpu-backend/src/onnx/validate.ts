/**
 * Structural validation of a graph: unique producers, every read defined, outputs defined, no cycles, nodes in
 * topological order.
 * @module
 */
import { nodeReads } from './graph-index.js';
import { topologicalOrder } from './topo-sort.js';
import type { GraphProto, ModelProto } from './types.js';

/** Problems found by {@link graphProblems}; empty when the graph is valid. */
export function graphProblems(g: GraphProto): string[] {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  const define = (name: string, what: string) => {
    if (name === '') return;
    const before = sources.get(name);
    // An initializer may also be listed as a graph input (an overridable default).
    if (before && !(before === 'graph input' && what === 'initializer')) problems.push(`${name} is produced by ${before} and by ${what}`);
    else sources.set(name, before ?? what);
  };
  for (const v of g.input) define(v.name, 'graph input');
  for (const t of g.initializer) define(t.name ?? '', 'initializer');
  const defined = new Set([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name ?? '')]);
  g.node.forEach((n, i) => {
    const label = n.name || `#${i} (${n.opType})`;
    for (const name of nodeReads(n)) {
      if (!sources.has(name) && !g.node.some((m) => m.output.includes(name))) problems.push(`node ${label} reads undefined tensor ${name}`);
      else if (!defined.has(name)) problems.push(`node ${label} reads ${name} before it is produced`);
    }
    for (const o of n.output) {
      define(o, `node ${label}`);
      if (o !== '') defined.add(o);
    }
  });
  for (const v of g.output) if (!sources.has(v.name)) problems.push(`graph output ${v.name} is not produced`);
  try {
    topologicalOrder(g);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

/**
 * Throws when the model's graph is not valid.
 * @throws Error listing every problem
 */
export function validateModel(model: ModelProto): void {
  const problems = graphProblems(model.graph);
  if (problems.length > 0) throw new Error(`invalid graph (${problems.length} problems):\n${problems.slice(0, 20).join('\n')}`);
}
