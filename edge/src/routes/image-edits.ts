/**
 * OpenAI-compatible `POST /v1/images/edits` (multipart, as the official SDK's `images.edit` sends it): `image`
 * (or `image[]`, the first one), optional `mask` whose transparent pixels mark the area to repaint, `prompt`,
 * `model`, `n`, `size`, `response_format`, plus the native extras `negative_prompt`, `num_inference_steps`,
 * `guidance_scale`, `seed`, `scheduler`, `prompt_strength`. With a mask the masked area is repainted from scratch
 * (prompt_strength 1 unless given); without one the whole image is transformed (image-to-image, default
 * strength). The upload becomes a native prediction, waited for like `/v1/images/generations`, and the inputs are
 * stored in S3 like every input image. Errors use OpenAI's shape.
 * @module
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { ImageResponseFormat, ImageSize } from '../schemas/openai.js';
import { PredictionInput, type CreatePredictionRequest } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { fieldErrors } from '../../../shared/http/field-errors.js';
import { defaultHook } from '../errors/default-hook.js';
import { acceptPrediction } from '../predictions/accept.js';
import { INPUT_IMAGE_LIMITS } from '../../../shared/input-image.js';
import { answerWithImages, inOpenAITerms } from './images.js';
import { ImagesResponseSchema, openAIErrorResponse, rateLimitedResponse } from '../schemas/components.js';

/** The multipart body as the reference documents it (the handler reads the form itself: files are not JSON). */
const EditForm = z
  .object({
    image: z.string().openapi({ format: 'binary', description: 'PNG, JPEG or WebP (also accepted as `image[]`)' }),
    mask: z
      .string()
      .optional()
      .openapi({ format: 'binary', description: 'Same size as the image; transparent pixels mark the area to repaint' }),
    prompt: z.string(),
    model: z.string().optional().openapi({ description: 'Default: the first served model' }),
    n: z.string().optional(),
    size: z.string().optional().openapi({ example: '512x512' }),
    response_format: ImageResponseFormat.optional(),
    prompt_strength: z.string().optional().openapi({ description: 'Native extra, 0–1; default 1 with a mask, 0.8 without' }),
  })
  .openapi('ImageEditForm');

const bad = (param: string, message: string) =>
  new ApiError(400, 'validation-failed', 'Invalid request', { errors: [{ pointer: `/${param}`, message }] });

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** An uploaded file as a data: URI (the native input form); its bytes are checked by the prediction's acceptance. */
async function fileField(form: FormData, names: readonly string[], param: string, required: boolean): Promise<string | undefined> {
  const value = names.map((n) => form.get(n)).find((v) => v !== null);
  if (value === undefined || value === null) {
    if (required) throw bad(param, `${param} is required (a PNG, JPEG or WebP file)`);
    return undefined;
  }
  if (typeof value === 'string') throw bad(param, `${param} must be a file upload`);
  if (value.size > INPUT_IMAGE_LIMITS.max_bytes) throw bad(param, `${param} is larger than ${INPUT_IMAGE_LIMITS.max_bytes} bytes`);
  return `data:application/octet-stream;base64,${base64(new Uint8Array(await value.arrayBuffer()))}`;
}

const text = (form: FormData, name: string): string | undefined => {
  const v = form.get(name);
  return typeof v === 'string' && v !== '' ? v : undefined;
};

const num = (form: FormData, name: string): number | undefined => {
  const v = text(form, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw bad(name, `${name} must be a number`);
  return n;
};

/** The native create request for a multipart edit request. @throws ApiError 400 in OpenAI's terms */
export async function toEditRequest(
  form: FormData,
  defaultModel: string | undefined,
): Promise<{ request: CreatePredictionRequest; responseFormat: ImageResponseFormat }> {
  const image = await fileField(form, ['image', 'image[]'], 'image', true);
  const mask = await fileField(form, ['mask'], 'mask', false);
  const prompt = text(form, 'prompt');
  if (prompt === undefined) throw bad('prompt', 'prompt is required');
  const model = text(form, 'model') ?? defaultModel;
  if (model === undefined) throw bad('model', 'model is required');
  const size = text(form, 'size');
  if (size !== undefined && !ImageSize.safeParse(size).success) throw bad('size', 'size must look like "512x512"');
  const format = ImageResponseFormat.safeParse(text(form, 'response_format') ?? 'url');
  if (!format.success) throw bad('response_format', 'response_format must be url or b64_json');
  const responseFormat = format.data;
  const [width, height] = size === undefined ? [undefined, undefined] : size.split('x').map(Number);
  const strength = num(form, 'prompt_strength');
  const optional = {
    negative_prompt: text(form, 'negative_prompt'),
    num_inference_steps: num(form, 'num_inference_steps'),
    guidance_scale: num(form, 'guidance_scale'),
    seed: num(form, 'seed'),
    scheduler: text(form, 'scheduler'),
    num_outputs: num(form, 'n'),
  };
  const input = PredictionInput.safeParse({
    prompt,
    image,
    ...(mask === undefined ? {} : { mask, mask_mode: 'transparent', prompt_strength: strength ?? 1 }),
    ...(mask === undefined && strength !== undefined ? { prompt_strength: strength } : {}),
    ...(width === undefined ? {} : { width, height }),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  });
  if (!input.success)
    throw inOpenAITerms(new ApiError(400, 'validation-failed', 'Invalid request', { errors: fieldErrors(input.error, ['input']) }));
  return { request: { model, input: input.data }, responseFormat };
}

/** Sub-app with the edits route (mount behind `errorStyle('openai')` and auth). */
export const imageEditRoutes = new OpenAPIHono<AppEnv>({ defaultHook });
imageEditRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: '/v1/images/edits',
  tags: ['openai'],
  summary: 'Edit an image (OpenAI-compatible)',
  description: `Image-to-image, or inpainting with a mask (transparent = repaint). Waits up to \`OPENAI_WAIT_S\` seconds (60 by default); a prediction not finished by then is canceled. Input images follow the limits of native input images.`,
  security: [{ bearerAuth: [] }],
  request: { body: { required: true, content: { 'multipart/form-data': { schema: EditForm } } } },
  responses: {
    200: { description: 'The images', content: { 'application/json': { schema: ImagesResponseSchema } } },
    400: openAIErrorResponse('Invalid request or unusable upload (`param` names the field: `image`, `mask`, …)'),
    401: openAIErrorResponse('Invalid API key'),
    402: openAIErrorResponse('Not enough credits (`insufficient_quota`)'),
    413: openAIErrorResponse('Body too large'),
    429: rateLimitedResponse('openai'),
    500: openAIErrorResponse('Generation failed'),
    503: openAIErrorResponse('Not finished in time; the prediction was canceled'),
  },
});
imageEditRoutes.post('/v1/images/edits', async (c) => {
  const config = configFrom(c.env);
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch {
    throw bad('image', 'the body must be multipart/form-data');
  }
  const { request, responseFormat } = await toEditRequest(form, config.SERVED_MODELS[0]);
  const accepted = await acceptPrediction(c.env, c.get('caller'), request, { listeners: c.get('statusListeners') }).catch(
    (err: unknown) => {
      throw err instanceof ApiError ? inOpenAITerms(err) : err;
    },
  );
  return answerWithImages(c, accepted, responseFormat, 'Edit');
});
