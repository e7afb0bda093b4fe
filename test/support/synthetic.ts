/**
 * Test helpers for the synthetic models: seeded feeds for a U-Net session, CPU sessions, summary statistics.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { fillNormal } from '../../gpu-backend/src/synthetic/random.js';

/** A CPU session with one intra-op thread (tests share two cores). */
export function cpuSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

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

/** Mean and standard deviation; NaN when any value is not finite. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) return { mean: Number.NaN, std: Number.NaN };
    s += v; s2 += v * v;
  }
  const mean = s / values.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / values.length - mean * mean)) };
}
