/**
 * The development account: one account with a fixed id, the API key given by `DEV_API_KEY` (written to D1 as
 * its hash before the edge starts) and a credit balance topped up to a target through the admin API. Every
 * step is idempotent, so it runs on every start.
 * @module
 */
import { keyIdOf, sha256Hex } from '../../edge/src/auth/keys.js';

/** The default development key (documented in the README; for local use only). */
export const DEFAULT_DEV_API_KEY = 'sdk_localdev0001_LocalDevelopmentKeyDoNotUse00001';
/** The development account's id. */
export const DEV_ACCOUNT_ID = 'acct_localdevaccount1';

const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * SQL that creates the account and installs `apiKey` for it (re-enabling and re-pointing it if it exists).
 * @throws Error when the key is not of the edge's form `sdk_<12 lowercase letters/digits>_<32 letters/digits>`
 */
export async function devAccountSql(apiKey: string, accountId: string = DEV_ACCOUNT_ID): Promise<string> {
  const keyId = keyIdOf(apiKey);
  if (keyId === null) throw new Error('DEV_API_KEY must look like sdk_<12 lowercase letters or digits>_<32 letters or digits>');
  const now = new Date().toISOString();
  return [
    `INSERT OR IGNORE INTO accounts (id, name, created_at) VALUES (${sqlText(accountId)}, 'local development', ${sqlText(now)});`,
    `INSERT INTO api_keys (id, account_id, name, key_hash, created_at) VALUES (${sqlText(keyId)}, ${sqlText(accountId)}, 'DEV_API_KEY', ${sqlText(await sha256Hex(apiKey))}, ${sqlText(now)})`,
    '  ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, key_hash = excluded.key_hash, revoked_at = NULL;',
    '',
  ].join('\n');
}

/** The account's balance as `GET /v1/account` reports it. */
async function readBalance(edgeUrl: string, apiKey: string): Promise<number> {
  const res = await fetch(`${edgeUrl}/v1/account`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!res.ok) throw new Error(`GET /v1/account answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { balance: { credits: number } };
  return body.balance.credits;
}

/**
 * Tops the account up to `target` credits (nothing when it already has that many).
 * @returns the balance afterwards
 */
export async function topUpTo(edgeUrl: string, adminToken: string, apiKey: string, accountId: string, target: number): Promise<number> {
  const balance = await readBalance(edgeUrl, apiKey);
  if (balance >= target) return balance;
  const res = await fetch(`${edgeUrl}/admin/accounts/${accountId}/credits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credits: target - balance, note: 'local stack seed' }),
  });
  if (!res.ok) throw new Error(`top-up answered ${res.status}: ${await res.text()}`);
  return readBalance(edgeUrl, apiKey);
}
