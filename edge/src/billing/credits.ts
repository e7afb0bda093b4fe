/**
 * Pay-per-image credits as the rest of the edge uses them: reserve at accept, commit or release when the
 * prediction ends (a status listener), and the consistency check between the account's meter and the
 * D1 ledger.
 * @module
 */
import { isTerminal, terminalStatuses } from '../../../shared/prediction.js';
import type { Caller } from '../app-env.js';
import { ApiError } from '../errors/api-error.js';
import type { StatusListener } from '../predictions/status-change.js';
import type { PredictionRow } from '../predictions/row.js';
import { meterOf } from './account-meter.js';
import type { SettleResult } from './rpc.js';

/** The terminal statuses as an SQL list literal (constants, never user input). */
const TERMINAL_STATUS_SQL_LIST = terminalStatuses.map((status) => `'${status}'`).join(', ');

/**
 * Holds the price of a prediction on the caller's account.
 * @throws ApiError 402 `insufficient-credits` when the balance is below the price
 * @throws ApiError 429 `quota-exceeded` when the key already runs its maximum of concurrent predictions
 */
export async function reserveCredits(
  env: Env,
  caller: Caller,
  predictionId: string,
  price: { credits: number; per_image: number },
): Promise<void> {
  const result = await meterOf(env, caller.accountId).reserve({
    accountId: caller.accountId,
    keyId: caller.keyId,
    predictionId,
    credits: price.credits,
    perImage: price.per_image,
  });
  if (result.ok) return;
  if (result.reason === 'insufficient-credits') {
    throw new ApiError(402, 'insufficient-credits', `This prediction costs ${result.needed} credits; the balance is ${result.balance}`);
  }
  throw new ApiError(
    429,
    'quota-exceeded',
    `This API key already runs ${result.active} predictions (limit ${result.limit}); retry when one ends`,
    {
      headers: {
        'retry-after': '5',
        'ratelimit-policy': `"concurrency";q=${result.limit};qu="concurrent-requests"`,
        ratelimit: `"concurrency";r=0`,
      },
    },
  );
}

/** Returns a prediction's hold to the balance (no-op when nothing is held or it was settled already). */
export async function releaseCredits(env: Env, accountId: string, predictionId: string): Promise<SettleResult> {
  return meterOf(env, accountId).release({ accountId, predictionId });
}

/** Commits the images a successful prediction produced; releases the hold of any other ending. */
export const settleCredits: StatusListener = async (env, { row }) => settle(env, row);

async function settle(env: Env, row: PredictionRow): Promise<void> {
  if (row.status === 'succeeded') {
    const images = row.output_json === null ? 0 : (JSON.parse(row.output_json) as unknown[]).length;
    await meterOf(env, row.account_id).commit({ accountId: row.account_id, predictionId: row.id, images });
  } else if (isTerminal(row.status)) {
    await releaseCredits(env, row.account_id, row.id);
  }
}

/**
 * Settles the holds of ended predictions that still have only a `reserve` row (their listener failed, e.g. the
 * meter was unreachable). Run by the maintenance cron; settling is idempotent.
 * @returns how many predictions were settled
 */
export async function settleEndedHolds(env: Env, limit = 100): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT p.* FROM predictions p JOIN credit_ledger r ON r.prediction_id = p.id AND r.kind = 'reserve'
      WHERE p.status IN (${TERMINAL_STATUS_SQL_LIST})
        AND NOT EXISTS (SELECT 1 FROM credit_ledger s WHERE s.prediction_id = p.id AND s.kind IN ('commit', 'release'))
      LIMIT ?`,
  )
    .bind(limit)
    .all<PredictionRow>();
  for (const row of results) await settle(env, row);
  return results.length;
}

/** Both sides of the ledger check. */
export interface LedgerCheck {
  consistent: boolean;
  durable_object: { balance: number; reserved: number; pending_ledger_rows: number };
  ledger: { balance: number; reserved: number; committed: number; released: number; outstanding: number };
}

/**
 * Proves the meter and the D1 ledger agree: the meter's balance equals SUM(credits) and its open holds equal
 * the ledger's reserved − committed − released.
 */
export async function checkLedger(env: Env, accountId: string): Promise<LedgerCheck> {
  const snapshot = await meterOf(env, accountId).snapshot(accountId);
  const row = await env.DB.prepare(
    `SELECT COALESCE(SUM(credits), 0) AS balance,
            COALESCE(SUM(CASE WHEN kind = 'reserve' THEN amount END), 0) AS reserved,
            COALESCE(SUM(CASE WHEN kind = 'commit' THEN amount END), 0) AS committed,
            COALESCE(SUM(CASE WHEN kind = 'release' THEN amount END), 0) AS released
       FROM credit_ledger WHERE account_id = ?`,
  )
    .bind(accountId)
    .first<{ balance: number; reserved: number; committed: number; released: number }>();
  const ledger = row ?? { balance: 0, reserved: 0, committed: 0, released: 0 };
  const outstanding = ledger.reserved - ledger.committed - ledger.released;
  return {
    consistent: snapshot.pendingLedgerRows === 0 && snapshot.balance === ledger.balance && snapshot.reserved === outstanding,
    durable_object: { balance: snapshot.balance, reserved: snapshot.reserved, pending_ledger_rows: snapshot.pendingLedgerRows },
    ledger: { ...ledger, outstanding },
  };
}
