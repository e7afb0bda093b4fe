/**
 * The `shared/` contracts named as OpenAPI components (`#/components/schemas/<Name>`), plus the response shapes
 * only the edge has (accounts, keys, lists). Routes use these so the document references one definition each.
 * @module
 */
import { z } from '@hono/zod-openapi';
import { ModelSpec } from '../../../shared/models.js';
import { ImageGenerationRequest, ImagesResponse, OpenAIError } from './openai.js';
import { CreatePredictionRequest, Prediction } from '../../../shared/prediction.js';
import { Problem } from '../../../shared/problem.js';
import { BackendEvent } from '../../../shared/internal.js';

const ProblemSchema = Problem.openapi('Problem');
export const PredictionSchema = Prediction.openapi('Prediction');
export const CreatePredictionRequestSchema = CreatePredictionRequest.openapi('CreatePredictionRequest');
export const ImageGenerationRequestSchema = ImageGenerationRequest.openapi('ImageGenerationRequest');
export const ImagesResponseSchema = ImagesResponse.openapi('ImagesResponse');
const OpenAIErrorSchema = OpenAIError.openapi('OpenAIError');
export const BackendEventSchema = BackendEvent.openapi('BackendEvent');

export const PredictionListSchema = z
  .object({
    results: z.array(PredictionSchema),
    /** Opaque cursor of the next (older) page; null on the last page. */
    next_cursor: z.string().nullable(),
    next: z.url().nullable(),
  })
  .openapi('PredictionList');

/** The `ModelSpec` fields a model's public description shows (the rest are internal to serving). */
const publicModelFields = ModelSpec.pick({
  id: true,
  family: true,
  description: true,
  default_width: true,
  default_height: true,
  min_side: true,
  max_side: true,
  max_pixels: true,
  default_steps: true,
  default_guidance_scale: true,
  default_scheduler: true,
  schedulers: true,
}).shape;

export const ModelInfoSchema = z
  .object({
    ...publicModelFields,
    deepcache: z.object({ cache_branch_id: z.object({ min: z.number().int(), max: z.number().int() }) }),
    /** Credits per image at the model's defaults (with default DeepCache settings). */
    default_price_per_image: z.number().int(),
    pricing: z
      .object({
        formula: z.string(),
        macs_per_credit: z.number(),
        /** GMACs of one U-Net evaluation of one sample at the default size: full, and shallow per DeepCache branch. */
        unet_gmacs_at_default_size: z.object({ full: z.number(), shallow: z.array(z.number()) }),
        examples: z.array(
          z.object({
            width: z.number().int(),
            height: z.number().int(),
            num_inference_steps: z.number().int(),
            guidance_scale: z.number(),
            deepcache: z.union([z.literal(false), z.object({ cache_interval: z.number().int(), cache_branch_id: z.number().int() })]),
            unet_tmacs: z.number(),
            price_per_image: z.number().int(),
          }),
        ),
      })
      .openapi({ description: 'How the price is computed from the U-Net MACs the request runs (`shared/pricing.ts`)' }),
  })
  .openapi('ModelInfo');

export const ModelListSchema = z.object({ data: z.array(ModelInfoSchema) }).openapi('ModelList');

const UsageSchema = z
  .object({
    period_start: z.iso.datetime(),
    predictions: z.number().int(),
    succeeded: z.number().int(),
    images: z.number().int(),
    credits: z.number().int(),
  })
  .openapi('Usage');

export const AccountSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.iso.datetime(),
    balance: z.object({ credits: z.number().int() }),
  })
  .openapi('Account');

const KeyUsageSchema = UsageSchema.extend({ key_id: z.string() }).openapi('KeyUsage');

export const AccountWithUsageSchema = AccountSchema.extend({
  key_id: z.string(),
  /** `credits` = the sum of the ledger (holds already deducted); `reserved` = held by unfinished predictions. */
  balance: z.object({ credits: z.number().int(), reserved: z.number().int() }),
  usage: z.object({
    today: UsageSchema,
    this_month: UsageSchema,
    this_key_this_month: UsageSchema,
    by_key_this_month: z.array(KeyUsageSchema),
  }),
}).openapi('AccountWithUsage');

export const ApiKeyInfoSchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    name: z.string(),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .openapi('ApiKey');

export const CreatedApiKeySchema = ApiKeyInfoSchema.extend({
  /** The key itself; shown once, only its hash is stored. */
  key: z.string(),
}).openapi('CreatedApiKey');

/** Declares problem responses for a route: `{ 401: problemResponse('…'), … }`. */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: ProblemSchema } } } as const;
}

/** Declares OpenAI-shaped error responses. */
export function openAIErrorResponse(description: string) {
  return { description, content: { 'application/json': { schema: OpenAIErrorSchema } } } as const;
}

const rateLimitHeaderDocs = {
  'Retry-After': { description: 'Seconds until a retry can succeed', schema: { type: 'string' } },
  'RateLimit-Policy': {
    description: 'IETF RateLimit-Policy, e.g. `"default";q=60;w=60, "concurrency";q=8;qu="concurrent-requests"`',
    schema: { type: 'string' },
  },
  RateLimit: { description: 'IETF RateLimit, e.g. `"default";r=0;t=30, "concurrency";r=8`', schema: { type: 'string' } },
} as const;

/** 429 response of every rate-limited route (`rate-limited`; `quota-exceeded` for concurrent predictions on creates). */
export function rateLimitedResponse(style: 'problem' | 'openai' = 'problem') {
  const base =
    style === 'problem'
      ? problemResponse('Too many requests for this API key (see `RateLimit` / `Retry-After`)')
      : openAIErrorResponse('Too many requests for this API key');
  return { ...base, headers: rateLimitHeaderDocs } as const;
}
