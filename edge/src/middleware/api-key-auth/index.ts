/**
 * @module
 * API key authentication: `Authorization: Bearer sdk_…`, looked up by key id in D1, hash compared in constant
 * time, revoked keys refused. Sets `c.var.caller`.
 * @throws ApiError 401 `unauthorized` when the header is missing, malformed, unknown, wrong or revoked.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { keyIdOf, keyMatches, sha256Hex } from '../../auth/keys.js';
import { ApiError } from '../../errors/api-error.js';

export interface ApiKeyAuthOptions {
  /** Realm in `WWW-Authenticate`. Default `api`. */
  realm?: string;
}

interface KeyRow {
  account_id: string;
  key_hash: string;
  revoked_at: string | null;
}

/** Middleware that authenticates public API calls. */
export const apiKeyAuth = (options: ApiKeyAuthOptions = {}): MiddlewareHandler<AppEnv> => {
  const challenge = { 'www-authenticate': `Bearer realm="${options.realm ?? 'api'}"` };
  const refuse = (detail: string): ApiError => new ApiError(401, 'unauthorized', detail, { headers: challenge });
  return async function apiKeyAuth(c, next) {
    const header = c.req.header('authorization');
    if (!header) throw refuse('Missing Authorization header (expected "Bearer <api key>")');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw refuse('Authorization header must be "Bearer <api key>"');
    const key = match[1];
    const keyId = keyIdOf(key);
    const row =
      keyId === null
        ? null
        : await c.env.DB.prepare('SELECT account_id, key_hash, revoked_at FROM api_keys WHERE id = ?').bind(keyId).first<KeyRow>();
    // Hash even when the key is unknown so that timing does not reveal which key ids exist.
    let ok = false;
    if (row) ok = await keyMatches(key, row.key_hash);
    else await sha256Hex(key);
    if (!row || !ok || keyId === null) throw refuse('Invalid API key');
    if (row.revoked_at !== null) throw refuse('This API key has been revoked');
    c.set('caller', { accountId: row.account_id, keyId });
    await next();
  };
};
