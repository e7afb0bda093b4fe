/**
 * The backend's record of one prediction: the job, its status and results, its abort handle, and the
 * per-prediction event sequence. `viewOf` renders what the service tells about it.
 * @module
 */
import type { BackendJob, BackendJobStatus, BackendMetrics, StoredImage } from '../../../shared/internal.js';
import type { QueueEntry } from './batch-queue.js';
import type { AbortCause, Ending } from './prediction-ending.js';

/** Local status of a record: a job status, or how a lease ended without a report (see `prediction-ending.ts`). */
export type RecordStatus = BackendJobStatus | 'released' | 'lost';

export interface PredictionRecord extends QueueEntry {
  readonly job: BackendJob;
  /** Latest lease attempt seen for this id; events and heartbeats carry it. */
  attempt: number;
  status: RecordStatus;
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
  /** How it ended (undefined while queued or running). */
  ending: Ending | undefined;
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
    ending: undefined,
    completedDelivery: undefined,
  };
}

export function isFinished(status: RecordStatus): boolean {
  return status !== 'queued' && status !== 'processing';
}

/** What the service tells about one prediction (tests, logs). */
export interface RecordView {
  id: string;
  attempt: number;
  status: RecordStatus;
  progress: { step: number; total: number } | null;
  output: StoredImage[] | null;
  error: string | null;
  metrics: BackendMetrics;
}

export function viewOf(r: PredictionRecord): RecordView {
  return { id: r.job.id, attempt: r.attempt, status: r.status, progress: r.progress, output: r.output, error: r.error, metrics: r.metrics };
}
