/**
 * Seeded, reproducible Gaussian noise: Philox4x32-10 + Box–Muller, float64 → float32.
 *
 * Definition (so any implementation can reproduce it): a stream is identified by a uint32 `seed` and a uint32
 * `stream` id; Philox key = `[seed, stream]`. Normal number j (j = 0, 1, 2, …) comes from block b = ⌊j/2⌋:
 * `[x0, x1, x2, x3] = philox4x32_10([b mod 2³², ⌊b/2³²⌋, 0, 0], key)`,
 * `u1 = 1 − ((x0 >>> 5)·2²⁶ + (x1 >>> 6)) / 2⁵³` ∈ (0, 1], `u2 = ((x2 >>> 5)·2²⁶ + (x3 >>> 6)) / 2⁵³` ∈ [0, 1),
 * `r = √(−2 ln u1)`, normal 2b = r·cos(2π u2), normal 2b+1 = r·sin(2π u2), each rounded to float32.
 * A source draws the normals in order: `randn` fills row-major and advances the position, so draws do not
 * depend on how they are split into calls. Bit-equality with torch's generator is not a goal.
 * @module
 */
import { numel, tensor, type Tensor } from '../tensor/tensor.js';
import type { NoiseSource } from './noise-source.js';
import { philox4x32_10 } from './philox.js';

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

/** Checks that `v` is an integer usable as a uint32 seed or stream id. */
function assertUint32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= TWO_POW_32) throw new RangeError(`${what} must be an integer in [0, 2^32), got ${v}`);
  return v;
}

/** One Philox Gaussian stream (see the module doc for the exact definition). */
export class PhiloxNoiseSource implements NoiseSource {
  readonly seed: number;
  readonly stream: number;
  readonly #key: Uint32Array;
  readonly #ctr = new Uint32Array(4);
  readonly #out = new Uint32Array(4);
  #position = 0;

  /**
   * @param seed uint32 seed (the request's seed)
   * @param stream uint32 stream id, for independent streams under one seed (default 0)
   */
  constructor(seed: number, stream = 0) {
    this.seed = assertUint32(seed, 'seed');
    this.stream = assertUint32(stream, 'stream');
    this.#key = Uint32Array.of(seed, stream);
  }

  /** Index of the next normal this source will draw. */
  get position(): number {
    return this.#position;
  }

  /** Draws `numel(dims)` normals into a new float32 tensor, row-major. */
  randn(dims: readonly number[]): Tensor {
    const out = new Float32Array(numel(dims));
    this.fill(out);
    return tensor(out, dims);
  }

  /** Fills `out[offset .. offset+count)` with the next `count` normals. */
  fill(out: Float32Array, offset = 0, count = out.length - offset): void {
    let j = this.#position;
    const end = j + count;
    let o = offset;
    while (j < end) {
      const b = Math.floor(j / 2);
      this.#ctr[0] = b % TWO_POW_32;
      this.#ctr[1] = Math.floor(b / TWO_POW_32);
      const x = philox4x32_10(this.#ctr, this.#key, this.#out);
      const u1 = 1 - ((x[0]! >>> 5) * 67108864 + (x[1]! >>> 6)) / TWO_POW_53;
      const u2 = ((x[2]! >>> 5) * 67108864 + (x[3]! >>> 6)) / TWO_POW_53;
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      if (j % 2 === 0) {
        out[o++] = r * Math.cos(theta);
        j += 1;
        if (j >= end) break;
      }
      out[o++] = r * Math.sin(theta);
      j += 1;
    }
    this.#position = end;
  }
}

/**
 * Noise for a batch: one independent stream per batch row, so a request gets the same values alone or batched.
 * `randn(dims)` requires `dims[0]` = number of rows and fills row r from stream r.
 */
export class RowNoiseSource implements NoiseSource {
  readonly rows: readonly PhiloxNoiseSource[];

  constructor(rows: readonly PhiloxNoiseSource[]) {
    if (rows.length === 0) throw new RangeError('RowNoiseSource needs at least one row stream');
    this.rows = rows;
  }

  /** @param dims `[B, ...rowDims]` with B = `rows.length` */
  randn(dims: readonly number[]): Tensor {
    if (dims[0] !== this.rows.length) {
      throw new RangeError(`RowNoiseSource has ${this.rows.length} row streams, asked for dims [${dims.join(', ')}]`);
    }
    const out = new Float32Array(numel(dims));
    const per = out.length / this.rows.length;
    for (const [r, src] of this.rows.entries()) src.fill(out, r * per, per);
    return tensor(out, dims);
  }
}

/** A fresh stream per seed (stream id 0), combined row-wise. */
export function rowNoiseFromSeeds(seeds: readonly number[]): RowNoiseSource {
  return new RowNoiseSource(seeds.map((s) => new PhiloxNoiseSource(s)));
}

/**
 * Initial latents for a batch of requests: row r is the first `numel(rowDims)` normals of seed r's stream,
 * identical to what that request draws alone.
 * @param rowDims per-request dims, e.g. `[4, H/8, W/8]`
 * @returns float32 `[seeds.length, ...rowDims]`
 */
export function randnRows(seeds: readonly number[], rowDims: readonly number[]): Tensor {
  return rowNoiseFromSeeds(seeds).randn([seeds.length, ...rowDims]);
}
