import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { makeModelDirectory } from '../synthetic/model-directory.js';
import { loadPipeline } from './load.js';
import type { ImageJob, JobResult } from './port.js';
import type { StableDiffusionPipeline } from './sd-pipeline.js';

const base: ResolvedInput = {
  prompt: 'a lighthouse at dusk',
  negative_prompt: 'blurry',
  width: 64,
  height: 64,
  num_inference_steps: 6,
  guidance_scale: 7.5,
  seed: 1234,
  scheduler: 'ddim',
  num_outputs: 1,
  output_format: 'png',
  output_quality: 90,
  deepcache: { cache_interval: 3, cache_branch_id: 1, schedule: 'uniform' },
};

const job = (input: Partial<ResolvedInput>, id = 'job'): ImageJob => ({
  id,
  input: { ...base, ...input },
  signal: new AbortController().signal,
});

function ok(r: JobResult | Error | undefined): JobResult {
  if (!r || r instanceof Error) throw r ?? new Error('no result');
  return r;
}

const bytes = (r: JobResult) => Buffer.concat(r.images.map((i) => Buffer.from(i.rgb)));

describe.each(['sd15', 'sd21', 'sdxl'] as const)('StableDiffusionPipeline on a tiny synthetic %s model', (arch) => {
  let dir: string;
  let pipeline: StableDiffusionPipeline;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `sd-pipeline-${arch}-`));
    await makeModelDirectory({ arch, scale: 'tiny', out: dir, seed: 7 });
    pipeline = await loadPipeline({ modelId: `${arch}-tiny`, modelDir: dir, providers: ['cpu'], deepcacheBranches: [0] });
  }, 180_000);

  afterAll(async () => {
    await pipeline?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('generates an RGB image of the requested size, the same bytes twice for the same seed', async () => {
    const [a] = await pipeline.run([job({ width: 128, height: 64 })]);
    const [b] = await pipeline.run([job({ width: 128, height: 64 })]);
    expect(ok(a).images[0]).toMatchObject({ width: 128, height: 64 });
    expect(ok(a).images[0]!.rgb).toHaveLength(128 * 64 * 3);
    expect(bytes(ok(a)).equals(bytes(ok(b)))).toBe(true);
    const [c] = await pipeline.run([job({ width: 128, height: 64, seed: 99 })]);
    expect(bytes(ok(a)).equals(bytes(ok(c)))).toBe(false);
  });

  it('refuses sizes the exported U-Net cannot run with a clear error', async () => {
    const multiple = arch === 'sdxl' ? 32 : 64;
    const [r] = await pipeline.run([job({ width: 64, height: multiple + 8 })]);
    expect(r).toBeInstanceOf(RangeError);
    expect((r as Error).message).toContain(`multiples of ${multiple}`);
  });

  it('counts full and shallow U-Net steps by the DeepCache plan', async () => {
    const [r] = await pipeline.run([job({ num_inference_steps: 7 })]);
    expect(ok(r)).toMatchObject({ unetFullSteps: 3, unetShallowSteps: 4 });
    const [plain] = await pipeline.run([job({ deepcache: false })]);
    expect(ok(plain)).toMatchObject({ unetFullSteps: 6, unetShallowSteps: 0 });
  });

  it('reproduces the plain pipeline exactly with cache_interval 1', async () => {
    const [plain] = await pipeline.run([job({ deepcache: false })]);
    const [i1] = await pipeline.run([job({ deepcache: { cache_interval: 1, cache_branch_id: 5, schedule: 'uniform' } })]);
    expect(bytes(ok(i1)).equals(bytes(ok(plain)))).toBe(true);
  });

  it('gives each job of a batch the image it gets alone (own seed, prompts, guidance, outputs)', async () => {
    const a = job({ seed: 1, prompt: 'red', guidance_scale: 3 }, 'a');
    const b = job({ seed: 2, prompt: 'blue', negative_prompt: '', guidance_scale: 9, num_outputs: 2 }, 'b');
    const [ra, rb] = await pipeline.run([a, b]);
    const [aloneA] = await pipeline.run([a]);
    const [aloneB] = await pipeline.run([b]);
    expect(bytes(ok(ra)).equals(bytes(ok(aloneA)))).toBe(true);
    expect(bytes(ok(rb)).equals(bytes(ok(aloneB)))).toBe(true);
    expect(ok(rb).images).toHaveLength(2);
  });

  it('prepares a DeepCache branch on first use and serves every scheduler', async () => {
    for (const scheduler of ['pndm', 'euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_2m_karras'] as const) {
      const [r] = await pipeline.run([
        job({ scheduler, deepcache: { cache_interval: 2, cache_branch_id: arch === 'sdxl' ? 8 : 11, schedule: 'uniform' } }),
      ]);
      expect(
        ok(r).images[0]!.rgb.some((v) => v !== ok(r).images[0]!.rgb[0]),
        `${scheduler} image is not flat`,
      ).toBe(true);
    }
  });

  it('stops between steps when every job of the batch is aborted', async () => {
    const ctrl = new AbortController();
    const steps: number[] = [];
    const [r] = await pipeline.run([
      {
        id: 'x',
        input: { ...base, num_inference_steps: 20 },
        signal: ctrl.signal,
        onProgress: (p) => {
          steps.push(p.step);
          if (p.step === 3) ctrl.abort(new DOMException('canceled', 'AbortError'));
        },
      },
    ]);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).name).toBe('AbortError');
    expect(Math.max(...steps)).toBe(3);
  });

  it('a job canceled mid-batch leaves the batch at the next step: no U-Net work after its cancel, the others unchanged', async () => {
    // 12 DDIM steps, DeepCache interval 3 (the cancel at step 4 lands between a full step and its shallow steps, so
    // the cached feature loses the canceled rows too), CFG: 2 U-Net rows per image.
    for (const scheduler of ['ddim', 'pndm', 'dpmpp_2m', 'euler_ancestral'] as const) {
      const input = { num_inference_steps: 12, scheduler };
      const ctrl = new AbortController();
      let loopSteps = 0;
      const canceled: ImageJob = {
        id: 'canceled',
        input: { ...base, ...input, seed: 5, num_outputs: 2 },
        signal: ctrl.signal,
        onProgress: (p) => {
          loopSteps = p.total;
          if (p.step === 4) ctrl.abort(new DOMException('canceled', 'AbortError'));
        },
      };
      const a = job({ ...input, seed: 1, prompt: 'red', guidance_scale: 3 }, 'a');
      const b = job({ ...input, seed: 2, prompt: 'blue', guidance_scale: 9 }, 'b');
      const before = { ...pipeline.usage };
      const [ra, rc, rb] = await pipeline.run([a, canceled, b]);
      const spent = {
        rows: pipeline.usage.unetRows - before.unetRows,
        afterAbort: pipeline.usage.unetRowsAfterAbort - before.unetRowsAfterAbort,
      };
      expect(rc, scheduler).toBeInstanceOf(Error);
      expect((rc as Error).name).toBe('AbortError');
      // Loop steps 1–4 ran with all 4 images (8 rows), the rest (8; PLMS 9) with the 2 others (4 rows). Before the
      // fix the canceled job's 4 rows stayed in every call: 8 rows × every step.
      expect(spent, scheduler).toEqual({ rows: 4 * 8 + (loopSteps - 4) * 4, afterAbort: 0 });
      const [aloneA, aloneB] = [(await pipeline.run([a]))[0], (await pipeline.run([b]))[0]];
      expect(bytes(ok(ra)).equals(bytes(ok(aloneA))), `${scheduler}: a`).toBe(true);
      expect(bytes(ok(rb)).equals(bytes(ok(aloneB))), `${scheduler}: b`).toBe(true);
    }
  });

  it('keeps the split graphs on disk and reuses them on the next load', async () => {
    const cacheRoot = path.join(dir, 'unet', '.deepcache');
    const [fingerprint] = await readdir(cacheRoot);
    const full = path.join(cacheRoot, fingerprint!, 'full.onnx');
    const before = (await stat(full)).mtimeMs;
    const again = await loadPipeline({ modelId: 'again', modelDir: dir, providers: ['cpu'] });
    await again.dispose();
    expect((await stat(full)).mtimeMs).toBe(before);
    expect(await readdir(path.join(cacheRoot, fingerprint!))).toEqual(
      expect.arrayContaining(['full.onnx', 'shallow-0.onnx', 'manifest.json']),
    );
  });
});
