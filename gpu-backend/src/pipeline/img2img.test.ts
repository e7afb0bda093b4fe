/**
 * Image-to-image and inpainting beyond the reference fixture (which covers SD 1.5 with DDIM/PLMS/Euler/DPM++ only):
 * invariants on tiny synthetic SD 1.5 / 2.1 / SDXL models (real ONNX graphs through onnxruntime) for every
 * scheduler, with DeepCache on, and the pipeline's per-request determinism.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeepCacheSettings } from '../../../shared/deepcache.js';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { SchedulerName } from '../../../shared/scheduler.js';
import { readModelDirectory } from '../models/model-directory.js';
import { PhiloxNoiseSource } from '../noise/philox-noise.js';
import { createScheduler } from '../schedulers/registry.js';
import { makeModelDirectory } from '../synthetic/model-directory.js';
import { UNET_SPECS } from '../synthetic/unet-config.js';
import type { Tensor } from '../tensor/tensor.js';
import { denoise } from './denoise.js';
import { FeatureCache } from './feature-cache.js';
import { imageRunCache, imageToTensor, minimumStrength, sampleFromImage, strengthSchedule } from './img2img.js';
import { load as loadAll } from '../../../test/support/pipeline/img2img.js';
import { loadPipeline } from './load.js';
import type { ImageJob, JobResult } from './port.js';
import type { StableDiffusionPipeline } from './sd-pipeline.js';

const DC: DeepCacheSettings = { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' };
const STEPS = 10;
const SIDE = 64;

/** A smooth deterministic test picture (8-bit RGB, HWC). */
function picture(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = Math.round(127.5 + 120 * Math.sin((x * (c + 1)) / 9 + y / 13));
  return rgb;
}

function meanAbsDiff(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
}

const constant = (dims: number[], v: number): Tensor => ({ data: new Float32Array(dims.reduce((p, d) => p * d, 1)).fill(v), dims });

describe.each(['sd15', 'sd21', 'sdxl'] as const)('image-to-image on a tiny synthetic %s model', (arch) => {
  let dir: string;
  let m: Awaited<ReturnType<typeof loadAll>>;
  let imageLatents: Tensor;
  const h = SIDE / 8;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `img2img-${arch}-`));
    await makeModelDirectory({ arch, scale: 'tiny', out: dir, seed: 3 });
    m = await loadAll(
      await readModelDirectory(dir),
      UNET_SPECS[arch].tiny,
      JSON.parse(await readFile(path.join(dir, 'scheduler/scheduler_config.json'), 'utf8')),
    );
    imageLatents = await m.encoder.encode(imageToTensor(picture(SIDE, SIDE), SIDE, SIDE), new PhiloxNoiseSource(11).randn([1, 4, h, h]));
  }, 180_000);

  afterAll(async () => {
    await m?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const noise = () => new PhiloxNoiseSource(5).randn([1, 4, h, h]);

  it.each(SchedulerName.options)(
    '%s: inpainting at strength 1 with an all-ones mask equals text-to-image from the same noise',
    async (name) => {
      const txt = createScheduler(name, m.schedulerConfig);
      txt.setTimesteps(STEPS);
      const a = await denoise({
        unet: m.unet,
        scheduler: txt,
        latents: noise(),
        cond: m.cond,
        guidanceScales: [7.5],
        cache: FeatureCache.forRun(txt.timesteps.length, STEPS, DC),
        noise: new PhiloxNoiseSource(99),
      });
      const inp = createScheduler(name, m.schedulerConfig);
      inp.setTimesteps(STEPS);
      const schedule = strengthSchedule(inp, STEPS, 1);
      const b = await sampleFromImage({
        unet: m.unet,
        scheduler: inp,
        schedule,
        imageLatents,
        noise: noise(),
        inpaint: { mask: constant([1, 1, h, h], 1) },
        cond: m.cond,
        guidanceScales: [7.5],
        cache: imageRunCache(schedule, DC),
        noiseSource: new PhiloxNoiseSource(99),
      });
      expect(b.stepKinds).toEqual(a.stepKinds);
      expect(b.stepKinds).toContain('shallow');
      expect(Array.from(b.latents.data)).toEqual(Array.from(a.latents.data));
    },
  );

  it.each(SchedulerName.options)('%s: with the regular U-Net a zero mask returns the input latents untouched', async (name) => {
    const s = createScheduler(name, m.schedulerConfig);
    s.setTimesteps(STEPS);
    const schedule = strengthSchedule(s, STEPS, 0.6);
    const r = await sampleFromImage({
      unet: m.unet,
      scheduler: s,
      schedule,
      imageLatents,
      noise: noise(),
      inpaint: { mask: constant([1, 1, h, h], 0) },
      cond: m.cond,
      guidanceScales: [7.5],
      cache: imageRunCache(schedule, DC),
      noiseSource: new PhiloxNoiseSource(99),
    });
    expect(r.stepKinds).toHaveLength(schedule.runLength);
    expect(Array.from(r.latents.data)).toEqual(Array.from(imageLatents.data));
  });

  it.each(SchedulerName.options)(
    '%s: at the smallest strength that runs one step the image stays closer to its VAE round trip than at strength 1',
    async (name) => {
      const run = async (strength: number) => {
        const s = createScheduler(name, m.schedulerConfig);
        s.setTimesteps(STEPS);
        const schedule = strengthSchedule(s, STEPS, strength);
        const r = await sampleFromImage({
          unet: m.unet,
          scheduler: s,
          schedule,
          imageLatents,
          noise: noise(),
          cond: m.cond,
          guidanceScales: [7.5],
          cache: imageRunCache(schedule, DC),
          noiseSource: new PhiloxNoiseSource(99),
        });
        return { schedule, image: await m.decoder.decode(r.latents) };
      };
      const roundTrip = await m.decoder.decode(imageLatents);
      const near = await run(minimumStrength(STEPS));
      const far = await run(1);
      expect(near.schedule.tStart).toBe(STEPS - 1);
      expect(far.schedule.tStart).toBe(0);
      expect(meanAbsDiff(near.image, roundTrip)).toBeLessThan(meanAbsDiff(far.image, roundTrip));
    },
  );
});

describe('strengthSchedule', () => {
  it('follows get_timesteps: ⌊n·strength⌋ steps kept, PLMS begins at t_start of its n + 1 calls', () => {
    const config = {
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      steps_offset: 1,
      skip_prk_steps: true,
    };
    const pndm = createScheduler('pndm', config);
    pndm.setTimesteps(10);
    expect(strengthSchedule(pndm, 10, 0.3)).toMatchObject({ initTimestep: 3, tStart: 7, beginIndex: 7, runLength: 4 });
    expect(strengthSchedule(pndm, 10, 1)).toMatchObject({ tStart: 0, beginIndex: 0, runLength: 11 });
    expect(() => strengthSchedule(pndm, 10, 0.09)).toThrow(RangeError);
    expect(Math.trunc(49 * minimumStrength(49))).toBe(1);
    expect(Math.trunc(49 * (1 / 49))).toBe(0);
  });
});

describe('StableDiffusionPipeline from an input image (tiny synthetic SDXL)', () => {
  let dir: string;
  let pipeline: StableDiffusionPipeline;
  const base: ResolvedInput = {
    prompt: 'a harbour at night',
    negative_prompt: '',
    width: SIDE,
    height: SIDE,
    num_inference_steps: 8,
    guidance_scale: 6,
    seed: 77,
    scheduler: 'euler_ancestral',
    num_outputs: 1,
    output_format: 'png',
    output_quality: 90,
    deepcache: DC,
    image: 'inputs/x/image.png',
    prompt_strength: 0.5,
  };
  const mask = new Uint8Array(SIDE * SIDE).map((_, i) => (i % SIDE < SIDE / 2 ? 255 : 0));
  const job = (input: Partial<ResolvedInput>, id = 'job'): ImageJob => ({
    id,
    input: { ...base, ...input },
    signal: new AbortController().signal,
    inputImages: { image: picture(SIDE, SIDE), ...(input.mask ? { mask } : {}) },
  });
  const ok = (r: JobResult | Error | undefined): JobResult => {
    if (!r || r instanceof Error) throw r ?? new Error('no result');
    return r;
  };
  const bytes = (r: JobResult) => Buffer.concat(r.images.map((i) => Buffer.from(i.rgb)));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'img2img-pipeline-'));
    await makeModelDirectory({ arch: 'sdxl', scale: 'tiny', out: dir, seed: 4 });
    pipeline = await loadPipeline({ modelId: 'sdxl-tiny', modelDir: dir, providers: ['cpu'], deepcacheBranches: [0] });
  }, 180_000);

  afterAll(async () => {
    await pipeline?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs only the steps the strength keeps, the same bytes for the same request, others for another seed', async () => {
    const steps: number[] = [];
    const [a] = await pipeline.run([{ ...job({}), onProgress: (p) => steps.push(p.total) }]);
    const [b] = await pipeline.run([job({})]);
    expect(ok(a).unetFullSteps + ok(a).unetShallowSteps).toBe(4);
    expect(new Set(steps)).toEqual(new Set([4]));
    expect(bytes(ok(a)).equals(bytes(ok(b)))).toBe(true);
    const [c] = await pipeline.run([job({ seed: 78 })]);
    expect(bytes(ok(a)).equals(bytes(ok(c)))).toBe(false);
  });

  it('gives each job of a batch the image it gets alone (img2img and inpainting)', async () => {
    for (const extra of [{}, { mask: 'inputs/x/mask.png' }]) {
      const [alone1] = await pipeline.run([job({ ...extra, seed: 1 })]);
      const [alone2] = await pipeline.run([job({ ...extra, seed: 2, num_outputs: 2 })]);
      const [b1, b2] = await pipeline.run([job({ ...extra, seed: 1 }, 'a'), job({ ...extra, seed: 2, num_outputs: 2 }, 'b')]);
      expect(bytes(ok(b1)).equals(bytes(ok(alone1)))).toBe(true);
      expect(bytes(ok(b2)).equals(bytes(ok(alone2)))).toBe(true);
    }
  });

  it('drops an image job canceled mid-batch at the next step: no U-Net work after its cancel, the others unchanged', async () => {
    // 8 steps at strength 0.5 run 4 loop steps; the cancel lands after run step 2. CFG: 2 U-Net rows per image.
    for (const extra of [{}, { mask: 'inputs/x/mask.png' }]) {
      const ctrl = new AbortController();
      const canceled: ImageJob = {
        ...job({ ...extra, seed: 3, num_outputs: 2 }, 'canceled'),
        signal: ctrl.signal,
        onProgress: (p) => {
          if (p.step === 2) ctrl.abort(new DOMException('canceled', 'AbortError'));
        },
      };
      const before = { ...pipeline.usage };
      const [r1, rc, r2] = await pipeline.run([job({ ...extra, seed: 1 }, 'a'), canceled, job({ ...extra, seed: 2 }, 'b')]);
      const spent = {
        rows: pipeline.usage.unetRows - before.unetRows,
        afterAbort: pipeline.usage.unetRowsAfterAbort - before.unetRowsAfterAbort,
      };
      expect(rc).toBeInstanceOf(Error);
      expect((rc as Error).name).toBe('AbortError');
      // Run steps 1–2 with all 4 images (8 rows), steps 3–4 with the 2 others (4 rows).
      expect(spent).toEqual({ rows: 2 * 8 + 2 * 4, afterAbort: 0 });
      const [alone1] = await pipeline.run([job({ ...extra, seed: 1 })]);
      const [alone2] = await pipeline.run([job({ ...extra, seed: 2 })]);
      expect(bytes(ok(r1)).equals(bytes(ok(alone1)))).toBe(true);
      expect(bytes(ok(r2)).equals(bytes(ok(alone2)))).toBe(true);
    }
  });

  it('keeps the unmasked half of an inpainted image closer to the input than the repainted half', async () => {
    const [r] = await pipeline.run([job({ mask: 'inputs/x/mask.png', prompt_strength: 1 })]);
    const out = ok(r).images[0]!.rgb;
    const [round] = await pipeline.run([job({ mask: 'inputs/x/mask.png', prompt_strength: minimumStrength(8) })]);
    const ref = ok(round).images[0]!.rgb;
    let kept = 0;
    let repainted = 0;
    for (let i = 0; i < SIDE * SIDE; i++)
      for (let c = 0; c < 3; c++)
        (mask[i] ? (v: number) => (repainted += v) : (v: number) => (kept += v))(Math.abs(out[i * 3 + c]! - ref[i * 3 + c]!));
    expect(kept).toBeLessThan(repainted);
  });

  it('refuses a strength that leaves no step', async () => {
    const [r] = await pipeline.run([job({ prompt_strength: 0.1 })]);
    expect(r).toBeInstanceOf(RangeError);
    expect((r as Error).message).toMatch(/no denoising step/);
  });
});
