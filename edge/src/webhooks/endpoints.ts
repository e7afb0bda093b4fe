/**
 * Per-account webhook state in D1: the Standard Webhooks signing secret (`whsec_…`, created on first use,
 * rotatable) and endpoints disabled because they answered 410 Gone.
 * @module
 */
import { newWebhookSecret } from '../../../shared/signing.js';

export interface WebhookSecretRow {
  secret: string;
  created_at: string;
}

/** The account's signing secret, created on first use. */
export async function webhookSecret(db: D1Database, accountId: string): Promise<WebhookSecretRow> {
  await db
    .prepare('INSERT OR IGNORE INTO webhook_secrets (account_id, secret, created_at) VALUES (?, ?, ?)')
    .bind(accountId, newWebhookSecret(), new Date().toISOString())
    .run();
  const row = await db
    .prepare('SELECT secret, created_at FROM webhook_secrets WHERE account_id = ?')
    .bind(accountId)
    .first<WebhookSecretRow>();
  if (!row) throw new Error(`webhook secret of ${accountId} vanished`);
  return row;
}

/** Replaces the account's secret; deliveries signed from now on use the new one. */
export async function rotateWebhookSecret(db: D1Database, accountId: string): Promise<WebhookSecretRow> {
  const row: WebhookSecretRow = { secret: newWebhookSecret(), created_at: new Date().toISOString() };
  await db
    .prepare(
      'INSERT INTO webhook_secrets (account_id, secret, created_at) VALUES (?, ?, ?) ON CONFLICT(account_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at',
    )
    .bind(accountId, row.secret, row.created_at)
    .run();
  return row;
}

/** Whether deliveries to `url` are disabled for the account. */
export async function isEndpointDisabled(db: D1Database, accountId: string, url: string): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 AS x FROM webhook_disabled_endpoints WHERE account_id = ? AND url = ?')
    .bind(accountId, url)
    .first();
  return row !== null;
}

/** Disables deliveries to `url` for the account (the endpoint answered 410 Gone). */
export async function disableEndpoint(db: D1Database, accountId: string, url: string, reason: string): Promise<void> {
  await db
    .prepare('INSERT OR IGNORE INTO webhook_disabled_endpoints (account_id, url, disabled_at, reason) VALUES (?, ?, ?, ?)')
    .bind(accountId, url, new Date().toISOString(), reason)
    .run();
}

/**
 * Re-enables `url` for the account (a new prediction naming it, or the admin route).
 * @returns whether it was disabled
 */
export async function enableEndpoint(db: D1Database, accountId: string, url: string): Promise<boolean> {
  const result = await db.prepare('DELETE FROM webhook_disabled_endpoints WHERE account_id = ? AND url = ?').bind(accountId, url).run();
  return (result.meta.changes ?? 0) > 0;
}
