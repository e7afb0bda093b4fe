/**
 * Native predictions (Replicate-style): create (async by default, `Prefer: wait`), get, list, cancel.
 * The SSE stream lives in `prediction-events.ts`.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { PredictionId } from '../../../shared/internal.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { defaultHook } from '../errors/default-hook.js';
import { createPrediction } from '../predictions/create.js';
import { MAX_WAIT_S } from '../predictions/headers.js';
import { presentPrediction } from '../predictions/present.js';
import { decodeCursor, encodeCursor, getOwnPredictionRow, listPredictionRows } from '../predictions/row.js';
import { finishPrediction } from '../predictions/transition.js';
import {
  CreatePredictionRequestSchema,
  PredictionListSchema,
  PredictionSchema,
  problemResponse,
  rateLimitedResponse,
} from '../schemas/components.js';

const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: PredictionId.openapi({ param: { name: 'id', in: 'path' } }) });
const predictionJson = { 'application/json': { schema: PredictionSchema } } as const;
const authFailed = problemResponse('Missing, invalid or revoked API key');
const notFound = problemResponse('No prediction with this id for this account');

export const createPredictionRoute = createRoute({
  method: 'post',
  path: '/v1/predictions',
  tags: ['predictions'],
  summary: 'Create a prediction',
  description: `The model is named by \`model\` (an id from \`GET /v1/models\` or \`deepcache/<id>\`) or, as Replicate's clients send it, by \`version\` (a version id, \`owner/name:<version id>\` or \`owner/name\`; with \`version\` an expired wait reports the prediction as \`starting\`, as Replicate does). Accepted predictions are queued for a GPU backend (202). With \`Prefer: wait[=n]\` (n ≤ ${MAX_WAIT_S}) the request waits up to n seconds and answers 201 with the finished prediction, or 202 with the unfinished one and its \`Location\`. \`Cancel-After\` (seconds or e.g. \`5m\`, 5 s … 24 h) aborts the prediction if it has not finished by then.`,
  security,
  request: {
    headers: z.object({
      prefer: z.string().max(200).optional().openapi({ example: 'wait=30' }),
      'cancel-after': z.string().max(20).optional().openapi({ example: '5m' }),
      'idempotency-key': z.string().max(300).optional().openapi({
        example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
        description: 'Retries with the same key and body replay the first response (`Idempotent-Replayed: true`) for 24 h',
      }),
    }),
    body: { required: true, content: { 'application/json': { schema: CreatePredictionRequestSchema } } },
  },
  responses: {
    201: { description: 'Finished within the requested wait', content: predictionJson },
    202: { description: 'Accepted; not finished yet (see `Location` / `urls.get`)', content: predictionJson },
    400: problemResponse('Malformed JSON or header'),
    401: authFailed,
    402: problemResponse('The balance does not cover the price (`insufficient-credits`); nothing is stored'),
    409: problemResponse('A request with this Idempotency-Key is still in flight (`idempotency-key-in-use`)'),
    413: problemResponse('Body larger than the limit'),
    422: problemResponse(
      'The body failed validation (field errors in `errors`; `/model` or `/version` when the model or version is unknown or not served, see `GET /v1/models`), or the Idempotency-Key was used with another body (`idempotency-key-mismatch`)',
    ),
    429: rateLimitedResponse(),
    500: problemResponse('Internal error'),
    503: problemResponse('The prediction could not be queued'),
  },
});

export const getPredictionRoute = createRoute({
  method: 'get',
  path: '/v1/predictions/{id}',
  tags: ['predictions'],
  summary: 'Get a prediction (output URLs are freshly presigned)',
  security,
  request: { params: IdParam },
  responses: {
    200: { description: 'The prediction', content: predictionJson },
    400: problemResponse('Malformed id'),
    401: authFailed,
    404: notFound,
    429: rateLimitedResponse(),
    500: problemResponse('Internal error'),
  },
});

export const listPredictionsRoute = createRoute({
  method: 'get',
  path: '/v1/predictions',
  tags: ['predictions'],
  summary: "List the caller's predictions, newest first",
  security,
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().max(500).optional().openapi({ description: '`next_cursor` of the previous page' }),
    }),
  },
  responses: {
    200: { description: 'One page', content: { 'application/json': { schema: PredictionListSchema } } },
    400: problemResponse('Bad limit or cursor'),
    401: authFailed,
    429: rateLimitedResponse(),
    500: problemResponse('Internal error'),
  },
});

export const cancelPredictionRoute = createRoute({
  method: 'post',
  path: '/v1/predictions/{id}/cancel',
  tags: ['predictions'],
  summary: 'Cancel a prediction',
  description:
    'Cancels a prediction that has not ended (canceling a canceled prediction is a no-op). A prediction that already succeeded, failed or was aborted answers 409.',
  security,
  request: { params: IdParam },
  responses: {
    200: { description: 'The canceled prediction', content: predictionJson },
    400: problemResponse('Malformed id'),
    401: authFailed,
    404: notFound,
    409: problemResponse('The prediction already ended in another state'),
    429: rateLimitedResponse(),
    500: problemResponse('Internal error'),
  },
});

/** Sub-app with the prediction routes (mount under an authenticated app). */
export const predictionRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(createPredictionRoute, async (c) => {
    const request = c.req.valid('json');
    const created = await createPrediction(
      c.env,
      c.get('statusListeners'),
      c.get('caller'),
      request,
      c.req.valid('header'),
      request.version !== undefined,
      {
        existing: c.get('idempotentPrediction'),
        claim: c.get('idempotencyClaim'),
      },
    );
    return created.status === 201 ? c.json(created.prediction, 201, created.headers) : c.json(created.prediction, 202, created.headers);
  })
  .openapi(getPredictionRoute, async (c) => {
    const row = await getOwnPredictionRow(c.env.DB, c.get('caller').accountId, c.req.valid('param').id);
    if (!row) throw new ApiError(404, 'not-found', 'No prediction with this id');
    return c.json(await presentPrediction(configFrom(c.env), row), 200);
  })
  .openapi(listPredictionsRoute, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const after = cursor === undefined ? null : decodeCursor(cursor);
    if (cursor !== undefined && after === null) {
      throw new ApiError(400, 'validation-failed', 'Invalid cursor', {
        errors: [{ pointer: '/query/cursor', message: 'not a cursor from this API' }],
      });
    }
    const config = configFrom(c.env);
    const page = await listPredictionRows(c.env.DB, c.get('caller').accountId, limit, after);
    const nextCursor = page.next ? encodeCursor(page.next) : null;
    return c.json(
      {
        results: await Promise.all(page.rows.map((row) => presentPrediction(config, row))),
        next_cursor: nextCursor,
        next: nextCursor ? `${config.PUBLIC_BASE_URL}/v1/predictions?limit=${limit}&cursor=${nextCursor}` : null,
      },
      200,
    );
  })
  .openapi(cancelPredictionRoute, async (c) => {
    const config = configFrom(c.env);
    const row = await getOwnPredictionRow(c.env.DB, c.get('caller').accountId, c.req.valid('param').id);
    if (!row) throw new ApiError(404, 'not-found', 'No prediction with this id');
    const outcome = await finishPrediction(c.env, c.get('statusListeners'), row.id, { status: 'canceled', error: null });
    // The work-queue listener has dropped its job, or signals `cancel` to the backend holding it at its next heartbeat.
    if (outcome.kind === 'applied') return c.json(await presentPrediction(config, outcome.row), 200);
    if (outcome.kind === 'not-found') throw new ApiError(404, 'not-found', 'No prediction with this id');
    if (outcome.row.status === 'canceled') return c.json(await presentPrediction(config, outcome.row), 200);
    throw new ApiError(409, 'invalid-state-transition', `The prediction already ended with status ${outcome.row.status}`);
  });
