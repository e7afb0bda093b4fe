/**
 * The public prediction contract (Replicate-style): what clients send and the prediction object
 * every route returns. Global bounds live here; model-dependent bounds are checked by `checkInputForModel`.
 * @module
 */
import { z } from 'zod';
import { DeepCacheSettings } from './deepcache.js';
import { SchedulerName } from './scheduler.js';
import { ModelRef, branchRange, modelRefPatterns, type ModelSpec } from './models.js';
import { DEFAULT_PROMPT_STRENGTH, stepsForStrength } from './input-image.js';
import { ImageFormat } from './image-format.js';

/**
 * An input image given by the client: an https URL (fetched under the webhook SSRF rules) or a `data:` URI
 * (base64). After acceptance the prediction shows the object key it was stored under instead.
 */
const ImageRef = z.string().min(1).max(15_000_000);

/** Which pixels of a mask mark the area to repaint: white ones (luminance ≥ ½) or transparent ones (alpha < ½). */
export const MaskMode = z.enum(['white', 'transparent']);
export type MaskMode = z.infer<typeof MaskMode>;

export const OutputFormat = ImageFormat;
export type OutputFormat = z.infer<typeof OutputFormat>;

/** Largest seed accepted (seeds are unsigned 32-bit). */
export const MAX_SEED = 0xffff_ffff;

/** Image side: a multiple of 8 (the VAE downsamples by 8); the model narrows the range. */
const Side = z.number().int().min(64).max(2048).multipleOf(8, 'must be a multiple of 8');

/** C0 control characters other than tab, line feed and carriage return (and DEL). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point of this pattern
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Prompt text: well-formed Unicode (no lone surrogates) without control characters other than tab and newlines.
 * @param min minimum length (1 for prompts, 0 for negative prompts)
 */
export const promptText = (min: number) =>
  z
    .string()
    .min(min)
    .max(2000)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .refine((s) => (s as string & { isWellFormed(): boolean }).isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');

/** Denoising steps a request may ask for (the model's default when omitted). */
export const InferenceSteps = z.number().int().min(1).max(150);
/** Classifier-free guidance scale. */
export const GuidanceScale = z.number().min(0).max(30);
/** A seed (unsigned 32-bit). */
export const Seed = z.number().int().min(0).max(MAX_SEED);
/** Images one request makes. */
export const ImageCount = z.number().int().min(1).max(8);
/** WebP/JPEG quality. */
export const OutputQuality = z.number().int().min(1).max(100);
/** DeepCache settings, or `false` to run every step in full. */
export const DeepCacheOption = z.union([DeepCacheSettings, z.literal(false)]);

/** Generation parameters. Omitted fields take the model's defaults when the prediction is accepted. */
export const PredictionInput = z.strictObject({
  prompt: promptText(1),
  negative_prompt: promptText(0).optional(),
  width: Side.optional(),
  height: Side.optional(),
  num_inference_steps: InferenceSteps.optional(),
  guidance_scale: GuidanceScale.optional(),
  seed: Seed.optional(),
  scheduler: SchedulerName.optional(),
  num_outputs: ImageCount.default(1),
  output_format: OutputFormat.default('png'),
  output_quality: OutputQuality.default(90),
  deepcache: DeepCacheOption.default({ cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' }),
  /** Image-to-image / inpainting: the input image (https URL or data: URI; PNG, JPEG or WebP). */
  image: ImageRef.optional(),
  /** Inpainting: the mask (white = repaint), same size as `image`. */
  mask: ImageRef.optional(),
  /** How strongly the input image is noised, 0–1 (1 = fully); default 0.8. Needs `image`. */
  prompt_strength: z.number().min(0).max(1).optional(),
  /** Which mask pixels are repainted: `white` (default) or `transparent` (alpha 0, OpenAI's edits convention). */
  mask_mode: MaskMode.optional(),
});
export type PredictionInput = z.infer<typeof PredictionInput>;

/** Input after the model's defaults were applied and a seed was drawn: what the backend runs. */
export const ResolvedInput = z.strictObject({
  prompt: z.string(),
  negative_prompt: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  num_inference_steps: z.number().int(),
  guidance_scale: z.number(),
  seed: Seed,
  scheduler: SchedulerName,
  num_outputs: ImageCount,
  output_format: OutputFormat,
  output_quality: OutputQuality,
  deepcache: DeepCacheOption,
  /** Image-to-image / inpainting: object key of the stored input image (beside the outputs, never inline). */
  image: z.string().min(1).max(512).optional(),
  /** Inpainting: object key of the stored mask (white = repaint), same size as the image. */
  mask: z.string().min(1).max(512).optional(),
  /** How far the input image is noised (1 = fully): the run does ⌊steps·strength⌋ of the steps. */
  prompt_strength: z.number().min(0).max(1).optional(),
  /** Which mask pixels are repainted (default `white`). */
  mask_mode: MaskMode.optional(),
});
export type ResolvedInput = z.infer<typeof ResolvedInput>;

export const WebhookEvent = z.enum(['start', 'output', 'logs', 'completed']);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

/** The fields every create request has besides the model (the whole body of `POST /v1/models/{owner}/{name}/predictions`). */
const createFields = {
  input: PredictionInput,
  webhook: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  webhook_events_filter: z.array(WebhookEvent).min(1).max(4).optional(),
};

/** Body of the Replicate-style models route: the model is in the path. */
export const ModelPredictionRequest = z.strictObject(createFields);
export type ModelPredictionRequest = z.infer<typeof ModelPredictionRequest>;

/**
 * A model version reference (Replicate's `version`): a version id (64 hex digits, see `modelVersionId`),
 * `owner/name:<version id>`, or `owner/name` (the model's current version).
 */
export const VersionRef = z
  .string()
  .max(200)
  .regex(
    new RegExp(`^(?:${modelRefPatterns.version}|${modelRefPatterns.owner}\\/${modelRefPatterns.name}(?::${modelRefPatterns.version})?)$`),
    'a version id (64 hex digits), owner/name:<version id> or owner/name',
  );

/** `POST /v1/predictions`: the model by `model` (id or `owner/name`) or by Replicate's `version`, exactly one of them. */
export const CreatePredictionRequest = z
  .strictObject({
    model: ModelRef.optional(),
    version: VersionRef.optional(),
    ...createFields,
  })
  .superRefine((body, ctx) => {
    if (body.model === undefined && body.version === undefined)
      ctx.addIssue({ code: 'custom', path: ['model'], message: 'required (or give `version`)' });
    if (body.model !== undefined && body.version !== undefined)
      ctx.addIssue({ code: 'custom', path: ['version'], message: 'give `model` or `version`, not both' });
  });
export type CreatePredictionRequest = z.infer<typeof CreatePredictionRequest>;

/** The statuses a prediction ends in and never leaves (also what a backend reports when it ends a job). */
export const TerminalStatus = z.enum(['succeeded', 'failed', 'canceled', 'aborted']);
export type TerminalStatus = z.infer<typeof TerminalStatus>;

export const PredictionStatus = z.enum(['starting', 'processing', ...TerminalStatus.options]);
export type PredictionStatus = z.infer<typeof PredictionStatus>;

/** The terminal statuses as a list (e.g. for SQL `IN (…)` lists). */
export const terminalStatuses = TerminalStatus.options;

/** True for a status no prediction ever leaves. */
export function isTerminal(status: PredictionStatus): boolean {
  return (terminalStatuses as readonly string[]).includes(status);
}

/** Allowed status transitions; anything else is refused (a terminal state is never left). */
export const statusTransitions = {
  starting: ['processing', ...terminalStatuses],
  processing: terminalStatuses,
  succeeded: [],
  failed: [],
  canceled: [],
  aborted: [],
} as const satisfies Record<PredictionStatus, readonly PredictionStatus[]>;

/** Whether a prediction may move from `from` to `to`. */
export function canTransition(from: PredictionStatus, to: PredictionStatus): boolean {
  return (statusTransitions[from] as readonly PredictionStatus[]).includes(to);
}

export const PredictionMetrics = z.object({
  /** Seconds the backend spent generating (from start to last upload). */
  predict_time: z.number().optional(),
  /** Seconds from creation to completion. */
  total_time: z.number().optional(),
  unet_full_steps: z.number().int().optional(),
  unet_shallow_steps: z.number().int().optional(),
});
export type PredictionMetrics = z.infer<typeof PredictionMetrics>;

export const PredictionProgress = z.object({
  step: z.number().int().min(0),
  total: z.number().int().min(1),
});
export type PredictionProgress = z.infer<typeof PredictionProgress>;

/** The prediction object returned by every native route and delivered by webhooks. */
export const Prediction = z.object({
  id: z.string(),
  model: z.string(),
  /** The model's version id (`modelVersionId`), as Replicate's prediction object carries it. */
  version: z.string(),
  status: PredictionStatus,
  input: PredictionInput.or(ResolvedInput),
  output: z.array(z.url()).nullable(),
  error: z.string().nullable(),
  logs: z.string().optional(),
  progress: PredictionProgress.nullable().optional(),
  metrics: PredictionMetrics,
  cost: z.object({ credits: z.number().int().min(0) }),
  /** `web`: the playground showing this prediction (it asks for the API key). */
  urls: z.object({ get: z.url(), cancel: z.url(), stream: z.url(), web: z.url() }),
  /** Replicate fields: always `api`; outputs are never removed while the prediction exists. */
  source: z.literal('api'),
  data_removed: z.literal(false),
  /** The `Cancel-After` deadline, when one was given. */
  deadline: z.iso.datetime().optional(),
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  completed_at: z.iso.datetime().nullable(),
});
export type Prediction = z.infer<typeof Prediction>;

/** One model-dependent problem with an input: a JSON Pointer into the request and a message. */
export interface InputIssue {
  pointer: string;
  message: string;
}

/**
 * Checks the bounds that depend on the model (sizes, pixel budget, scheduler, DeepCache branch range).
 * @param input parsed input (global bounds already hold)
 * @returns every issue found; empty when the input fits the model
 */
export function checkInputForModel(input: PredictionInput, spec: ModelSpec): InputIssue[] {
  const issues: InputIssue[] = [];
  const width = input.width ?? spec.default_width;
  const height = input.height ?? spec.default_height;
  for (const [name, side] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (side < spec.min_side || side > spec.max_side) {
      issues.push({ pointer: `/input/${name}`, message: `must be between ${spec.min_side} and ${spec.max_side} for model ${spec.id}` });
    } else if (side % spec.size_multiple !== 0) {
      issues.push({ pointer: `/input/${name}`, message: `must be a multiple of ${spec.size_multiple} for model ${spec.id}` });
    }
  }
  if (width * height > spec.max_pixels) {
    issues.push({ pointer: '/input/width', message: `width×height must be at most ${spec.max_pixels} pixels for model ${spec.id}` });
  }
  if (input.scheduler !== undefined && !spec.schedulers.includes(input.scheduler)) {
    issues.push({ pointer: '/input/scheduler', message: `model ${spec.id} supports ${spec.schedulers.join(', ')}` });
  }
  if (input.image === undefined) {
    if (input.mask !== undefined) issues.push({ pointer: '/input/mask', message: 'a mask needs an input image (/input/image)' });
    if (input.prompt_strength !== undefined)
      issues.push({ pointer: '/input/prompt_strength', message: 'prompt_strength needs an input image (/input/image)' });
  } else {
    const steps = input.num_inference_steps ?? spec.default_steps;
    const strength = input.prompt_strength ?? DEFAULT_PROMPT_STRENGTH;
    if (stepsForStrength(steps, strength) < 1) {
      issues.push({
        pointer: '/input/prompt_strength',
        message: `with ${steps} steps prompt_strength ${strength} runs no step: it must be at least ${1 / steps}`,
      });
    }
    if (spec.image_input === 'none') issues.push({ pointer: '/input/image', message: `model ${spec.id} cannot start from an input image` });
    if (spec.image_input === 'inpaint-only' && input.mask === undefined)
      issues.push({ pointer: '/input/mask', message: `model ${spec.id} only inpaints: it needs a mask` });
  }
  if (input.deepcache !== false) {
    const { max } = branchRange(spec);
    if (input.deepcache.cache_branch_id > max) {
      issues.push({ pointer: '/input/deepcache/cache_branch_id', message: `must be between 0 and ${max} for model ${spec.id}` });
    }
    const steps = input.num_inference_steps ?? spec.default_steps;
    if (input.deepcache.center !== undefined && input.deepcache.center >= steps) {
      issues.push({ pointer: '/input/deepcache/center', message: `must be below num_inference_steps (${steps})` });
    }
  }
  return issues;
}

/**
 * Applies the model's defaults and fixes the seed.
 * @param drawSeed returns a fresh seed when the client gave none
 */
export function resolveInput(input: PredictionInput, spec: ModelSpec, drawSeed: () => number): ResolvedInput {
  return {
    prompt: input.prompt,
    negative_prompt: input.negative_prompt ?? '',
    width: input.width ?? spec.default_width,
    height: input.height ?? spec.default_height,
    num_inference_steps: input.num_inference_steps ?? spec.default_steps,
    guidance_scale: input.guidance_scale ?? spec.default_guidance_scale,
    seed: input.seed ?? drawSeed(),
    scheduler: input.scheduler ?? spec.default_scheduler,
    num_outputs: input.num_outputs,
    output_format: input.output_format,
    output_quality: input.output_quality,
    deepcache: input.deepcache,
    ...(input.image !== undefined ? { prompt_strength: input.prompt_strength ?? DEFAULT_PROMPT_STRENGTH } : {}),
    ...(input.mask !== undefined && input.mask_mode !== undefined ? { mask_mode: input.mask_mode } : {}),
  };
}
