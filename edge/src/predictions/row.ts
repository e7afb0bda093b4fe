/**
 * The `predictions` table row and the reads on it. D1 is the source of truth for every prediction.
 * @module
 */
import type { PredictionStatus } from '../../../shared/prediction.js';

/** One row of `predictions` as D1 returns it. */
export interface PredictionRow {
  id: string;
  account_id: string;
  key_id: string;
  model: string;
  status: PredictionStatus;
  input_json: string;
  resolved_json: string;
  output_json: string | null;
  error: string | null;
  metrics_json: string;
  progress_step: number | null;
  progress_total: number | null;
  cost_credits: number;
  attempt: number;
  last_seq: number;
  backend: string | null;
  deadline: string | null;
  webhook: string | null;
  webhook_events_filter: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

/** Reads one prediction by id (any account). */
export async function getPredictionRow(db: D1Database, id: string): Promise<PredictionRow | null> {
  return db.prepare('SELECT * FROM predictions WHERE id = ?').bind(id).first<PredictionRow>();
}

/** Reads one prediction by id if it belongs to `accountId`. */
export async function getOwnPredictionRow(db: D1Database, accountId: string, id: string): Promise<PredictionRow | null> {
  return db.prepare('SELECT * FROM predictions WHERE id = ? AND account_id = ?').bind(id, accountId).first<PredictionRow>();
}

/** Position in the newest-first listing: (created_at, id), both descending. */
export interface ListCursor {
  created_at: string;
  id: string;
}

/** Encodes a cursor as opaque base64url. */
export function encodeCursor(cursor: ListCursor): string {
  return btoa(JSON.stringify([cursor.created_at, cursor.id]))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/** Decodes a cursor; null when it is not one of ours. */
export function decodeCursor(value: string): ListCursor | null {
  try {
    const json: unknown = JSON.parse(atob(value.replaceAll('-', '+').replaceAll('_', '/')));
    if (Array.isArray(json) && json.length === 2 && typeof json[0] === 'string' && typeof json[1] === 'string') {
      return { created_at: json[0], id: json[1] };
    }
  } catch {
    // fall through: not a cursor
  }
  return null;
}

/**
 * A page of the account's predictions, newest first.
 * @returns the rows and the cursor of the next page (null on the last page)
 */
export async function listPredictionRows(
  db: D1Database,
  accountId: string,
  limit: number,
  after: ListCursor | null,
): Promise<{ rows: PredictionRow[]; next: ListCursor | null }> {
  const stmt = after
    ? db
        .prepare(
          'SELECT * FROM predictions WHERE account_id = ? AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?',
        )
        .bind(accountId, after.created_at, after.created_at, after.id, limit + 1)
    : db.prepare('SELECT * FROM predictions WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').bind(accountId, limit + 1);
  const { results } = await stmt.all<PredictionRow>();
  const rows = results.slice(0, limit);
  const last = rows.at(-1);
  return { rows, next: results.length > limit && last ? { created_at: last.created_at, id: last.id } : null };
}
