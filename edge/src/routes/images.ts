/**
 * OpenAI-compatible `POST /v1/images/generations`: the request becomes a native prediction, waited for
 * synchronously (up to 60 s), and answered as `{created, data:[{url}|{b64_json}]}`. Errors on this route use
 * OpenAI's `{error:{message,type,param,code}}` shape, so the official SDK works by changing `baseURL`.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import type { ImageData, ImageGenerationRequest, ImagesResponse } from '../schemas/openai.js';
import { PredictionInput, type CreatePredictionRequest } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { fieldErrors } from '../../../shared/http/field-errors.js';
import { defaultHook } from '../errors/default-hook.js';
import { acceptPrediction, predictionOfKey } from '../predictions/accept.js';
import { MAX_WAIT_S } from '../predictions/headers.js';
import { storedImages } from '../predictions/present.js';
import type { PredictionRow } from '../predictions/row.js';
import { finishPrediction } from '../predictions/transition.js';
import { waitForPrediction } from '../predictions/wait.js';
import { ImageGenerationRequestSchema, ImagesResponseSchema, openAIErrorResponse, rateLimitedResponse } from '../schemas/components.js';
import { streamImagesJson } from '../storage/b64-stream.js';
import { presignGet } from '../storage/s3.js';

export const createImageRoute = createRoute({
  method: 'post',
  path: '/v1/images/generations',
  tags: ['openai'],
  summary: 'Generate images (OpenAI-compatible)',
  description: `Waits up to ${MAX_WAIT_S} s (\`OPENAI_WAIT_S\`) for the images; a prediction not finished by then is canceled (its GPU work stopped, nothing charged) and the route answers 503. \`size\` is "WxH"; the native extras (negative_prompt, num_inference_steps, guidance_scale, seed, scheduler, output_format, deepcache) are accepted too.`,
  security: [{ bearerAuth: [] }],
  request: {
    headers: z.object({
      'idempotency-key': z
        .string()
        .max(300)
        .optional()
        .openapi({ description: 'Retries with the same key and body replay the first response for 24 h' }),
    }),
    body: { required: true, content: { 'application/json': { schema: ImageGenerationRequestSchema } } },
  },
  responses: {
    200: { description: 'The images', content: { 'application/json': { schema: ImagesResponseSchema } } },
    400: openAIErrorResponse(
      'Invalid request (`param` names the field; `model` when the model is unknown or not served, see `GET /v1/models`)',
    ),
    401: openAIErrorResponse('Invalid API key'),
    402: openAIErrorResponse('Not enough credits (`insufficient_quota`)'),
    409: openAIErrorResponse('A request with this Idempotency-Key is still in flight'),
    413: openAIErrorResponse('Body too large'),
    422: openAIErrorResponse('The Idempotency-Key was used with another body'),
    429: rateLimitedResponse('openai'),
    500: openAIErrorResponse('Generation failed'),
    503: openAIErrorResponse('Not finished in time; the prediction was canceled'),
  },
});

/** The native create request for an OpenAI-style request. */
export function toCreateRequest(body: ImageGenerationRequest): CreatePredictionRequest {
  const [width, height] = body.size === undefined ? [undefined, undefined] : body.size.split('x').map(Number);
  const input = PredictionInput.safeParse({
    prompt: body.prompt,
    num_outputs: body.n,
    ...(width === undefined ? {} : { width, height }),
    ...(body.negative_prompt === undefined ? {} : { negative_prompt: body.negative_prompt }),
    ...(body.num_inference_steps === undefined ? {} : { num_inference_steps: body.num_inference_steps }),
    ...(body.guidance_scale === undefined ? {} : { guidance_scale: body.guidance_scale }),
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    ...(body.scheduler === undefined ? {} : { scheduler: body.scheduler }),
    ...(body.output_format === undefined ? {} : { output_format: body.output_format }),
    ...(body.deepcache === undefined ? {} : { deepcache: body.deepcache }),
  });
  if (!input.success) {
    throw inOpenAITerms(new ApiError(400, 'validation-failed', 'Invalid request', { errors: fieldErrors(input.error, ['input']) }));
  }
  return { model: body.model, input: input.data };
}

/** Native field → OpenAI field, for error pointers. */
function openAIPointer(pointer: string): string {
  return pointer
    .replace(/^\/input\/(width|height)$/, '/size')
    .replace(/^\/input\/num_outputs$/, '/n')
    .replace(/^\/input\//, '/');
}

/** The same error as OpenAI reports it: invalid requests are 400, pointers name the OpenAI request's fields. */
export function inOpenAITerms(err: ApiError): ApiError {
  if (!err.errors) return err;
  return new ApiError(err.status === 422 ? 400 : err.status, err.code, err.detail, {
    errors: err.errors.map((e) => ({ ...e, pointer: openAIPointer(e.pointer) })),
    headers: err.headers,
    cause: err,
  });
}

/** Sub-app with the OpenAI-compatible route (mount behind `errorStyle('openai')` and auth). */
export const imageRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(createImageRoute, async (c) => {
  const body = c.req.valid('json');
  const config = configFrom(c.env);
  const existing = c.get('idempotentPrediction');
  const accepted =
    existing !== undefined
      ? await predictionOfKey(c.env, c.get('caller'), existing)
      : await acceptPrediction(c.env, c.get('caller'), toCreateRequest({ ...body, model: body.model ?? config.SERVED_MODELS[0] }), {
          listeners: c.get('statusListeners'),
          idempotency: c.get('idempotencyClaim'),
        }).catch((err: unknown) => {
          throw err instanceof ApiError ? inOpenAITerms(err) : err;
        });
  const response = await answerWithImages(c, accepted, body.response_format, 'Generation');
  return response as unknown as TypedResponse<ImagesResponse, 200, 'json'>;
});

/**
 * The OpenAI images answer for an accepted prediction (generations and edits): waits up to `OPENAI_WAIT_S`; a
 * prediction not finished by then is canceled — which also tells the backend holding it to stop (the work-queue
 * listener, at its next heartbeat), so no unpaid job runs on — and answered 503. Images come as presigned URLs, or as base64 streamed from
 * S3: memory per request stays at a few chunks whatever the images' size, and the response is not stored for replay
 * (a retry with the Idempotency-Key streams the same prediction's images again).
 */
export async function answerWithImages(
  c: Context<AppEnv>,
  accepted: PredictionRow,
  responseFormat: 'url' | 'b64_json',
  what: string,
): Promise<Response> {
  const config = configFrom(c.env);
  const row = await waitForPrediction(c.env, accepted, config.OPENAI_WAIT_S);
  if (row.status === 'starting' || row.status === 'processing') {
    await finishPrediction(c.env, c.get('statusListeners'), row.id, {
      status: 'canceled',
      error: 'Not finished within the synchronous wait',
    });
    throw new ApiError(503, 'backend-unavailable', `The images were not ready within ${config.OPENAI_WAIT_S} s`, {
      headers: { 'retry-after': '30' },
    });
  }
  if (row.status !== 'succeeded')
    throw new ApiError(500, 'internal-error', `${what} ${row.status}${row.error === null ? '' : `: ${row.error}`}`);
  const images = storedImages(row);
  const created = Math.floor(Date.parse(row.created_at) / 1000);
  if (responseFormat === 'b64_json') {
    c.set('responseNotStored', true);
    const stream = await streamImagesJson(
      config,
      created,
      images.map((img) => img.key),
    );
    return c.body(stream, 200, { 'content-type': 'application/json' });
  }
  const data: ImageData[] = await Promise.all(images.map(async (img): Promise<ImageData> => ({ url: await presignGet(config, img.key) })));
  return c.json({ created, data }, 200);
}
