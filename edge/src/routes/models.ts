/**
 * `GET /v1/models`: the served models (`SERVED_MODELS`, in catalogue order) with sizes, schedulers, the DeepCache
 * branch range and a price hint.
 * @module
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { DeepCacheSettings } from '../../../shared/deepcache.js';
import { branchRange, modelCatalog, type ModelSpec } from '../../../shared/models.js';
import { MACS_PER_CREDIT, macsPerImage, priceFor, unetMacsPerEvaluation } from '../../../shared/pricing.js';
import { unetMacs } from '../../../shared/unet-macs.js';
import { PredictionInput, resolveInput, type ResolvedInput } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ModelListSchema, problemResponse, rateLimitedResponse } from '../schemas/components.js';
import { ReplicateModelSchema, replicateModel, runCounts } from '../models/replicate-model.js';
import { z } from '@hono/zod-openapi';

/** The native list (`data`) and Replicate's page of model objects (`results`, one page) side by side. */
const ModelListResponseSchema = z
  .object({
    data: ModelListSchema.shape.data,
    previous: z.null(),
    next: z.null(),
    results: z
      .array(ReplicateModelSchema)
      .openapi({ description: 'The same models in Replicate’s model shape (`replicate.models.list()`)' }),
  })
  .openapi('ModelList');

export const listModelsRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'List the served models and their limits',
  description:
    'The catalogue models this deployment serves, as `data` (this API’s description) and as `results` (Replicate’s model objects, one page: `replicate.models.list()`); a create naming any other model is refused with 422.',
  security: [{ bearerAuth: [] }],
  responses: {
    200: { description: 'Models', content: { 'application/json': { schema: ModelListResponseSchema } } },
    401: problemResponse('Missing, invalid or revoked API key'),
    429: rateLimitedResponse(),
  },
});

/** Public description of one model. */
export function modelInfo(spec: ModelSpec): z.infer<typeof ModelListSchema>['data'][number] {
  const defaults = resolveInput(PredictionInput.parse({ prompt: 'x', deepcache: DeepCacheSettings.parse({}) }), spec, () => 0);
  return {
    id: spec.id,
    family: spec.family,
    description: spec.description,
    default_width: spec.default_width,
    default_height: spec.default_height,
    min_side: spec.min_side,
    max_side: spec.max_side,
    max_pixels: spec.max_pixels,
    default_steps: spec.default_steps,
    default_guidance_scale: spec.default_guidance_scale,
    default_scheduler: spec.default_scheduler,
    schedulers: [...spec.schedulers],
    deepcache: { cache_branch_id: branchRange(spec) },
    default_price_per_image: priceFor(spec, defaults).per_image,
    pricing: pricingOf(spec, defaults),
  };
}

/** Price per image = max(1, ceil(U-Net MACs / macs_per_credit)); the formula and worked examples for one model. */
export const PRICE_FORMULA =
  'price_per_image = max(1, ceil(rows × (full × F(u) + shallow × S_branch(u)) / macs_per_credit)); rows = 2 with guidance_scale > 1 else 1; full/shallow = U-Net evaluations of the sampling loop (PLMS: steps + 1) by the DeepCache plan (uniform or non-uniform); F, S = MACs of one full / shallow evaluation at the size (shared/unet-macs.ts, from the MAC counter; attention included); price = price_per_image × num_outputs';

function pricingOf(spec: ModelSpec, defaults: ResolvedInput): z.infer<typeof ModelListSchema>['data'][number]['pricing'] {
  const g = (macs: number) => Math.round(macs / 1e7) / 100;
  const size = { width: spec.default_width, height: spec.default_height };
  const shallow = unetMacs[spec.family].shallow.map((_, b) =>
    g(unetMacsPerEvaluation(spec.family, { ...size, deepcache: { cache_interval: 2, cache_branch_id: b, schedule: 'uniform' } }).shallow),
  );
  const variants: Array<ResolvedInput['deepcache']> = [
    false,
    { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' },
    { cache_interval: 20, cache_branch_id: branchRange(spec).max, schedule: 'uniform' },
  ];
  return {
    formula: PRICE_FORMULA,
    macs_per_credit: MACS_PER_CREDIT,
    unet_gmacs_at_default_size: { full: g(unetMacsPerEvaluation(spec.family, { ...size, deepcache: false }).full), shallow },
    examples: variants.map((deepcache) => {
      const input = { ...defaults, deepcache };
      return {
        width: input.width,
        height: input.height,
        num_inference_steps: input.num_inference_steps,
        guidance_scale: input.guidance_scale,
        deepcache: deepcache === false ? false : { cache_interval: deepcache.cache_interval, cache_branch_id: deepcache.cache_branch_id },
        unet_tmacs: Math.round(macsPerImage(spec, input) / 1e10) / 100,
        price_per_image: priceFor(spec, input).per_image,
      };
    }),
  };
}

/** Sub-app with the models route. */
export const modelRoutes = new OpenAPIHono<AppEnv>().openapi(listModelsRoute, async (c) => {
  const config = configFrom(c.env);
  const served = modelCatalog.filter((spec) => config.SERVED_MODELS.includes(spec.id));
  const runs = await runCounts(c.env.DB, c.get('caller').accountId);
  return c.json(
    {
      data: served.map(modelInfo),
      previous: null,
      next: null,
      results: await Promise.all(served.map((spec) => replicateModel(config, spec, modelInfo(spec), runs.get(spec.id) ?? 0))),
    },
    200,
  );
});
