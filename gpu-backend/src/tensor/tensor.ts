/**
 * The plain tensor value the numeric code passes around: row-major float32 data with its dims.
 * Numeric functions are pure, take and return `Tensor`s, and check dims on entry.
 * @module
 */

/** A dense row-major float32 tensor. `data.length === product(dims)`. */
export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Number of elements of a tensor with these dims (1 for a scalar `[]`). */
export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Builds a tensor, checking that the data length matches the dims.
 * @throws RangeError when `data.length !== numel(dims)`
 */
export function tensor(data: Float32Array, dims: readonly number[]): Tensor {
  if (data.length !== numel(dims)) {
    throw new RangeError(`tensor data has ${data.length} elements, dims [${dims.join(', ')}] need ${numel(dims)}`);
  }
  return { data, dims: [...dims] };
}

/** A zero-filled tensor of the given dims. */
export function zeros(dims: readonly number[]): Tensor {
  return { data: new Float32Array(numel(dims)), dims: [...dims] };
}

/**
 * Asserts that `t` has exactly `expected` dims; `-1` in `expected` matches any size.
 * @throws RangeError naming `what` and both shapes
 */
export function assertDims(t: Tensor, expected: readonly number[], what: string): void {
  const ok = t.dims.length === expected.length && expected.every((d, i) => d === -1 || d === t.dims[i]);
  if (!ok) {
    throw new RangeError(`${what}: expected dims [${expected.join(', ')}], got [${t.dims.join(', ')}]`);
  }
}

/** True when both dims lists are equal. */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
