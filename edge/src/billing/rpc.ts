/**
 * Inputs and results of the account meter's RPC methods. Inputs are zod schemas: the Durable Object parses
 * them on arrival (a boundary like any other), callers get the inferred types.
 * @module
 */
import { z } from 'zod';
import { PredictionId } from '../../../shared/internal.js';
import { AccountId } from '../ids.js';

const KeyId = z.string().min(1).max(64);

export const ReserveRequest = z.strictObject({
  accountId: AccountId,
  predictionId: PredictionId,
  keyId: KeyId,
  /** Whole request: per image × number of images. */
  credits: z.number().int().min(1),
  perImage: z.number().int().min(1),
});
export type ReserveRequest = z.infer<typeof ReserveRequest>;

export type ReserveResult =
  | { ok: true; balance: number; duplicate: boolean }
  | { ok: false; reason: 'insufficient-credits'; balance: number; needed: number }
  | { ok: false; reason: 'concurrency'; limit: number; active: number };

export const CommitRequest = z.strictObject({
  accountId: AccountId,
  predictionId: PredictionId,
  /** Images actually produced; each costs the per-image price reserved at accept (never more than reserved). */
  images: z.number().int().min(0),
});
export type CommitRequest = z.infer<typeof CommitRequest>;

export const ReleaseRequest = z.strictObject({ accountId: AccountId, predictionId: PredictionId });
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/** What a commit or release did: `closed` when this call settled the hold, `none` when nothing was held. */
export interface SettleResult {
  outcome: 'closed' | 'already-closed' | 'none';
  committed: number;
  released: number;
}

export const TopUpRequest = z.strictObject({
  accountId: AccountId,
  credits: z.number().int().min(1),
  note: z.string().max(500).nullable(),
  /** Admin `Idempotency-Key`: the top-up is applied once per key and account. */
  idempotencyKey: z.string().min(1).max(255).optional(),
});
export type TopUpRequest = z.infer<typeof TopUpRequest>;
export type TopUpResult = { outcome: 'applied' | 'replayed' | 'mismatch'; balance: number };

/** Per-key limits of an account. */
export const RateLimits = z.strictObject({
  requests_per_minute: z.number().int().min(1).max(100_000),
  concurrent_predictions: z.number().int().min(1).max(10_000),
});
export type RateLimits = z.infer<typeof RateLimits>;

export const SetLimitsRequest = z.strictObject({ accountId: AccountId, limits: RateLimits.nullable() });
export type SetLimitsRequest = z.infer<typeof SetLimitsRequest>;

export const HitRequest = z.strictObject({ accountId: AccountId, keyId: KeyId });
export type HitRequest = z.infer<typeof HitRequest>;

/** One request counted against the key's per-minute window. */
export interface HitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  windowSeconds: number;
  concurrency: { limit: number; active: number };
}

/** The meter's view of the account. */
export interface MeterSnapshot {
  balance: number;
  /** Credits held by open reservations. */
  reserved: number;
  openHolds: number;
  /** Ledger rows not yet written to D1. */
  pendingLedgerRows: number;
  limits: RateLimits;
  limitsSource: 'account' | 'default';
}

/** Open (or renew) a lease on one SSE stream of `keyId`; at most `max` unexpired leases per key. */
export const StreamLeaseRequest = z.strictObject({
  accountId: AccountId,
  keyId: KeyId,
  leaseId: z.string().min(1).max(64),
  ttlMs: z.number().int().min(1000).max(600_000),
  max: z.number().int().min(1).max(10_000),
});
export type StreamLeaseRequest = z.infer<typeof StreamLeaseRequest>;
export type StreamLeaseResult = { ok: true; open: number } | { ok: false; open: number };
