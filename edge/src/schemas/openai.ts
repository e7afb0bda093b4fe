/**
 * OpenAI-compatible image generation (`POST /v1/images/generations`): the request the official SDK sends,
 * this API's native extras, the response and OpenAI's error shape.
 * @module
 */
import { z } from 'zod';
import { ModelRef } from '../../../shared/models.js';
import { DeepCacheOption, GuidanceScale, ImageCount, InferenceSteps, OutputFormat, promptText, Seed } from '../../../shared/prediction.js';
import { SchedulerName } from '../../../shared/scheduler.js';

/** `"<width>x<height>"`, e.g. `"512x512"`. Bounds are checked against the model like native requests. */
export const ImageSize = z.string().regex(/^\d{2,4}x\d{2,4}$/, 'size must look like "512x512"');

/** How generated images are returned: as URLs, or inline base64. */
export const ImageResponseFormat = z.enum(['url', 'b64_json']);
export type ImageResponseFormat = z.infer<typeof ImageResponseFormat>;

export const ImageGenerationRequest = z.strictObject({
  /** A model id or `owner/name`; omitted, the deployment's default (the first of `SERVED_MODELS`), as OpenAI defaults it. */
  model: ModelRef.optional(),
  prompt: promptText(1),
  n: ImageCount.default(1),
  size: ImageSize.optional(),
  response_format: ImageResponseFormat.default('url'),
  /** Accepted for compatibility; this API has one quality level. */
  quality: z.enum(['standard', 'auto']).optional(),
  /** End-user id (OpenAI field); accepted and not stored. */
  user: z.string().max(256).optional(),
  // Native extras.
  negative_prompt: promptText(0).optional(),
  num_inference_steps: InferenceSteps.optional(),
  guidance_scale: GuidanceScale.optional(),
  seed: Seed.optional(),
  scheduler: SchedulerName.optional(),
  output_format: OutputFormat.optional(),
  deepcache: DeepCacheOption.optional(),
});
export type ImageGenerationRequest = z.infer<typeof ImageGenerationRequest>;

export const ImageData = z.union([z.strictObject({ url: z.url() }), z.strictObject({ b64_json: z.string() })]);
export type ImageData = z.infer<typeof ImageData>;

export const ImagesResponse = z.object({
  created: z.number().int(),
  data: z.array(ImageData),
});
export type ImagesResponse = z.infer<typeof ImagesResponse>;

/** OpenAI's error body. `type` is e.g. `invalid_request_error`; `code` a machine-readable string or null. */
export const OpenAIError = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAIError = z.infer<typeof OpenAIError>;
