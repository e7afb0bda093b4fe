/**
 * Accepting a prediction: validate against the model → resolve defaults and seed → price → insert the row
 * (durable before it is acknowledged) → enqueue on the model's work queue, where GPU backends lease it. Credits
 * are reserved between pricing and the insert (released again if the insert fails; a queue failure ends the
 * prediction as failed, whose listener releases them; if the edge dies between the insert and the enqueue, the
 * reaper queues it). Idempotency wraps the route that calls this function.
 * @module
 */
import {
  findModelByRef,
  findModelByVersion,
  ModelVersionId,
  modelVersionId,
  qualifiedModelName,
  type ModelSpec,
} from '../../../shared/models.js';
import { priceFor } from '../../../shared/pricing.js';
import { checkInputForModel, resolveInput, type CreatePredictionRequest } from '../../../shared/prediction.js';
import type { Caller } from '../app-env.js';
import { releaseCredits, reserveCredits } from '../billing/credits.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { enqueuePrediction } from '../fleet/enqueue.js';
import { linkPredictionStatement, type IdempotencyClaim } from '../idempotency/store.js';
import { newPredictionId, randomSeed } from '../ids.js';
import { getOwnPredictionRow, type PredictionRow } from './row.js';
import type { StatusListeners } from './status-change.js';
import { finishPrediction } from './transition.js';
import { admitWebhook } from '../webhooks/admit.js';
import { inputObjectKey } from '../../../shared/input-image.js';
import { checkMaskSize, loadInputImage, sizeForImage, storeInputImages, type InputImage } from './input-images.js';

export interface AcceptOptions {
  /** The deployment's status listeners (wired in the Worker's entry). */
  listeners: StatusListeners;
  /** Cancel-After deadline (ISO time); not started by then → aborted (see `deadline.ts`). */
  deadline?: string;
  /** The Idempotency-Key this request holds: linked to the prediction in the INSERT's transaction. */
  idempotency?: IdempotencyClaim | undefined;
}

/**
 * The catalogue model a create request names, by `model` (id or `owner/name`) or Replicate's `version`
 * (version id, `owner/name:<version id>` or `owner/name`), with the pointer of the field that named it.
 * @throws ApiError 422 `validation-failed` for an unknown model or a version that is not a current one
 */
export async function requestedModel(
  request: Pick<CreatePredictionRequest, 'model' | 'version'>,
): Promise<{ spec: ModelSpec; pointer: '/model' | '/version' }> {
  if (request.version === undefined) {
    const spec = request.model === undefined ? undefined : findModelByRef(request.model);
    if (!spec)
      throw new ApiError(422, 'validation-failed', `Unknown model ${request.model ?? ''}`, {
        errors: [{ pointer: '/model', message: 'unknown model (see GET /v1/models)' }],
      });
    return { spec, pointer: '/model' };
  }
  const [ref, id] = ModelVersionId.safeParse(request.version).success ? [undefined, request.version] : request.version.split(':', 2);
  const spec = ref === undefined ? await findModelByVersion(id ?? '') : findModelByRef(ref);
  if (!spec)
    throw new ApiError(422, 'validation-failed', `Unknown model version ${request.version}`, {
      errors: [{ pointer: '/version', message: 'unknown model or version (see GET /v1/models)' }],
    });
  if (id !== undefined && id !== (await modelVersionId(spec))) {
    throw new ApiError(422, 'validation-failed', `${id} is not a version of ${qualifiedModelName(spec)}`, {
      errors: [
        {
          pointer: '/version',
          message: `not the current version of ${qualifiedModelName(spec)} (see GET /v1/models/${qualifiedModelName(spec)}/versions)`,
        },
      ],
    });
  }
  return { spec, pointer: '/version' };
}

/**
 * Accepts a create request for `caller`.
 * @throws ApiError 422 `validation-failed` for an unknown or unserved model (`SERVED_MODELS`), model-dependent bounds or a refused webhook
 *   URL (nothing stored).
 * @throws ApiError 402 `insufficient-credits` / 429 `quota-exceeded` from the reservation (nothing stored).
 * @throws ApiError 503 `backend-unavailable` when the queue refuses the job (the row ends as failed).
 * @returns the inserted row
 */
export async function acceptPrediction(
  env: Env,
  caller: Caller,
  request: CreatePredictionRequest,
  options: AcceptOptions,
): Promise<PredictionRow> {
  // 1. Validate against the model registry and the models this deployment serves.
  const { spec, pointer } = await requestedModel(request);
  if (!configFrom(env).SERVED_MODELS.includes(spec.id)) {
    throw new ApiError(422, 'validation-failed', `Model ${spec.id} is not served here`, {
      errors: [{ pointer, message: 'model not served (see GET /v1/models)' }],
    });
  }
  // 1a. Input images: fetched or decoded from data: URIs and checked by their headers before anything is charged;
  // without an explicit size the output takes the image's (fitted to the model).
  let input = request.input;
  let images: { image: InputImage; mask?: InputImage } | undefined;
  if (input.image !== undefined) {
    const image = await loadInputImage(env, input.image, '/input/image');
    const mask = input.mask === undefined ? undefined : await loadInputImage(env, input.mask, '/input/mask');
    if (mask) checkMaskSize(image, mask);
    images = { image, ...(mask ? { mask } : {}) };
    if (input.width === undefined && input.height === undefined) input = { ...input, ...sizeForImage(image, spec) };
  }
  const issues = checkInputForModel(input, spec);
  if (issues.length > 0) throw new ApiError(422, 'validation-failed', 'The input does not fit the model', { errors: issues });

  // 1b. The webhook must be a public address (SSRF guard); naming it again re-enables it after a 410.
  if (request.webhook !== undefined) await admitWebhook(env, caller.accountId, request.webhook);

  // 2. Resolve defaults and draw the seed; input images are referenced by the keys they are stored under.
  const id = newPredictionId();
  const prefix = configFrom(env).S3_PREFIX;
  const keys = images
    ? { image: inputObjectKey(prefix, id, 'image'), ...(images.mask ? { mask: inputObjectKey(prefix, id, 'mask') } : {}) }
    : {};
  const resolved = { ...resolveInput(input, spec, randomSeed), ...keys };
  const storedInput = { ...input, ...keys };

  // 3. Price (recorded on the prediction) and reserve it on the account.
  const price = priceFor(spec, resolved);
  const { credits } = price;
  await reserveCredits(env, caller, id, price);

  // 3b. Store the input images beside the outputs (released again if that fails).
  if (images) {
    try {
      await storeInputImages(env, id, images);
    } catch (err) {
      await releaseCredits(env, caller.accountId, id);
      throw new ApiError(503, 'backend-unavailable', 'The input image could not be stored; retry later', {
        headers: { 'retry-after': '5' },
        cause: err,
      });
    }
  }

  // 4. Insert: durable before acknowledged.
  const row: PredictionRow = {
    id,
    account_id: caller.accountId,
    key_id: caller.keyId,
    model: spec.id,
    status: 'starting',
    input_json: JSON.stringify(storedInput),
    resolved_json: JSON.stringify(resolved),
    output_json: null,
    error: null,
    metrics_json: '{}',
    progress_step: null,
    progress_total: null,
    cost_credits: credits,
    attempt: 0,
    last_seq: -1,
    backend: null,
    deadline: options.deadline ?? null,
    webhook: request.webhook ?? null,
    webhook_events_filter: request.webhook_events_filter ? JSON.stringify(request.webhook_events_filter) : null,
    created_at: new Date().toISOString(),
    started_at: null,
    completed_at: null,
  };
  const columns = Object.keys(row);
  try {
    const insert = env.DB.prepare(`INSERT INTO predictions (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).bind(
      ...Object.values(row),
    );
    // With an Idempotency-Key, the key records this prediction in the same transaction: from now on every retry
    // answers with it, whatever happens to this request.
    if (options.idempotency) await env.DB.batch([insert, linkPredictionStatement(env.DB, options.idempotency, id)]);
    else await insert.run();
  } catch (err) {
    await releaseCredits(env, caller.accountId, id);
    throw err;
  }

  // 5. Enqueue on the model's work queue. If it refuses, the prediction ends as failed (nothing ran, nothing is owed).
  try {
    await enqueuePrediction(env, row);
  } catch (err) {
    await finishPrediction(env, options.listeners, row.id, { status: 'failed', error: 'The prediction could not be queued' });
    throw new ApiError(503, 'backend-unavailable', 'The prediction could not be queued; retry later', {
      headers: { 'retry-after': '5' },
      cause: err,
    });
  }
  return row;
}

/**
 * The prediction an Idempotency-Key already created (the retry answers with it).
 * @throws ApiError 500 when it is gone (it never is: rows are not deleted)
 */
export async function predictionOfKey(env: Env, caller: Caller, predictionId: string): Promise<PredictionRow> {
  const row = await getOwnPredictionRow(env.DB, caller.accountId, predictionId);
  if (!row) throw new ApiError(500, 'internal-error', 'The prediction of this Idempotency-Key is missing');
  return row;
}
