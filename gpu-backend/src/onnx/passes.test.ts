import { describe, expect, it } from 'vitest';
import { makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './builders.js';
import { cutAtTensor, pruneToOutputs } from './cut-graph.js';
import { countMacs } from './mac-counter.js';
import { macRatio } from './deepcache-ceiling.js';
import { promoteToOutput } from './promote-output.js';
import { inferShapes } from './shape/infer-shapes.js';
import { isTopologicallySorted, topoSort } from './topo-sort.js';
import { DataType, type ModelProto } from './types.js';
import { graphProblems } from './validate.js';

const F = DataType.FLOAT;
const zeros = (n: number) => new Float32Array(n);

/** x[B,3,8,8] → Conv(4,3,3,3, pad 1) → y → Reshape via Shape/Gather/Unsqueeze/Concat to [B,4,64] → Transpose → MatMul W[4,5] → z; attention-like z·zᵀ → a. */
function tinyModel(): ModelProto {
  const nodes = [
    makeNode('Conv', ['x', 'w', 'b'], ['y'], { name: 'conv', attributes: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } }),
    makeNode('Shape', ['y'], ['s'], { name: 'shape' }),
    makeNode('Gather', ['s', 'i0'], ['batch'], { name: 'gather', attributes: { axis: 0 } }),
    makeNode('Unsqueeze', ['batch', 'ax0'], ['batch1'], { name: 'unsq' }),
    makeNode('Concat', ['batch1', 'c4', 'c64'], ['newshape'], { name: 'cat', attributes: { axis: 0 } }),
    makeNode('Reshape', ['y', 'newshape'], ['r'], { name: 'reshape' }),
    makeNode('Transpose', ['r'], ['rt'], { name: 'tr', attributes: { perm: [0, 2, 1] } }),
    makeNode('MatMul', ['rt', 'wl'], ['z'], { name: 'linear' }),
    makeNode('Transpose', ['z'], ['zt'], { name: 'tr2', attributes: { perm: [0, 2, 1] } }),
    makeNode('MatMul', ['z', 'zt'], ['a'], { name: 'attn' }),
    makeNode('Relu', ['a'], ['out'], { name: 'relu' }),
  ];
  return makeModel(
    makeGraph('tiny', {
      nodes,
      inputs: [makeValueInfo('x', F, ['B', 3, 8, 8])],
      outputs: [makeValueInfo('out', F, ['B', 64, 64])],
      initializers: [
        makeTensor('w', F, [4, 3, 3, 3], zeros(108)),
        makeTensor('b', F, [4], zeros(4)),
        makeTensor('i0', DataType.INT64, [], [0]),
        makeTensor('ax0', DataType.INT64, [1], [0]),
        makeTensor('c4', DataType.INT64, [1], [4]),
        makeTensor('c64', DataType.INT64, [1], [64]),
        makeTensor('wl', F, [4, 5], zeros(20)),
      ],
    }),
  );
}

describe('shape inference', () => {
  it('folds the Shape → Gather → Unsqueeze → Concat → Reshape arithmetic for concrete dims', () => {
    const shapes = inferShapes(tinyModel(), { x: [2, 3, 8, 8] });
    expect(shapes.get('newshape')?.value).toEqual([2, 4, 64]);
    expect(shapes.get('r')?.dims).toEqual([2, 4, 64]);
    expect(shapes.get('z')?.dims).toEqual([2, 64, 5]);
    expect(shapes.get('out')?.dims).toEqual([2, 64, 64]);
  });

  it('reports an op without a rule unless told to skip it', () => {
    const m = tinyModel();
    const odd = { ...m, graph: { ...m.graph, node: [...m.graph.node, makeNode('FancyOp', ['out'], ['o2'])] } };
    expect(() => inferShapes(odd, { x: [1, 3, 8, 8] })).toThrow(/FancyOp/);
    expect(inferShapes(odd, { x: [1, 3, 8, 8] }, { unknownOps: 'skip' }).has('o2')).toBe(false);
  });
});

describe('countMacs', () => {
  it('counts Conv, weight MatMul and activation MatMul with the textbook formulas', () => {
    const macs = countMacs(tinyModel(), { x: [2, 3, 8, 8] });
    expect(macs.conv).toBe(2 * 4 * 8 * 8 * (3 * 3 * 3));
    expect(macs.linear).toBe(2 * 64 * 5 * 4);
    expect(macs.attention).toBe(2 * 64 * 64 * 5);
    expect(macs.total).toBe(macs.conv + macs.linear + macs.attention);
    expect(macs.paper).toBe(macs.conv + macs.linear);
  });

  it('counts Gemm with transB as a weight layer', () => {
    const m = makeModel(
      makeGraph('gemm', {
        nodes: [makeNode('Gemm', ['x', 'w'], ['y'], { attributes: { transB: 1 } })],
        inputs: [makeValueInfo('x', F, [3, 7])],
        outputs: [makeValueInfo('y', F, [3, 11])],
        initializers: [makeTensor('w', F, [11, 7], zeros(77))],
      }),
    );
    expect(countMacs(m, {})).toMatchObject({ linear: 3 * 11 * 7, conv: 0, attention: 0 });
  });

  it('gives the DeepCache MAC ratio n·full / (k·full + (n−k)·shallow)', () => {
    expect(macRatio(10, 2, 10, 5)).toBeCloseTo(100 / 60);
    expect(macRatio(10, 2, 10, 10)).toBe(1);
    expect(() => macRatio(10, 2, 10, 0)).toThrow(RangeError);
  });
});

describe('graph passes', () => {
  it('promotes an internal tensor to an output through an Identity with the given type', () => {
    const m = promoteToOutput(tinyModel(), 'z', { outputName: 'feat', type: { elemType: F, shape: ['B', 64, 5] } });
    expect(m.graph.output.map((o) => o.name)).toEqual(['out', 'feat']);
    expect(graphProblems(m.graph)).toEqual([]);
    expect(() => promoteToOutput(tinyModel(), 'z')).toThrow(/no type/);
  });

  it('cuts at a tensor, drops the nodes and initializers only it needed, and unused inputs', () => {
    const m = cutAtTensor(tinyModel(), 'z', { inputName: 'zin', type: { tensorType: { elemType: F } } });
    expect(m.graph.node.map((n) => n.name)).toEqual(['tr2', 'attn', 'relu']);
    expect(m.graph.input.map((v) => v.name)).toEqual(['zin']);
    expect(m.graph.initializer).toEqual([]);
    expect(graphProblems(m.graph)).toEqual([]);
  });

  it('keeps required inputs when pruning', () => {
    const m = cutAtTensor(tinyModel(), 'z', { type: { tensorType: { elemType: F } }, keepInputs: ['x'] });
    expect(m.graph.input.map((v) => v.name).sort()).toEqual(['x', 'z']);
    expect(pruneToOutputs(m, ['out']).graph.input.map((v) => v.name)).toEqual(['z']);
  });

  it('sorts a shuffled graph topologically and the validator finds cycles and undefined reads', () => {
    const m = tinyModel();
    const shuffled = { ...m, graph: { ...m.graph, node: [...m.graph.node].reverse() } };
    expect(isTopologicallySorted(shuffled.graph)).toBe(false);
    const sorted = topoSort(shuffled);
    expect(isTopologicallySorted(sorted.graph)).toBe(true);
    expect(graphProblems(sorted.graph)).toEqual([]);
    const cyclic = { ...m.graph, node: [...m.graph.node, makeNode('Add', ['q', 'out'], ['p']), makeNode('Neg', ['p'], ['q'])] };
    expect(graphProblems(cyclic).join('\n')).toMatch(/cycle/);
    const dangling = { ...m.graph, node: [...m.graph.node, makeNode('Neg', ['nowhere'], ['p'])] };
    expect(graphProblems(dangling).join('\n')).toMatch(/undefined tensor nowhere/);
  });
});
