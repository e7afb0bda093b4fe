/**
 * Seeded feeds for a U-Net session (synthetic or exported): the inputs a diffusers U-Net takes, filled with
 * deterministic N(0, 1) draws, for benchmarks and tests that run a graph without a text encoder.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { fillNormal } from './random.js';

/** Dims of each U-Net input for a batch at latent size h×w, for the input names a session reports. */
export interface UnetFeedShape {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly contextDim: number;
  readonly textEmbedDim?: number;
}

/**
 * Seeded float32 feeds for the U-Net inputs: `sample` N(0,1), `timestep` [t], `encoder_hidden_states` N(0,1),
 * `text_embeds` N(0,1), `time_ids` = (8h, 8w, 0, 0, 8h, 8w) per row.
 */
export function unetFeeds(s: UnetFeedShape, t: number, seed: number): Record<string, ort.Tensor> {
  const { batch: n, height: h, width: w } = s;
  const normal = (name: string, dims: number[]) =>
    new ort.Tensor('float32', fillNormal(new Float32Array(dims.reduce((a, b) => a * b, 1)), seed, name, 1), dims);
  const feeds: Record<string, ort.Tensor> = {
    sample: normal('sample', [n, 4, h, w]),
    timestep: new ort.Tensor('float32', Float32Array.from([t]), [1]),
    encoder_hidden_states: normal('encoder_hidden_states', [n, 77, s.contextDim]),
  };
  if (s.textEmbedDim !== undefined) {
    feeds.text_embeds = normal('text_embeds', [n, s.textEmbedDim]);
    const ids = new Float32Array(n * 6);
    for (let r = 0; r < n; r++) ids.set([8 * h, 8 * w, 0, 0, 8 * h, 8 * w], r * 6);
    feeds.time_ids = new ort.Tensor('float32', ids, [n, 6]);
  }
  return feeds;
}
