/**
 * `GET /v1/models`: the served models (`SERVED_MODELS`, in catalogue order) with sizes, schedulers, the DeepCache
 * branch range and a price hint.
 * @module
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { DeepCacheSettings } from '../../../shared/deepcache.js';
import { branchRange, modelCatalog, type ModelSpec } from '../../../shared/models.js';
import { priceFor } from '../../../shared/pricing.js';
import { PredictionInput, resolveInput } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ModelListSchema, problemResponse, rateLimitedResponse } from '../schemas/components.js';
import { ReplicateModelSchema, replicateModel, runCounts } from '../models/replicate-model.js';
import { z } from '@hono/zod-openapi';

/** The native list (`data`) and Replicate's page of model objects (`results`, one page) side by side. */
const ModelListResponseSchema = z.object({
  data: ModelListSchema.shape.data,
  previous: z.null(),
  next: z.null(),
  results: z.array(ReplicateModelSchema).openapi({ description: 'The same models in Replicate’s model shape (`replicate.models.list()`)' }),
}).openapi('ModelList');

export const listModelsRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'List the served models and their limits',
  description: 'The catalogue models this deployment serves, as `data` (this API’s description) and as `results` (Replicate’s model objects, one page: `replicate.models.list()`); a create naming any other model is refused with 422.',
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
