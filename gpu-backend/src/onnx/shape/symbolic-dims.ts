/**
 * Symbolic dims of a tensor, recovered from concrete shape inference by probing: every symbolic input dim
 * (`dim_param`) is set to 8, then each one in turn to 16, and a tensor dim that moves with a parameter p is
 * written `p`, `k*p` or `p/k`.
 * @module
 */
import type { DimSpec } from '../builders.js';
import type { ModelProto } from '../types.js';
import { inferShapesCached, type InferShapesOptions, type InputDims } from './infer-shapes.js';

const BASE = 8;
const PROBE = 16;

/** The symbolic parameters of the graph inputs in order of first appearance. */
function inputParams(model: ModelProto): string[] {
  const params: string[] = [];
  for (const v of model.graph.input) {
    for (const d of v.type?.tensorType?.shape?.dim ?? []) if (d.dimParam && !params.includes(d.dimParam)) params.push(d.dimParam);
  }
  return params;
}

/** Concrete input dims with each parameter set from `values` (default 8). */
export function probeInputDims(model: ModelProto, values: Readonly<Record<string, number>> = {}): InputDims {
  const init = new Set(model.graph.initializer.map((t) => t.name));
  const out: Record<string, number[]> = {};
  for (const v of model.graph.input) {
    if (init.has(v.name)) continue;
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    out[v.name] = dims.map((d) => d.dimValue ?? (d.dimParam ? (values[d.dimParam] ?? BASE) : BASE));
  }
  return out;
}

function label(param: string, d1: number, d2: number): DimSpec {
  const slope = (d2 - d1) / (PROBE - BASE);
  if (d1 - slope * BASE !== 0) return null;
  if (slope === 1) return param;
  if (Number.isInteger(slope)) return `${slope}*${param}`;
  const inv = 1 / slope;
  return Number.isInteger(inv) ? `${param}/${inv}` : null;
}

/**
 * Symbolic dims of `tensor`: numbers for dims that no parameter moves, names/expressions for the others,
 * null where no single parameter explains the change. Parameters that cannot move alone (e.g. a timestep length
 * that must equal the batch) are moved together with one other parameter; the first parameter wins the label.
 * @throws Error when the tensor's shape cannot be inferred at the base probe
 */
export function inferSymbolicDims(model: ModelProto, tensor: string, options: InferShapesOptions = {}): DimSpec[] {
  const base = inferShapesCached(model, probeInputDims(model), options).get(tensor);
  if (!base) throw new Error(`inferSymbolicDims: shape of ${tensor} is unknown`);
  const params = inputParams(model);
  const out: DimSpec[] = [...base.dims];
  const labelled = new Set<number>();
  params.forEach((p, i) => {
    for (let j = i; j < params.length; j++) {
      const values: Record<string, number> = { [p]: PROBE, [params[j]!]: PROBE };
      let moved: ReturnType<ReturnType<typeof inferShapesCached>['get']>;
      try {
        moved = inferShapesCached(model, probeInputDims(model, values), options).get(tensor);
      } catch {
        continue; // this parameter cannot move alone: try it together with the next one
      }
      if (!moved) continue;
      moved.dims.forEach((d2, k) => {
        if (d2 !== base.dims[k] && !labelled.has(k)) {
          labelled.add(k);
          out[k] = label(p, base.dims[k]!, d2);
        }
      });
      break;
    }
  });
  return out;
}
