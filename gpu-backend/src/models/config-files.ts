/**
 * zod schemas for the JSON files of a diffusers / Optimum ONNX model directory, and a reader that turns every
 * failure into a {@link ModelDirectoryError} naming the file. Schemas are loose: diffusers adds keys over time.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PredictionType } from '../../../shared/models.js';
import { ModelDirectoryError } from './model-directory-error.js';

/** A component entry of model_index.json: `[library, class]`, or `[null, null]` for an absent component. */
export const ComponentEntry = z.union([z.tuple([z.string(), z.string()]), z.tuple([z.null(), z.null()])]);
export type ComponentEntry = z.infer<typeof ComponentEntry>;

/** model_index.json: `_class_name` plus one entry per component (other keys are pipeline options). */
export const ModelIndexJson = z.looseObject({
  _class_name: z.string().min(1),
  _diffusers_version: z.string().optional(),
});
export type ModelIndexJson = z.infer<typeof ModelIndexJson>;

/** The prediction types diffusers' schedulers accept (the shared contract). */
export { PredictionType } from '../../../shared/models.js';

/** scheduler/scheduler_config.json (only what the reader needs; the schedulers parse the rest). */
export const SchedulerConfigJson = z.looseObject({
  _class_name: z.string().min(1),
  prediction_type: PredictionType.optional(),
});

/** `text_encoder/config.json` and `text_encoder_2/config.json` (a transformers CLIPTextConfig / CLIPTextModelWithProjection config). */
export const TextEncoderConfigJson = z.looseObject({
  hidden_size: z.number().int().positive().optional(),
  projection_dim: z.number().int().positive().optional(),
});

/** unet/config.json (a diffusers UNet2DConditionModel config). */
export const UNetConfigJson = z.looseObject({
  cross_attention_dim: z.union([z.number().int().positive(), z.array(z.number().int().positive())]).optional(),
  addition_embed_type: z.string().nullish(),
  use_linear_projection: z.boolean().optional(),
  block_out_channels: z.array(z.number().int().positive()).optional(),
  /** 4, or 9 for an inpainting U-Net (latents ‖ mask ‖ masked-image latents). */
  in_channels: z.number().int().positive().optional(),
});

/** `vae_decoder/config.json` or `vae/config.json` (a diffusers AutoencoderKL config). */
export const VaeConfigJson = z.looseObject({
  scaling_factor: z.number().positive().optional(),
  block_out_channels: z.array(z.number().int().positive()).min(1).optional(),
});

/** Reads and parses a JSON file; `undefined` when `optional` and the file does not exist. */
export async function readJsonConfig<S extends z.ZodType>(file: string, schema: S, optional: true): Promise<z.infer<S> | undefined>;
export async function readJsonConfig<S extends z.ZodType>(file: string, schema: S, optional?: false): Promise<z.infer<S>>;
export async function readJsonConfig<S extends z.ZodType>(file: string, schema: S, optional = false): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (optional && code === 'ENOENT') return undefined;
    throw new ModelDirectoryError(file, code === 'ENOENT' ? 'missing' : `cannot read (${code})`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelDirectoryError(file, `not valid JSON (${(cause as Error).message})`, { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelDirectoryError(file, `unexpected content: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}
