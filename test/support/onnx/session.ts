/**
 * Test helpers: an onnxruntime-node CPU session from bytes or a path, and running it on float32 feeds.
 * @module
 */
import * as ort from 'onnxruntime-node';
import type { FixtureTensor } from '../fixtures.js';

/** Creates a CPU session (single intra-op thread keeps test runs predictable on shared machines). */
export function cpuSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/**
 * Runs a session on float32 feeds and returns the requested outputs as float32 tensors.
 * @throws Error naming every feed the session needs that is missing
 */
export async function runFloat32(
  session: ort.InferenceSession,
  feeds: Readonly<Record<string, FixtureTensor>>,
  outputNames: readonly string[] = session.outputNames,
): Promise<Record<string, FixtureTensor>> {
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length > 0) throw new Error(`missing feeds: ${missing.join(', ')}`);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const t = feeds[name]!;
    ortFeeds[name] = new ort.Tensor('float32', t.data, [...t.dims]);
  }
  const results = await session.run(ortFeeds, [...outputNames]);
  const out: Record<string, FixtureTensor> = {};
  for (const name of outputNames) {
    const r = results[name];
    if (!r) throw new Error(`session returned no ${name}`);
    out[name] = { data: r.data as Float32Array, dims: [...r.dims] };
  }
  return out;
}
