/**
 * The model catalogue: which model ids the API serves and the limits each one imposes on a request.
 * The edge validates model-dependent bounds (size, branch range, schedulers) against this table; the backend
 * maps an id to a model directory. Families: SD 1.x, SD 2.x and SDXL.
 * @module
 */
import { z } from 'zod';
import { SchedulerName } from './scheduler.js';

/** What a model's U-Net predicts (diffusers' `prediction_type`; the schedulers accept all three). */
export const PredictionType = z.enum(['epsilon', 'v_prediction', 'sample']);
export type PredictionType = z.infer<typeof PredictionType>;

export const ModelFamily = z.enum(['sd15', 'sd21', 'sdxl']);
export type ModelFamily = z.infer<typeof ModelFamily>;

/** The pieces model references are made of, as regular-expression sources (no anchors). */
export const modelRefPatterns = {
  /** A model owner (Replicate's account name). */
  owner: '[a-z0-9][a-z0-9_-]{0,38}',
  /** A model id, which is also its name under the owner. */
  name: '[a-z0-9][a-z0-9.-]{0,63}',
  /** A version id: 64 lowercase hex digits (see `modelVersionId`). */
  version: '[0-9a-f]{64}',
} as const;

/** Public model id: lowercase, digits, dots, dashes. */
export const ModelId = z
  .string()
  .regex(new RegExp(`^${modelRefPatterns.name}$`), 'model ids are lowercase letters, digits, dots and dashes');
export type ModelId = z.infer<typeof ModelId>;

export const ModelSpec = z.strictObject({
  id: ModelId,
  family: ModelFamily,
  description: z.string(),
  /** Latent U-Net levels: SD 1.x/2.x 4, SDXL 3. DeepCache branch ids are 0 … 3·levels − 1. */
  unet_levels: z.number().int().min(1).max(8),
  prediction_type: PredictionType.exclude(['sample']),
  default_width: z.number().int(),
  default_height: z.number().int(),
  min_side: z.number().int(),
  max_side: z.number().int(),
  /**
   * Width and height must be multiples of this: 8 (the VAE) × 2^(levels − 1) (the U-Net's downsamplers; ONNX
   * exports fix the upsampling factor, so skip connections only line up on such sizes). SD 1.x/2.x 64, SDXL 32.
   */
  size_multiple: z.number().int().min(8),
  /** Upper bound on width·height (keeps memory per request bounded). */
  max_pixels: z.number().int(),
  default_steps: z.number().int(),
  default_guidance_scale: z.number(),
  default_scheduler: SchedulerName,
  schedulers: z.array(SchedulerName).min(1),
  /**
   * What the model does from an input image: `img2img+inpaint` (a VAE encoder and a regular U-Net; the default),
   * `inpaint-only` (a dedicated 9-channel inpainting U-Net), `none` (no VAE encoder).
   */
  image_input: z.enum(['img2img+inpaint', 'inpaint-only', 'none']).optional(),
});
export type ModelSpec = z.infer<typeof ModelSpec>;

const allSchedulers = SchedulerName.options;

/** Every model the API knows. Which ones a deployment serves is configuration (the backends' model lists). */
export const modelCatalog = [
  {
    id: 'sd15-tiny-demo',
    family: 'sd15',
    description: 'Tiny synthetic SD 1.5-architecture model with random weights (local demo and tests; images are noise).',
    unet_levels: 4,
    prediction_type: 'epsilon',
    default_width: 64,
    default_height: 64,
    min_side: 64,
    max_side: 512,
    size_multiple: 64,
    max_pixels: 512 * 512,
    default_steps: 10,
    default_guidance_scale: 7.5,
    default_scheduler: 'ddim',
    schedulers: allSchedulers,
  },
  {
    id: 'stable-diffusion-1.5',
    family: 'sd15',
    description: 'Stable Diffusion 1.5 (ONNX export), 512×512 native.',
    unet_levels: 4,
    prediction_type: 'epsilon',
    default_width: 512,
    default_height: 512,
    min_side: 256,
    max_side: 1024,
    size_multiple: 64,
    max_pixels: 1024 * 768,
    default_steps: 30,
    default_guidance_scale: 7.5,
    default_scheduler: 'dpmpp_2m_karras',
    schedulers: allSchedulers,
  },
  {
    id: 'stable-diffusion-2.1',
    family: 'sd21',
    description: 'Stable Diffusion 2.1 768 (v-prediction, ONNX export), 768×768 native.',
    unet_levels: 4,
    prediction_type: 'v_prediction',
    default_width: 768,
    default_height: 768,
    min_side: 256,
    max_side: 1024,
    size_multiple: 64,
    max_pixels: 1024 * 1024,
    default_steps: 30,
    default_guidance_scale: 7.5,
    default_scheduler: 'dpmpp_2m_karras',
    schedulers: allSchedulers,
  },
  {
    id: 'stable-diffusion-xl-base-1.0',
    family: 'sdxl',
    description: 'Stable Diffusion XL base 1.0 (ONNX export), 1024×1024 native.',
    unet_levels: 3,
    prediction_type: 'epsilon',
    default_width: 1024,
    default_height: 1024,
    min_side: 512,
    max_side: 2048,
    size_multiple: 32,
    max_pixels: 1536 * 1536,
    default_steps: 30,
    default_guidance_scale: 5,
    default_scheduler: 'euler',
    schedulers: allSchedulers,
  },
] as const satisfies readonly ModelSpec[];

/** Looks a model up by id; undefined when the id is unknown. */
export function findModel(id: string): ModelSpec | undefined {
  return modelCatalog.find((m) => m.id === id);
}

/** Valid DeepCache `cache_branch_id` range for a model: [0, 3·levels). */
export function branchRange(spec: Pick<ModelSpec, 'unet_levels'>): { min: number; max: number } {
  return { min: 0, max: 3 * spec.unet_levels - 1 };
}

/**
 * Owner of every catalogue model in Replicate-style references: `deepcache/<id>` names the same model as `<id>`
 * (the bare ids stay the canonical ids the API stores and returns; the qualified form is an alias).
 */
export const MODEL_OWNER = 'deepcache';

/** A model reference in a request: a catalogue id (`sd15-tiny-demo`) or `owner/name` (`deepcache/sd15-tiny-demo`). */
export const ModelRef = z
  .string()
  .regex(
    new RegExp(`^(?:${modelRefPatterns.owner}\\/)?${modelRefPatterns.name}$`),
    'model references are a model id or owner/name (lowercase letters, digits, dots and dashes)',
  );
export type ModelRef = z.infer<typeof ModelRef>;

/** A model owner in a path (`/v1/models/{owner}/{name}`). */
export const ModelOwner = z.string().regex(new RegExp(`^${modelRefPatterns.owner}$`), 'not a model owner');

/** A model version id: 64 lowercase hex digits. */
export const ModelVersionId = z.string().regex(new RegExp(`^${modelRefPatterns.version}$`), 'not a version id (64 hex digits)');
export type ModelVersionId = z.infer<typeof ModelVersionId>;

/** `owner/name` of a catalogue model. */
export function qualifiedModelName(spec: Pick<ModelSpec, 'id'>): string {
  return `${MODEL_OWNER}/${spec.id}`;
}

/** Looks a model up by reference (bare id or `owner/name`); undefined for an unknown id or another owner. */
export function findModelByRef(ref: string): ModelSpec | undefined {
  const slash = ref.indexOf('/');
  if (slash < 0) return findModel(ref);
  return ref.slice(0, slash) === MODEL_OWNER ? findModel(ref.slice(slash + 1)) : undefined;
}

const versionIds = new WeakMap<ModelSpec, Promise<string>>();

/**
 * The model's version id (Replicate-style: 64 lowercase hex digits): SHA-256 of the catalogue entry, so it
 * changes exactly when the model's definition (limits, defaults, schedulers) changes.
 */
export function modelVersionId(spec: ModelSpec): Promise<string> {
  let id = versionIds.get(spec);
  if (!id) {
    id = crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(JSON.stringify(spec)))
      .then((digest) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''));
    versionIds.set(spec, id);
  }
  return id;
}

/** The catalogue model whose current version id is `version`; undefined when none is. */
export async function findModelByVersion(version: string): Promise<ModelSpec | undefined> {
  for (const spec of modelCatalog) if ((await modelVersionId(spec)) === version) return spec;
  return undefined;
}
