/**
 * Reads on accounts: balance (the sum of the credit ledger) and usage per period.
 * @module
 */

export interface AccountRow {
  id: string;
  name: string;
  created_at: string;
}

export interface Usage {
  period_start: string;
  predictions: number;
  succeeded: number;
  images: number;
  credits: number;
}

/** Balance in credits: the sum of the account's ledger rows. */
export async function accountBalance(db: D1Database, accountId: string): Promise<number> {
  const row = await db.prepare('SELECT COALESCE(SUM(credits), 0) AS balance FROM credit_ledger WHERE account_id = ?').bind(accountId).first<{ balance: number }>();
  return row?.balance ?? 0;
}

/** First instant of the current UTC month. */
export function monthStart(now: Date = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

/**
 * Usage since `since`: predictions created, succeeded, images produced and credits priced on successes.
 * @param keyId restrict to one API key
 */
export async function usageSince(db: D1Database, accountId: string, since: string, keyId?: string): Promise<Usage> {
  const keyFilter = keyId === undefined ? '' : ' AND key_id = ?';
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS predictions,
              COALESCE(SUM(status = 'succeeded'), 0) AS succeeded,
              COALESCE(SUM(CASE WHEN status = 'succeeded' THEN json_array_length(output_json) ELSE 0 END), 0) AS images,
              COALESCE(SUM(CASE WHEN status = 'succeeded' THEN cost_credits ELSE 0 END), 0) AS credits
         FROM predictions WHERE account_id = ? AND created_at >= ?${keyFilter}`,
    )
    .bind(accountId, since, ...(keyId === undefined ? [] : [keyId]))
    .first<Omit<Usage, 'period_start'>>();
  return { period_start: since, predictions: row?.predictions ?? 0, succeeded: row?.succeeded ?? 0, images: row?.images ?? 0, credits: row?.credits ?? 0 };
}
