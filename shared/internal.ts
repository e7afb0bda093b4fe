/**
 * The internal protocol between the edge and the GPU backends: the `BackendJob` a backend leases from the edge
 * (how it leases, renews and hands back work is `fleet.ts`), the `BackendEvent`s it POSTs to the job's
 * `callback_url` to report progress and the end of a prediction, and its health document.
 * Every request in both directions is signed (see `signing.ts`).
 * @module
 */
import { z } from 'zod';
import { ModelId } from './models.js';
import { UNetStepKind } from './deepcache.js';
import { ImageContentType } from './image-format.js';
import { ResolvedInput, TerminalStatus } from './prediction.js';

/**
 * Shortest `INTERNAL_SECRET` (and `INTERNAL_SECRET_PREVIOUS`) the edge and the backends accept: the HMAC key of
 * every internal request and callback.
 */
export const INTERNAL_SECRET_MIN_LENGTH = 32;

/** An internal secret setting named `name`, at least {@link INTERNAL_SECRET_MIN_LENGTH} characters. */
export function internalSecretSetting(name: string) {
  return z.string().min(INTERNAL_SECRET_MIN_LENGTH, `${name} must be at least ${INTERNAL_SECRET_MIN_LENGTH} characters`);
}

/** Prediction ids: URL-safe, 16–64 characters. */
export const PredictionId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a prediction id');
export type PredictionId = z.infer<typeof PredictionId>;

/** What the edge asks a backend to run. Re-sending the same id never runs it twice. */
export const BackendJob = z.strictObject({
  id: PredictionId,
  model: ModelId,
  input: ResolvedInput,
  /** Dispatch attempt (1-based); events carry it so late events of an older attempt can be ignored. */
  attempt: z.number().int().min(1),
  /** Object key prefix; images go to `<prefix>/<id>/<index>.<ext>`. */
  output_prefix: z.string().regex(/^[A-Za-z0-9._/-]{1,200}$/),
  callback_url: z.url({ protocol: /^https?$/ }),
  /** Cancel-After deadline: not started by then → aborted; running past it → aborted between steps. */
  deadline: z.iso.datetime().optional(),
  /** Whether to POST per-step progress events (start and completion are always sent). */
  progress_events: z.boolean().default(true),
});
export type BackendJob = z.infer<typeof BackendJob>;

export const BackendJobStatus = z.enum(['queued', 'processing', ...TerminalStatus.options]);
export type BackendJobStatus = z.infer<typeof BackendJobStatus>;

/** One stored output image. */
export const StoredImage = z.object({
  index: z.number().int().min(0),
  key: z.string(),
  content_type: ImageContentType,
  bytes: z.number().int().min(0),
  width: z.number().int(),
  height: z.number().int(),
});
export type StoredImage = z.infer<typeof StoredImage>;

export const BackendMetrics = z.object({
  predict_time: z.number().optional(),
  queue_time: z.number().optional(),
  unet_full_steps: z.number().int().optional(),
  unet_shallow_steps: z.number().int().optional(),
  batch_size: z.number().int().optional(),
});
export type BackendMetrics = z.infer<typeof BackendMetrics>;

const EventBase = {
  prediction_id: PredictionId,
  attempt: z.number().int().min(1),
  /** Per (prediction, attempt), strictly increasing: the edge drops duplicates and stale events. */
  seq: z.number().int().min(0),
  at: z.iso.datetime(),
};

/** Events a backend POSTs to the callback URL. */
export const BackendEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('started'), ...EventBase }),
  z.strictObject({
    type: z.literal('progress'),
    ...EventBase,
    step: z.number().int().min(1),
    total: z.number().int().min(1),
    unet: UNetStepKind,
  }),
  z.strictObject({
    type: z.literal('completed'),
    ...EventBase,
    status: TerminalStatus,
    output: z.array(StoredImage).nullable(),
    error: z.string().nullable(),
    metrics: BackendMetrics,
    /**
     * The backend gave the prediction up without running it to the end (it shut down or failed as a whole):
     * the edge re-dispatches it with a new attempt instead of failing it.
     */
    retryable: z.boolean().default(false),
  }),
]);
export type BackendEvent = z.infer<typeof BackendEvent>;

/** Health states a backend reports at `GET /health-check` (always HTTP 200). */
export const BackendHealthStatus = z.enum(['STARTING', 'READY', 'BUSY', 'SETUP_FAILED', 'DEFUNCT']);
export type BackendHealthStatus = z.infer<typeof BackendHealthStatus>;

export const BackendHealth = z.object({
  status: BackendHealthStatus,
  models: z.array(z.string()),
  execution_provider: z.string().nullable(),
  queue_depth: z.number().int().min(0),
  queue_capacity: z.number().int().min(0),
  running: z.number().int().min(0),
  setup_error: z.string().nullable().optional(),
});
export type BackendHealth = z.infer<typeof BackendHealth>;
