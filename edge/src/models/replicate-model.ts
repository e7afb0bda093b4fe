/**
 * Replicate's model and version objects for the served catalogue models (`GET /v1/models`,
 * `GET /v1/models/{owner}/{name}` and its versions).
 * @module
 */
import { z } from '@hono/zod-openapi';
import { MODEL_OWNER, ModelVersionId, modelVersionId, qualifiedModelName, type ModelSpec } from '../../../shared/models.js';
import { PredictionInput } from '../../../shared/prediction.js';
import type { EdgeConfig } from '../config.js';
import { ModelInfoSchema } from '../schemas/components.js';

export const ModelVersionSchema = z
  .object({
    id: ModelVersionId.openapi({ description: 'SHA-256 of the catalogue entry: changes exactly when the model definition does' }),
    cog_version: z.null(),
    openapi_schema: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'OpenAPI document whose `components.schemas.Input` is the input with this model’s defaults and bounds' }),
  })
  .openapi('ModelVersion');

export const ReplicateModelSchema = z
  .object({
    url: z.url(),
    owner: z.string(),
    name: z.string(),
    description: z.string(),
    visibility: z.literal('public'),
    is_official: z.literal(true),
    github_url: z.null(),
    paper_url: z.null(),
    license_url: z.null(),
    cover_image_url: z.null(),
    default_example: z.null(),
    run_count: z.number().int().openapi({ description: 'Predictions of this model by the caller’s account' }),
    latest_version: ModelVersionSchema,
    deepcache: ModelInfoSchema.openapi({ description: 'This API’s own description of the model (`GET /v1/models` `data[]`)' }),
  })
  .openapi('ReplicateModel');

/** The model's input as JSON Schema, with its own defaults and bounds. */
function inputSchema(spec: ModelSpec): Record<string, unknown> {
  const schema = z.toJSONSchema(PredictionInput, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, Record<string, unknown>>;
  };
  const p = schema.properties;
  for (const side of ['width', 'height'] as const) {
    p[side] = {
      ...p[side],
      minimum: spec.min_side,
      maximum: spec.max_side,
      multipleOf: spec.size_multiple,
      default: side === 'width' ? spec.default_width : spec.default_height,
    };
  }
  p.num_inference_steps = { ...p.num_inference_steps, default: spec.default_steps };
  p.guidance_scale = { ...p.guidance_scale, default: spec.default_guidance_scale };
  p.scheduler = { ...p.scheduler, enum: [...spec.schedulers], default: spec.default_scheduler };
  return schema;
}

export async function versionOf(spec: ModelSpec): Promise<z.infer<typeof ModelVersionSchema>> {
  const id = await modelVersionId(spec);
  return {
    id,
    cog_version: null,
    openapi_schema: {
      openapi: '3.1.0',
      info: { title: qualifiedModelName(spec), version: id },
      paths: {},
      components: { schemas: { Input: inputSchema(spec), Output: { type: 'array', items: { type: 'string', format: 'uri' } } } },
    },
  };
}

/** The caller's predictions per model id. */
export async function runCounts(db: D1Database, accountId: string): Promise<Map<string, number>> {
  const { results } = await db
    .prepare('SELECT model, COUNT(*) AS n FROM predictions WHERE account_id = ? GROUP BY model')
    .bind(accountId)
    .all<{ model: string; n: number }>();
  return new Map(results.map((r) => [r.model, r.n]));
}

/** Replicate's model object for a catalogue model; `info` is the native description (`GET /v1/models` `data[]`). */
export async function replicateModel(
  config: Pick<EdgeConfig, 'PUBLIC_BASE_URL'>,
  spec: ModelSpec,
  info: z.infer<typeof ModelInfoSchema>,
  runCount: number,
): Promise<z.infer<typeof ReplicateModelSchema>> {
  return {
    url: `${config.PUBLIC_BASE_URL}/v1/models/${qualifiedModelName(spec)}`,
    owner: MODEL_OWNER,
    name: spec.id,
    description: spec.description,
    visibility: 'public',
    is_official: true,
    github_url: null,
    paper_url: null,
    license_url: null,
    cover_image_url: null,
    default_example: null,
    run_count: runCount,
    latest_version: await versionOf(spec),
    deepcache: info,
  };
}
