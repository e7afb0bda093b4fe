/**
 * The backend's record of one prediction: the job, its status and results, its abort handle, and the
 * per-prediction event sequence. `stateOf` renders the `BackendPredictionState` the HTTP API answers with.
 * @module
 */
import type { BackendJob, BackendJobStatus, BackendMetrics, BackendPredictionState, StoredImage } from '../../../shared/internal.js';
import type { QueueEntry } from './batch-queue.js';

/** Why a prediction's run was stopped. */
export type AbortCause = 'canceled' | 'deadline' | 'shutdown';

/** Terminal status and error for each abort cause. */
export const abortOutcome = {
  canceled: { status: 'canceled', error: null },
  deadline: { status: 'aborted', error: 'deadline passed' },
  shutdown: { status: 'failed', error: 'retryable: backend shut down before the prediction finished' },
} as const satisfies Record<AbortCause, { status: BackendJobStatus; error: string | null }>;

/** Error text prefix for failures the edge should re-dispatch (the prediction was not run to the end here). */
export const RETRYABLE_ERROR_PREFIX = 'retryable:';

export interface PredictionRecord extends QueueEntry {
  readonly job: BackendJob;
  /** Latest dispatch attempt seen for this id; events carry it. */
  attempt: number;
  status: BackendJobStatus;
  progress: { step: number; total: number } | null;
  output: StoredImage[] | null;
  error: string | null;
  metrics: BackendMetrics;
  readonly controller: AbortController;
  abortCause: AbortCause | undefined;
  /** Next event sequence number. */
  seq: number;
  startedAt: number | undefined;
  lastProgressSentAt: number;
  deadlineTimer: NodeJS.Timeout | undefined;
  /** Resolves when the completed event was delivered or given up on. */
  completedDelivery: Promise<unknown> | undefined;
}

/** A new queued record for a job. */
export function newRecord(job: BackendJob, key: string, now: number): PredictionRecord {
  return {
    job,
    key,
    size: job.input.num_outputs,
    enqueuedAt: now,
    attempt: job.attempt,
    status: 'queued',
    progress: null,
    output: null,
    error: null,
    metrics: {},
    controller: new AbortController(),
    abortCause: undefined,
    seq: 0,
    startedAt: undefined,
    lastProgressSentAt: 0,
    deadlineTimer: undefined,
    completedDelivery: undefined,
  };
}

export function isFinished(status: BackendJobStatus): boolean {
  return status !== 'queued' && status !== 'processing';
}

/** The API view of a record. */
export function stateOf(r: PredictionRecord): BackendPredictionState {
  return {
    id: r.job.id,
    attempt: r.attempt,
    status: r.status,
    progress: r.progress,
    output: r.output,
    error: r.error,
    metrics: r.metrics,
  };
}
