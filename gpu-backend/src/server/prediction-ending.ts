/**
 * How a prediction ends on this backend, and the event bodies the service and the batch runner hand to the
 * callback dispatcher. A leaf module: the service (`prediction-service.ts`) and the batch runner
 * (`batch-runner.ts`) both import it and neither imports the other's types through it.
 *
 * | ending | what the edge learns |
 * |---|---|
 * | `reported` | a `completed` event with the status, error and the typed `retryable` flag |
 * | `handed-back` | the lease is released (`POST /internal/fleet/release`); the edge queues the job again at once |
 * | `lost` | nothing: the lease is no longer this backend's, so nothing it reported would be applied |
 * @module
 */
import type { BackendEvent, BackendMetrics, StoredImage } from '../../../shared/internal.js';
import type { ReleaseRequest } from '../../../shared/fleet.js';

type EventBody<T extends BackendEvent['type']> = Omit<Extract<BackendEvent, { type: T }>, 'prediction_id' | 'attempt' | 'seq' | 'at'>;

/** An event without the fields the service fills in (prediction id, attempt, sequence number, time). */
export type EventInput = EventBody<'started'> | EventBody<'progress'> | EventBody<'completed'>;

/** Terminal statuses a `completed` event can carry. */
export type ReportedStatus = 'succeeded' | 'failed' | 'canceled' | 'aborted';

/** Why a lease is handed back unrun (a subset of the protocol's release reasons). */
export type HandBackReason = Extract<ReleaseRequest['reason'], 'draining' | 'failed'>;

/** How a prediction ends here. */
export type Ending =
  | {
      kind: 'reported';
      status: ReportedStatus;
      error: string | null;
      /** The prediction was given up without running to the end: the edge runs it again as a new attempt. */
      retryable: boolean;
      output?: StoredImage[];
      metrics?: BackendMetrics;
    }
  | { kind: 'handed-back'; reason: HandBackReason }
  | { kind: 'lost' };

/** Why a prediction's run was stopped before its end. */
export type AbortCause = 'canceled' | 'deadline' | 'lost' | 'shutdown';

/** The ending each abort cause leads to. */
export const abortEnding = {
  /** Canceled at the edge (heartbeat answer `cancel`). */
  canceled: { kind: 'reported', status: 'canceled', error: null, retryable: false },
  /** The job's Cancel-After deadline passed (its `deadline`, or the heartbeat answer `abort`). */
  deadline: { kind: 'reported', status: 'aborted', error: 'deadline passed', retryable: false },
  /** The lease is someone else's now (heartbeat answer `lost`). */
  lost: { kind: 'lost' },
  /** Draining ran out of time: the running batch stops between steps and its leases go back. */
  shutdown: { kind: 'handed-back', reason: 'draining' },
} as const satisfies Record<AbortCause, Ending>;

/** Ends a prediction (the service's `finish`, as the batch runner calls it). */
export type FinishPrediction<R> = (record: R, ending: Ending) => void;
