/**
 * `generate --model <dir> --prompt <text> … --out <file.png|.webp|.jpg>`: text-to-image with DeepCache on a model
 * directory; prints timings per stage and the full/shallow U-Net step counts.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DeepCacheSettings } from '../../../../shared/deepcache.js';
import { MAX_SEED, type ResolvedInput } from '../../../../shared/prediction.js';
import { SchedulerName } from '../../../../shared/scheduler.js';
import { encodeImage, type ImageFormat } from '../../image/encode.js';
import { loadPipeline } from '../../pipeline/load.js';
import { numeric, parseOptions, UsageError, type Command } from '../command.js';

const Options = z.strictObject({
  model: z.string().min(1),
  prompt: z.string().min(1).max(2000),
  'negative-prompt': z.string().max(2000).default(''),
  steps: numeric(z.number().int().min(1).max(150)).default(25),
  scheduler: SchedulerName.default('dpmpp_2m_karras'),
  guidance: numeric(z.number().min(0).max(30)).default(7.5),
  seed: numeric(z.number().int().min(0).max(MAX_SEED)).optional(),
  width: numeric(z.number().int().min(64).max(2048)).optional(),
  height: numeric(z.number().int().min(64).max(2048)).optional(),
  'cache-interval': numeric(z.number().int().min(1).max(20)).default(3),
  'cache-branch': numeric(z.number().int().min(0).max(11)).default(0),
  'no-deepcache': z.boolean().default(false),
  nonuniform: z.boolean().default(false),
  center: numeric(z.number().int().min(0)).optional(),
  power: numeric(z.number().gt(1).max(4)).optional(),
  provider: z.enum(['cpu', 'webgpu', 'cuda']).default('cpu'),
  quality: numeric(z.number().int().min(1).max(100)).default(90),
  out: z.string().regex(/\.(png|webp|jpe?g)$/i, 'must end in .png, .webp or .jpg'),
});

const formatOf = (file: string): ImageFormat => {
  const ext = path.extname(file).slice(1).toLowerCase();
  return ext === 'jpg' || ext === 'jpeg' ? 'jpeg' : (ext as ImageFormat);
};

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;

export const generate: Command = {
  usage:
    'generate --model <dir> --prompt <text> [--negative-prompt] [--steps 25] [--scheduler dpmpp_2m_karras] [--guidance 7.5] [--seed] [--width --height] ' +
    '[--cache-interval 3 --cache-branch 0 | --no-deepcache] [--nonuniform --center --power] [--provider cpu|webgpu|cuda] --out <file.png|.webp|.jpg>',
  async run(argv, ctx) {
    const { values: v } = parseOptions(
      argv,
      {
        model: str,
        prompt: str,
        'negative-prompt': str,
        steps: str,
        scheduler: str,
        guidance: str,
        seed: str,
        width: str,
        height: str,
        'cache-interval': str,
        'cache-branch': str,
        'no-deepcache': bool,
        nonuniform: bool,
        center: str,
        power: str,
        provider: str,
        quality: str,
        out: str,
      },
      Options,
    );
    const deepcache = v['no-deepcache']
      ? false
      : DeepCacheSettings.parse({
          cache_interval: v['cache-interval'],
          cache_branch_id: v['cache-branch'],
          schedule: v.nonuniform ? 'nonuniform' : 'uniform',
          ...(v.center !== undefined ? { center: v.center } : {}),
          ...(v.power !== undefined ? { power: v.power } : {}),
        });
    if (!v.nonuniform && (v.center !== undefined || v.power !== undefined)) throw new UsageError('--center and --power need --nonuniform');
    const t0 = performance.now();
    const pipeline = await loadPipeline({ modelId: path.basename(path.resolve(v.model)), modelDir: v.model, providers: [v.provider] });
    const loadMs = performance.now() - t0;
    try {
      const side = pipeline.family === 'sdxl' ? 1024 : pipeline.family === 'sd21' ? 768 : 512;
      const input: ResolvedInput = {
        prompt: v.prompt,
        negative_prompt: v['negative-prompt'],
        width: v.width ?? side,
        height: v.height ?? side,
        num_inference_steps: v.steps,
        guidance_scale: v.guidance,
        seed: v.seed ?? Math.floor(Math.random() * MAX_SEED),
        scheduler: v.scheduler,
        num_outputs: 1,
        output_format: formatOf(v.out),
        output_quality: v.quality,
        deepcache,
      };
      let last = 0;
      const [result] = await pipeline.run([
        {
          id: 'cli',
          input,
          signal: new AbortController().signal,
          onProgress: (p) => {
            if (Date.now() - last > 1000 || p.step === p.total) {
              last = Date.now();
              ctx.progress(`step ${p.step}/${p.total} (${p.unet})`);
            }
          },
        },
      ]);
      if (!result || result instanceof Error) throw result ?? new Error('no result');
      const image = result.images[0]!;
      const t1 = performance.now();
      const bytes = await encodeImage(image, input.output_format, input.output_quality, {
        seed: String(input.seed),
        steps: String(input.num_inference_steps),
        scheduler: input.scheduler,
        deepcache: JSON.stringify(deepcache),
      });
      await writeFile(v.out, bytes);
      const timings = { load: loadMs, ...result.timingsMs, encode_image: performance.now() - t1, total: performance.now() - t0 };
      const json = {
        out: path.resolve(v.out),
        bytes: bytes.length,
        width: image.width,
        height: image.height,
        seed: input.seed,
        steps: input.num_inference_steps,
        scheduler: input.scheduler,
        deepcache,
        provider: pipeline.executionProvider,
        unet_full_steps: result.unetFullSteps,
        unet_shallow_steps: result.unetShallowSteps,
        timings_ms: Object.fromEntries(Object.entries(timings).map(([k, ms]) => [k, Math.round(ms * 10) / 10])),
      };
      const text = `wrote ${json.out} (${image.width}×${image.height}, seed ${input.seed}); U-Net ${result.unetFullSteps} full + ${result.unetShallowSteps} shallow steps; ${Object.entries(
        json.timings_ms,
      )
        .map(([k, ms]) => `${k} ${ms} ms`)
        .join(', ')}`;
      return { json, text };
    } finally {
      await pipeline.dispose();
    }
  },
};
