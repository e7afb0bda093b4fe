/**
 * The signature of a per-op shape rule.
 * @module
 */
import type { NodeProto } from '../types.js';
import type { TensorInfo } from './tensor-info.js';

/** Context a rule may need: the default-domain opset version (attribute vs input forms changed across opsets). */
export interface RuleContext {
  readonly opset: number;
}

/** Inputs of a node as inferred (undefined for an omitted optional input). */
export type RuleInputs = ReadonlyArray<TensorInfo | undefined>;

/** Computes the infos of a node's outputs (in output order) from its inputs. */
export type ShapeRule = (node: NodeProto, ins: RuleInputs, ctx: RuleContext) => TensorInfo[];

/** The i-th input or a clear error. */
export function need(node: NodeProto, ins: RuleInputs, i: number): TensorInfo {
  const t = ins[i];
  if (!t) throw new Error(`${node.opType} ${node.name ?? ''}: input ${i} is missing`);
  return t;
}

/** The constant value of the i-th input or a clear error (shape arithmetic must be constant for concrete dims). */
export function needValue(node: NodeProto, ins: RuleInputs, i: number): readonly number[] {
  const v = need(node, ins, i).value;
  if (!v) throw new Error(`${node.opType} ${node.name ?? ''}: input ${i} (${node.input[i]}) is not a known constant`);
  return v;
}
