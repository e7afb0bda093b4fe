/**
 * The fleet protocol: GPU backends pull work from the edge; the edge never needs their addresses.
 *
 * | step | request (signed with the internal secret, see `signing.ts`) | answer |
 * |---|---|---|
 * | ask for work | `POST /internal/fleet/lease` {@link LeaseRequest} (long poll up to `wait_ms`) | {@link LeaseResponse}: up to `capacity` jobs, each under a lease |
 * | keep leases | `POST /internal/fleet/heartbeat` {@link HeartbeatRequest} every `heartbeat_ms` | {@link HeartbeatResponse}: per lease, go on / cancel / abort / lost |
 * | hand back | `POST /internal/fleet/release` {@link ReleaseRequest} (draining pod, jobs not run) | {@link ReleaseResponse} |
 * | report | `POST /internal/predictions/:id/events` with `BackendEvent`s (as before) | 202 |
 * | scale | `GET /internal/fleet/backlog` (bearer token, for KEDA's `metrics-api` scaler) | {@link BacklogReport} |
 *
 * A lease is (prediction id, attempt). Each lease of a prediction is a new attempt; events of an older attempt
 * are ignored. A lease not renewed within its TTL expires and the job is queued again as the next attempt.
 * @module
 */
import { z } from 'zod';
import { BackendJob, PredictionId } from './internal.js';
import { ModelId } from './models.js';

/** Paths of the fleet endpoints on the edge. */
export const FLEET_PATHS = {
  lease: '/internal/fleet/lease',
  heartbeat: '/internal/fleet/heartbeat',
  release: '/internal/fleet/release',
  backlog: '/internal/fleet/backlog',
} as const;

/** Longest long poll a backend may ask for (Workers keep a request open far longer; proxies usually don't). */
export const MAX_LEASE_WAIT_MS = 25_000;

/** Most jobs one lease request may take (a backend asks for its free batch capacity). */
export const MAX_LEASE_CAPACITY = 64;

/** A backend process's name in the fleet (logs, the prediction's `backend` column); unique per process. */
export const WorkerId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'worker ids are 1–128 of A–Z a–z 0–9 . _ : -');
export type WorkerId = z.infer<typeof WorkerId>;

/** One lease: the prediction and the attempt it was leased as. */
export const LeaseRef = z.strictObject({
  prediction_id: PredictionId,
  attempt: z.number().int().min(1),
});
export type LeaseRef = z.infer<typeof LeaseRef>;

/** A backend asks for up to `capacity` jobs of one model it has loaded, waiting up to `wait_ms` for some. */
export const LeaseRequest = z.strictObject({
  worker_id: WorkerId,
  model: ModelId,
  capacity: z.number().int().min(1).max(MAX_LEASE_CAPACITY),
  wait_ms: z.number().int().min(0).max(MAX_LEASE_WAIT_MS).default(0),
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

/** One leased job: what to run (its `attempt` names the lease) and when the lease runs out unless renewed. */
export const LeasedJob = z.strictObject({
  job: BackendJob,
  lease_expires_at: z.iso.datetime(),
});
export type LeasedJob = z.infer<typeof LeasedJob>;

export const LeaseResponse = z.strictObject({
  /** Empty when nothing arrived within `wait_ms`. */
  jobs: z.array(LeasedJob),
  /** Lease lifetime granted by each lease or heartbeat. */
  lease_ttl_ms: z.number().int().min(1),
  /** How often the backend should send heartbeats (well under the TTL). */
  heartbeat_ms: z.number().int().min(1),
});
export type LeaseResponse = z.infer<typeof LeaseResponse>;

/** A lease the backend still holds, with the progress of its job. */
export const HeldLease = LeaseRef.extend({
  progress: z.strictObject({ step: z.number().int().min(0), total: z.number().int().min(1) }).optional(),
});
export type HeldLease = z.infer<typeof HeldLease>;

export const HeartbeatRequest = z.strictObject({
  worker_id: WorkerId,
  leases: z.array(HeldLease).max(256),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

/**
 * What the backend does with a lease after a heartbeat:
 * - `continue`: the lease is renewed until `expires_at`;
 * - `cancel`: the prediction was canceled at the edge; stop it and report it `canceled`;
 * - `abort`: its Cancel-After deadline passed; stop it and report it `aborted`;
 * - `lost`: the lease is no longer this backend's (expired and leased again, or the prediction ended); stop
 *   the work, nothing it reports for this attempt will be applied.
 */
export const LeaseAction = z.enum(['continue', 'cancel', 'abort', 'lost']);
export type LeaseAction = z.infer<typeof LeaseAction>;

export const HeartbeatResponse = z.strictObject({
  leases: z.array(
    LeaseRef.extend({
      action: LeaseAction,
      expires_at: z.iso.datetime().nullable(),
    }),
  ),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

/** A backend hands leases back unstarted (draining, shutting down): each job is queued again at once. */
export const ReleaseRequest = z.strictObject({
  worker_id: WorkerId,
  leases: z.array(LeaseRef).max(256),
  reason: z.enum(['draining', 'shutdown', 'failed']),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

export const ReleaseResponse = z.strictObject({
  /** Leases that were this backend's and are queued again (others were already lost or ended). */
  released: z.number().int().min(0),
});
export type ReleaseResponse = z.infer<typeof ReleaseResponse>;

/** Backlog per model, the number KEDA scales the GPU Deployment on. */
export const ModelBacklog = z.strictObject({
  /** Jobs waiting for a backend. */
  queued: z.number().int().min(0),
  /** Jobs a backend holds under a live lease. */
  leased: z.number().int().min(0),
});
export type ModelBacklog = z.infer<typeof ModelBacklog>;

export const BacklogReport = z.strictObject({
  models: z.record(ModelId, ModelBacklog),
  /** Sums over every model. */
  queued: z.number().int().min(0),
  leased: z.number().int().min(0),
});
export type BacklogReport = z.infer<typeof BacklogReport>;
