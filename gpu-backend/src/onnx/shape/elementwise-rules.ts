/**
 * Shape rules of elementwise ops: unary (same shape), broadcasting binary/variadic with integer/float constant
 * folding, comparisons (bool), Where and Cast.
 * @module
 */
import { DataType } from '../types.js';
import { need, type ShapeRule } from './rule.js';
import { broadcastDims, broadcastValue, intAttr, isIntegerType, numel, withValue, type TensorInfo } from './tensor-info.js';

type Fold = (a: number, b: number, integer: boolean) => number;

const arithmetic: Record<string, Fold> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b, int) => (int ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
  Mod: (a, b) => a - b * Math.floor(a / b),
  Sum: (a, b) => a + b,
};

const comparisons: Record<string, Fold> = {
  Equal: (a, b) => Number(a === b),
  Less: (a, b) => Number(a < b),
  Greater: (a, b) => Number(a > b),
  LessOrEqual: (a, b) => Number(a <= b),
  GreaterOrEqual: (a, b) => Number(a >= b),
  And: (a, b) => Number(Boolean(a) && Boolean(b)),
  Or: (a, b) => Number(Boolean(a) || Boolean(b)),
  Xor: (a, b) => Number(Boolean(a) !== Boolean(b)),
};

function foldBroadcast(ins: readonly TensorInfo[], dtype: number, fold: Fold): TensorInfo {
  const dims = broadcastDims(...ins.map((t) => t.dims));
  if (numel(dims) > 4096 || ins.some((t) => !t.value)) return { dtype, dims };
  const integer = isIntegerType(ins[0]!.dtype);
  const vals = ins.map((t) => broadcastValue(t.value!, t.dims, dims));
  const out = vals[0]!.map((v, i) => vals.slice(1).reduce((acc, other) => fold(acc, other[i]!, integer), v));
  return withValue(dtype, dims, out);
}

const unaryFolds: Record<string, (x: number, integer: boolean) => number> = {
  Identity: (x) => x,
  Neg: (x) => -x,
  Abs: (x) => Math.abs(x),
  Floor: (x) => Math.floor(x),
  Ceil: (x) => Math.ceil(x),
  Sqrt: (x) => Math.sqrt(x),
  Reciprocal: (x) => 1 / x,
  Round: (x) => Math.round(x),
  Not: (x) => Number(!x),
  Relu: (x) => Math.max(0, x),
  Exp: (x) => Math.exp(x),
  Log: (x) => Math.log(x),
};

const unaryNoFold = [
  'Sigmoid',
  'Erf',
  'Sin',
  'Cos',
  'Tanh',
  'Softmax',
  'LogSoftmax',
  'Gelu',
  'FastGelu',
  'LeakyRelu',
  'Elu',
  'Softplus',
  'HardSigmoid',
  'HardSwish',
  'Mish',
  'Clip',
  'Trilu',
  'CumSum',
  'InstanceNormalization',
  'BatchNormalization',
  'GroupNormalization',
  'QuickGelu',
  'BiasGelu',
  'Celu',
  'Selu',
  'Sign',
  'Tan',
  'Atan',
  'Asin',
  'Acos',
];

function unary(fold?: (x: number, integer: boolean) => number): ShapeRule {
  return (node, ins) => {
    const x = need(node, ins, 0);
    const value = fold && x.value ? x.value.map((v) => fold(v, isIntegerType(x.dtype))) : undefined;
    return [withValue(x.dtype, x.dims, value)];
  };
}

/** Rules of elementwise ops by op type. */
export const elementwiseRules: Record<string, ShapeRule> = {};

for (const [op, fold] of Object.entries(arithmetic)) {
  elementwiseRules[op] = (node, ins) => {
    const present = ins.filter((t): t is TensorInfo => t !== undefined);
    return [foldBroadcast(present, need(node, ins, 0).dtype, fold)];
  };
}
for (const [op, fold] of Object.entries(comparisons)) {
  elementwiseRules[op] = (node, ins) => [foldBroadcast([need(node, ins, 0), need(node, ins, 1)], DataType.BOOL, fold)];
}
for (const [op, fold] of Object.entries(unaryFolds)) elementwiseRules[op] = unary(fold);
for (const op of unaryNoFold) elementwiseRules[op] = unary();
elementwiseRules['IsNaN'] = (node, ins) => [{ dtype: DataType.BOOL, dims: need(node, ins, 0).dims }];
elementwiseRules['PRelu'] = (node, ins) => [
  { dtype: need(node, ins, 0).dtype, dims: broadcastDims(need(node, ins, 0).dims, need(node, ins, 1).dims) },
];
elementwiseRules['Dropout'] = (node, ins) => {
  const x = need(node, ins, 0);
  return [x, { dtype: DataType.BOOL, dims: x.dims }];
};
elementwiseRules['LayerNormalization'] = (node, ins) => {
  const x = need(node, ins, 0);
  const axis = intAttr(node, 'axis', -1);
  const a = axis < 0 ? axis + x.dims.length : axis;
  const stat = x.dims.map((d, i) => (i < a ? d : 1));
  return [
    { dtype: x.dtype, dims: x.dims },
    { dtype: DataType.FLOAT, dims: stat },
    { dtype: DataType.FLOAT, dims: stat },
  ];
};
elementwiseRules['Where'] = (node, ins) => {
  const [c, a, b] = [need(node, ins, 0), need(node, ins, 1), need(node, ins, 2)];
  const dims = broadcastDims(c.dims, a.dims, b.dims);
  if (!c.value || !a.value || !b.value || numel(dims) > 4096) return [{ dtype: a.dtype, dims }];
  const [cv, av, bv] = [c, a, b].map((t) => broadcastValue(t.value!, t.dims, dims));
  return [
    withValue(
      a.dtype,
      dims,
      cv!.map((v, i) => (v ? av![i]! : bv![i]!)),
    ),
  ];
};
elementwiseRules['Cast'] = (node, ins) => {
  const x = need(node, ins, 0);
  const to = intAttr(node, 'to', DataType.UNDEFINED);
  const value = x.value && (isIntegerType(to) ? x.value.map((v) => (to === DataType.BOOL ? Number(v !== 0) : Math.trunc(v))) : x.value);
  return [withValue(to, x.dims, value)];
};
elementwiseRules['CastLike'] = (node, ins) => [withValue(need(node, ins, 1).dtype, need(node, ins, 0).dims, need(node, ins, 0).value)];
