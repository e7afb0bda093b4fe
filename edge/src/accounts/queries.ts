/**
 * Reads on accounts: balance (the sum of the credit ledger) and usage per period.
 * @module
 */
import { ApiError } from '../errors/api-error.js';

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
  const row = await db
    .prepare('SELECT COALESCE(SUM(credits), 0) AS balance FROM credit_ledger WHERE account_id = ?')
    .bind(accountId)
    .first<{ balance: number }>();
  return row?.balance ?? 0;
}

/** First instant of the current UTC month. */
export function monthStart(now: Date = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

/** First instant of the current UTC day. */
export function dayStart(now: Date = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();
}

const emptyUsage = { predictions: 0, succeeded: 0, images: 0, credits: 0 };

/**
 * Usage since `since`: predictions created, succeeded, images produced (from `predictions`) and credits
 * charged (the ledger's `commit` rows).
 * @param keyId restrict to one API key
 */
export async function usageSince(db: D1Database, accountId: string, since: string, keyId?: string): Promise<Usage> {
  const byKey = await usageByKey(db, accountId, since);
  if (keyId !== undefined) return { period_start: since, ...emptyUsage, ...omitKey(byKey.find((u) => u.key_id === keyId)) };
  const total = byKey.reduce(
    (sum, u) => ({
      predictions: sum.predictions + u.predictions,
      succeeded: sum.succeeded + u.succeeded,
      images: sum.images + u.images,
      credits: sum.credits + u.credits,
    }),
    emptyUsage,
  );
  return { period_start: since, ...total };
}

function omitKey(u: (Usage & { key_id: string }) | undefined): Omit<Usage, 'period_start'> | undefined {
  if (!u) return undefined;
  return { predictions: u.predictions, succeeded: u.succeeded, images: u.images, credits: u.credits };
}

/** Usage since `since` per API key of the account (keys without activity are left out). */
export async function usageByKey(db: D1Database, accountId: string, since: string): Promise<(Usage & { key_id: string })[]> {
  const [predictions, charges] = await db.batch<{
    key_id: string;
    predictions?: number;
    succeeded?: number;
    images?: number;
    credits?: number;
  }>([
    db
      .prepare(
        `SELECT key_id, COUNT(*) AS predictions,
                COALESCE(SUM(status = 'succeeded'), 0) AS succeeded,
                COALESCE(SUM(CASE WHEN status = 'succeeded' THEN json_array_length(output_json) ELSE 0 END), 0) AS images
           FROM predictions WHERE account_id = ? AND created_at >= ? GROUP BY key_id`,
      )
      .bind(accountId, since),
    db
      .prepare(
        "SELECT key_id, COALESCE(SUM(amount), 0) AS credits FROM credit_ledger WHERE account_id = ? AND kind = 'commit' AND created_at >= ? GROUP BY key_id",
      )
      .bind(accountId, since),
  ]);
  const out = new Map<string, Usage & { key_id: string }>();
  for (const r of predictions?.results ?? []) {
    out.set(r.key_id, {
      key_id: r.key_id,
      period_start: since,
      predictions: r.predictions ?? 0,
      succeeded: r.succeeded ?? 0,
      images: r.images ?? 0,
      credits: 0,
    });
  }
  for (const r of charges?.results ?? []) {
    const entry = out.get(r.key_id) ?? { key_id: r.key_id, period_start: since, ...emptyUsage };
    out.set(r.key_id, { ...entry, credits: r.credits ?? 0 });
  }
  return [...out.values()].toSorted((a, b) => a.key_id.localeCompare(b.key_id));
}

/**
 * Reads an account.
 * @throws ApiError 404 `not-found` when there is none
 */
export async function requireAccount(db: D1Database, id: string): Promise<AccountRow> {
  const account = await db.prepare('SELECT id, name, created_at FROM accounts WHERE id = ?').bind(id).first<AccountRow>();
  if (!account) throw new ApiError(404, 'not-found', 'No such account');
  return account;
}
