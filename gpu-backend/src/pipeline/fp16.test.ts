import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { makeModelDirectory } from '../synthetic/model-directory.js';
import { loadPipeline } from './load.js';
import type { JobResult } from './port.js';
import type { StableDiffusionPipeline } from './sd-pipeline.js';

const input: ResolvedInput = {
  prompt: 'a lighthouse',
  negative_prompt: '',
  width: 64,
  height: 64,
  num_inference_steps: 4,
  guidance_scale: 2,
  seed: 3,
  scheduler: 'ddim',
  num_outputs: 1,
  output_format: 'png',
  output_quality: 90,
  deepcache: { cache_interval: 2, cache_branch_id: 2, schedule: 'uniform' },
};

async function generate(p: StableDiffusionPipeline): Promise<Uint8Array> {
  const [r] = await p.run([{ id: 'x', input, signal: new AbortController().signal }]);
  if (!r || r instanceof Error) throw r ?? new Error('no result');
  return (r as JobResult).images[0]!.rgb;
}

describe('fp16 model directories', () => {
  let root: string;
  let fp32: StableDiffusionPipeline;
  let fp16: StableDiffusionPipeline;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'fp16-'));
    await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: path.join(root, 'fp32'), seed: 11 });
    await makeModelDirectory({ arch: 'sd15', scale: 'tiny', fp16: true, out: path.join(root, 'fp16'), seed: 11 });
    fp32 = await loadPipeline({ modelId: 'fp32', modelDir: path.join(root, 'fp32'), providers: ['cpu'] });
    fp16 = await loadPipeline({ modelId: 'fp16', modelDir: path.join(root, 'fp16'), providers: ['cpu'] });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([fp32?.dispose(), fp16?.dispose()]);
    await rm(root, { recursive: true, force: true });
  });

  it('runs with DeepCache, casting at the graph boundaries, deterministically and close to the fp32 model', async () => {
    const a = await generate(fp16);
    const b = await generate(fp16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const ref = await generate(fp32);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - ref[i]!);
    const meanDiff = sum / a.length;
    console.log(`fp16 vs fp32 mean |Δ| = ${meanDiff.toFixed(3)} levels`);
    expect(meanDiff).toBeLessThan(1);
  });
});
