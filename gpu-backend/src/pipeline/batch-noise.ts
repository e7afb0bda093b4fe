/**
 * Noise for a batch of jobs: each job draws from its own seeded stream, so an image never depends on what else is
 * in its batch. A job with k outputs owns k consecutive rows and draws them as one [k, …] tensor, the way
 * diffusers draws a batch from one generator.
 * @module
 */
import type { NoiseSource } from '../noise/noise-source.js';
import type { Tensor } from '../tensor/tensor.js';
import { concatRows } from './guidance.js';

export class BatchNoise implements NoiseSource {
  #sources: readonly NoiseSource[];
  #rows: readonly number[];

  /**
   * @param sources one seeded stream per job
   * @param rows rows each job owns (its num_outputs), same order
   */
  constructor(sources: readonly NoiseSource[], rows: readonly number[]) {
    if (sources.length !== rows.length) throw new RangeError('one noise source per job');
    this.#sources = sources;
    this.#rows = rows;
  }

  get totalRows(): number {
    return this.#rows.reduce((a, b) => a + b, 0);
  }

  /** Draws [B, …] with B = total rows: each job's rows from its own stream. */
  randn(dims: readonly number[]): Tensor {
    if (dims[0] !== this.totalRows) throw new RangeError(`batch noise has ${this.totalRows} rows, asked for ${dims[0]}`);
    return concatRows(this.#sources.map((s, j) => s.randn([this.#rows[j]!, ...dims.slice(1)])));
  }
}
