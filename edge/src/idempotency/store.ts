/**
 * Idempotency-Key records in D1 (draft-ietf-httpapi-idempotency-key-header), scoped per account. A record is
 * claimed atomically (INSERT … ON CONFLICT … RETURNING), holds the request fingerprint, and once the first
 * request has answered, its response. Records live 24 h; a claim whose request died is taken over after the
 * lock runs out.
 * @module
 */

/** How long a key and its stored response are kept. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long an in-flight request holds its key (longer than any synchronous wait). */
const IDEMPOTENCY_LOCK_MS = 150_000;

/** Largest response body stored for replay (D1 rows are limited; `b64_json` image responses can exceed it). */
const MAX_STORED_BODY_BYTES = 1024 * 1024;

/** Response headers kept with the stored response. */
export const STORED_HEADERS = ['content-type', 'location', 'preference-applied'] as const;

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A response to record: a null body is not stored (streamed, or too large). */
export type CompletedResponse = Omit<StoredResponse, 'body'> & { body: string | null };

export type Claim =
  /** Process the request; `predictionId` is set when a request that died had already created the prediction. */
  | { kind: 'owned'; owner: string; predictionId: string | null }
  /** The key created this prediction and has no stored response to replay: answer with the prediction. */
  | { kind: 'attach'; predictionId: string }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'not-replayable'; status: number; headers: Record<string, string> }
  | { kind: 'in-flight' }
  | { kind: 'mismatch' };

interface RecordRow {
  fingerprint: string;
  state: 'in-flight' | 'completed';
  owner: string;
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  prediction_id: string | null;
}

/** Claims `key` for a request with `fingerprint`, or says why it cannot be processed now. */
export async function claimKey(
  db: D1Database,
  accountId: string,
  key: string,
  fingerprint: string,
  nowMs: number = Date.now(),
): Promise<Claim> {
  const owner = crypto.randomUUID();
  const now = new Date(nowMs).toISOString();
  const claimed = await db
    .prepare(
      `INSERT INTO idempotency_keys (account_id, idem_key, fingerprint, state, owner, locked_until, created_at, expires_at)
       VALUES (?1, ?2, ?3, 'in-flight', ?4, ?5, ?6, ?7)
       ON CONFLICT (account_id, idem_key) DO UPDATE SET
         fingerprint = excluded.fingerprint, state = 'in-flight', owner = excluded.owner, locked_until = excluded.locked_until,
         response_status = NULL, response_headers = NULL, response_body = NULL,
         prediction_id = CASE WHEN idempotency_keys.expires_at <= ?6 THEN NULL ELSE idempotency_keys.prediction_id END,
         created_at = CASE WHEN idempotency_keys.expires_at <= ?6 THEN excluded.created_at ELSE idempotency_keys.created_at END,
         expires_at = CASE WHEN idempotency_keys.expires_at <= ?6 THEN excluded.expires_at ELSE idempotency_keys.expires_at END
       WHERE idempotency_keys.expires_at <= ?6
          OR (idempotency_keys.state = 'in-flight' AND idempotency_keys.locked_until <= ?6 AND idempotency_keys.fingerprint = ?3)
       RETURNING owner, prediction_id`,
    )
    .bind(
      accountId,
      key,
      fingerprint,
      owner,
      new Date(nowMs + IDEMPOTENCY_LOCK_MS).toISOString(),
      now,
      new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString(),
    )
    .first<{ owner: string; prediction_id: string | null }>();
  if (claimed?.owner === owner) return { kind: 'owned', owner, predictionId: claimed.prediction_id };
  const row = await db
    .prepare(
      'SELECT fingerprint, state, owner, response_status, response_headers, response_body, prediction_id FROM idempotency_keys WHERE account_id = ? AND idem_key = ?',
    )
    .bind(accountId, key)
    .first<RecordRow>();
  // Deleted in between (the first request failed): the caller may simply retry.
  if (!row) return { kind: 'in-flight' };
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.state === 'in-flight') return { kind: 'in-flight' };
  if (row.response_body === null && row.prediction_id !== null) return { kind: 'attach', predictionId: row.prediction_id };
  if (row.response_status === null) return { kind: 'in-flight' };
  const headers = JSON.parse(row.response_headers ?? '{}') as Record<string, string>;
  if (row.response_body === null) return { kind: 'not-replayable', status: row.response_status, headers };
  return {
    kind: 'replay',
    response: {
      status: row.response_status,
      headers: JSON.parse(row.response_headers ?? '{}') as Record<string, string>,
      body: row.response_body ?? '',
    },
  };
}

/**
 * Stores the first request's response under its key. A body above MAX_STORED_BODY_BYTES is not stored (the
 * key stays used, so a retry cannot create a second prediction; it is answered 409 instead of a replay).
 */
export async function completeKey(
  db: D1Database,
  accountId: string,
  key: string,
  owner: string,
  response: CompletedResponse,
): Promise<void> {
  const body = response.body !== null && new TextEncoder().encode(response.body).length <= MAX_STORED_BODY_BYTES ? response.body : null;
  await db
    .prepare(
      "UPDATE idempotency_keys SET state = 'completed', response_status = ?, response_headers = ?, response_body = ? WHERE account_id = ? AND idem_key = ? AND owner = ?",
    )
    .bind(response.status, JSON.stringify(response.headers), body, accountId, key, owner)
    .run();
}

/**
 * Ends a request that did not answer 2xx. Without a prediction (nothing was charged) the key is freed and a retry
 * is processed anew; once the key created a prediction the record is kept, without a response, so that every
 * retry answers with that prediction.
 */
export async function releaseKey(db: D1Database, accountId: string, key: string, owner: string): Promise<void> {
  await db.batch([
    db
      .prepare(
        "DELETE FROM idempotency_keys WHERE account_id = ? AND idem_key = ? AND owner = ? AND state = 'in-flight' AND prediction_id IS NULL",
      )
      .bind(accountId, key, owner),
    db
      .prepare(
        "UPDATE idempotency_keys SET state = 'completed', response_status = NULL, response_headers = NULL, response_body = NULL WHERE account_id = ? AND idem_key = ? AND owner = ? AND state = 'in-flight'",
      )
      .bind(accountId, key, owner),
  ]);
}

/** The key of a request being processed, for linking the prediction it creates. */
export interface IdempotencyClaim {
  accountId: string;
  key: string;
  owner: string;
}

/** The statement recording that `claim`'s request created `predictionId` (run in one batch with the INSERT). */
export function linkPredictionStatement(db: D1Database, claim: IdempotencyClaim, predictionId: string): D1PreparedStatement {
  return db
    .prepare('UPDATE idempotency_keys SET prediction_id = ? WHERE account_id = ? AND idem_key = ? AND owner = ?')
    .bind(predictionId, claim.accountId, claim.key, claim.owner);
}

/**
 * Deletes records past their 24 h (run by the scheduled handler).
 * @returns how many were deleted
 */
export async function deleteExpiredKeys(db: D1Database, nowMs: number = Date.now()): Promise<number> {
  const result = await db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?').bind(new Date(nowMs).toISOString()).run();
  return result.meta.changes ?? 0;
}
