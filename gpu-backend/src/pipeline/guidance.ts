/**
 * Classifier-free guidance and CFG batching, as pure functions.
 * @module
 */
import { numel, type Tensor } from '../tensor/tensor.js';

/**
 * Stacks tensors of equal dims along a new leading row axis: k tensors [n, …] → [k·n, …].
 */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0];
  if (!first) throw new RangeError('concatRows needs at least one tensor');
  const rest = first.dims.slice(1);
  let rows = 0;
  for (const p of parts) {
    if (p.dims.length !== first.dims.length || p.dims.slice(1).some((d, i) => d !== rest[i])) {
      throw new RangeError(`concatRows: dims [${p.dims.join(', ')}] do not match [${first.dims.join(', ')}]`);
    }
    rows += p.dims[0]!;
  }
  const data = new Float32Array(rows * numel(rest));
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { data, dims: [rows, ...rest] };
}

/** Rows [start, end) of a tensor [N, …] (a view: no copy). */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const rowSize = numel(t.dims.slice(1));
  return { data: t.data.subarray(start * rowSize, end * rowSize), dims: [end - start, ...t.dims.slice(1)] };
}

/**
 * Combines a CFG batch into guided noise: noise_b = uncond_b + s_b·(cond_b − uncond_b).
 * @param out [2B, C, H, W]: rows 0…B−1 unconditional, rows B…2B−1 conditional
 * @param scales guidance scale per row, length B
 * @returns [B, C, H, W]
 */
export function applyGuidance(out: Tensor, scales: readonly number[]): Tensor {
  const b = scales.length;
  if (out.dims[0] !== 2 * b) throw new RangeError(`applyGuidance: expected ${2 * b} rows, got ${out.dims[0]}`);
  const rowSize = numel(out.dims.slice(1));
  const half = b * rowSize;
  const data = new Float32Array(half);
  for (let r = 0; r < b; r++) {
    const s = Math.fround(scales[r]!);
    const base = r * rowSize;
    for (let i = base; i < base + rowSize; i++) {
      const u = out.data[i]!;
      data[i] = u + s * (out.data[half + i]! - u);
    }
  }
  return { data, dims: [b, ...out.dims.slice(1)] };
}
