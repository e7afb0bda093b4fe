/**
 * Replicate's HTTP API shape next to the native routes, so its official client works by changing `baseUrl`:
 * models by `owner/name` (`deepcache/<id>`, see `MODEL_OWNER`) with their versions, predictions created through
 * the models route, and the default webhook secret. `POST /v1/predictions` with `version`, get, list and cancel
 * are the native routes (`predictions.ts`), whose prediction object carries the fields Replicate's has.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  findModelByRef,
  MODEL_OWNER,
  ModelId,
  ModelOwner,
  ModelVersionId,
  qualifiedModelName,
  type ModelSpec,
} from '../../../shared/models.js';
import { ModelPredictionRequest } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { defaultHook } from '../errors/default-hook.js';
import { createPrediction } from '../predictions/create.js';
import { MAX_WAIT_S } from '../predictions/headers.js';
import { PredictionSchema, problemResponse, rateLimitedResponse } from '../schemas/components.js';
import { webhookSecret } from '../webhooks/endpoints.js';
import { ModelVersionSchema, ReplicateModelSchema, replicateModel, runCounts, versionOf } from '../models/replicate-model.js';
import { modelInfo } from './models.js';
import { WebhookSecretSchema } from './webhooks.js';

const security = [{ bearerAuth: [] }];
const tags = ['replicate'];
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } }) as const;
const authFailed = problemResponse('Missing, invalid or revoked API key');
const noModel = problemResponse('No model with this owner/name is served here (see `GET /v1/models`)');

const ModelParams = z.object({
  owner: ModelOwner.openapi({ param: { name: 'owner', in: 'path' }, example: MODEL_OWNER }),
  name: ModelId.openapi({ param: { name: 'name', in: 'path' }, example: 'sd15-tiny-demo' }),
});
const VersionParams = ModelParams.extend({
  version_id: ModelVersionId.openapi({ param: { name: 'version_id', in: 'path' } }),
});

const page = <T extends z.ZodType>(item: T) => z.object({ previous: z.null(), next: z.null(), results: z.array(item) });

export const getModelRoute = createRoute({
  method: 'get',
  path: '/v1/models/{owner}/{name}',
  tags,
  security,
  summary: 'A served model in Replicate’s model shape',
  request: { params: ModelParams },
  responses: {
    200: { description: 'The model', content: json(ReplicateModelSchema) },
    400: problemResponse('Malformed owner or name'),
    401: authFailed,
    404: noModel,
    429: rateLimitedResponse(),
  },
});

export const listVersionsRoute = createRoute({
  method: 'get',
  path: '/v1/models/{owner}/{name}/versions',
  tags,
  security,
  summary: 'The model’s versions (the current one; versions are not kept)',
  request: { params: ModelParams },
  responses: {
    200: { description: 'One page', content: json(page(ModelVersionSchema).openapi('ModelVersionList')) },
    400: problemResponse('Malformed owner or name'),
    401: authFailed,
    404: noModel,
    429: rateLimitedResponse(),
  },
});

export const getVersionRoute = createRoute({
  method: 'get',
  path: '/v1/models/{owner}/{name}/versions/{version_id}',
  tags,
  security,
  summary: 'One version of a model',
  request: { params: VersionParams },
  responses: {
    200: { description: 'The version', content: json(ModelVersionSchema) },
    400: problemResponse('Malformed owner, name or version id'),
    401: authFailed,
    404: problemResponse('No such model, or the id is not its current version'),
    429: rateLimitedResponse(),
  },
});

export const createModelPredictionRoute = createRoute({
  method: 'post',
  path: '/v1/models/{owner}/{name}/predictions',
  tags,
  security,
  summary: 'Create a prediction of a model (Replicate’s models route)',
  description: `The same as \`POST /v1/predictions\` with \`model: "{owner}/{name}"\`: \`Prefer: wait[=n]\` (n ≤ ${MAX_WAIT_S}), \`Cancel-After\` and \`Idempotency-Key\` apply. As Replicate does, a prediction still unfinished when the wait runs out is answered with status \`starting\` (\`GET\` its \`urls.get\` for the current status).`,
  request: {
    params: ModelParams,
    headers: z.object({
      prefer: z.string().max(200).optional().openapi({ example: 'wait=30' }),
      'cancel-after': z.string().max(20).optional().openapi({ example: '5m' }),
      'idempotency-key': z.string().max(300).optional(),
    }),
    body: { required: true, content: json(ModelPredictionRequest.openapi('ModelPredictionRequest')) },
  },
  responses: {
    201: { description: 'Finished within the requested wait', content: json(PredictionSchema) },
    202: { description: 'Accepted; not finished yet', content: json(PredictionSchema) },
    400: problemResponse('Malformed JSON, path or header'),
    401: authFailed,
    402: problemResponse('The balance does not cover the price (`insufficient-credits`); nothing is stored'),
    404: noModel,
    409: problemResponse('A request with this Idempotency-Key is still in flight (`idempotency-key-in-use`)'),
    413: problemResponse('Body larger than the limit'),
    422: problemResponse('The body failed validation (field errors in `errors`), or the Idempotency-Key was used with another body'),
    429: rateLimitedResponse(),
    500: problemResponse('Internal error'),
    503: problemResponse('The prediction could not be queued'),
  },
});

export const getDefaultWebhookSecretRoute = createRoute({
  method: 'get',
  path: '/v1/webhooks/default/secret',
  tags,
  security,
  summary: 'The webhook signing secret (Replicate’s path for `GET /v1/webhooks/secret`)',
  responses: { 200: { description: 'The secret', content: json(WebhookSecretSchema) }, 401: authFailed, 429: rateLimitedResponse() },
});

/** The served model named by `owner/name`. @throws ApiError 404 when there is none */
function servedModel(env: Env, params: { owner: string; name: string }): ModelSpec {
  const spec = findModelByRef(`${params.owner}/${params.name}`);
  if (!spec || !configFrom(env).SERVED_MODELS.includes(spec.id))
    throw new ApiError(404, 'not-found', `No model ${params.owner}/${params.name} is served here`);
  return spec;
}

/** Sub-app with the Replicate-shaped routes (mount under an authenticated app). */
export const replicateRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(getModelRoute, async (c) => {
    const spec = servedModel(c.env, c.req.valid('param'));
    const runs = await runCounts(c.env.DB, c.get('caller').accountId);
    return c.json(await replicateModel(configFrom(c.env), spec, modelInfo(spec), runs.get(spec.id) ?? 0), 200);
  })
  .openapi(listVersionsRoute, async (c) => {
    const spec = servedModel(c.env, c.req.valid('param'));
    return c.json({ previous: null, next: null, results: [await versionOf(spec)] }, 200);
  })
  .openapi(getVersionRoute, async (c) => {
    const params = c.req.valid('param');
    const spec = servedModel(c.env, params);
    const version = await versionOf(spec);
    if (version.id !== params.version_id)
      throw new ApiError(404, 'not-found', `${params.version_id} is not a version of ${qualifiedModelName(spec)}`);
    return c.json(version, 200);
  })
  .openapi(createModelPredictionRoute, async (c) => {
    const spec = servedModel(c.env, c.req.valid('param'));
    const created = await createPrediction(
      c.env,
      c.get('statusListeners'),
      c.get('caller'),
      { model: spec.id, ...c.req.valid('json') },
      c.req.valid('header'),
      true,
      {
        existing: c.get('idempotentPrediction'),
        claim: c.get('idempotencyClaim'),
      },
    );
    return created.status === 201 ? c.json(created.prediction, 201, created.headers) : c.json(created.prediction, 202, created.headers);
  })
  .openapi(getDefaultWebhookSecretRoute, async (c) => {
    const row = await webhookSecret(c.env.DB, c.get('caller').accountId);
    return c.json({ key: row.secret, created_at: row.created_at }, 200);
  });
