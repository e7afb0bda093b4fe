/**
 * @module
 * `Idempotency-Key` on create routes (draft-ietf-httpapi-idempotency-key-header), scoped per account:
 * - first request: processed; a 2xx response is stored for 24 h with a fingerprint of method, path and body;
 * - retry after completion with the same body: the stored response (status, body, `Location`), plus
 *   `Idempotent-Replayed: true`;
 * - retry while the first is in flight: 409 `idempotency-key-in-use` (`Retry-After: 1`);
 * - same key with another method, path or body: 422 `idempotency-key-mismatch`;
 * - an error response before a prediction exists is not stored: the key is freed and a retry is processed anew
 *   (nothing was charged);
 * - once the key created a prediction (linked in the INSERT's transaction, after the charge), every retry answers
 *   with that prediction and never creates another: a stored response is replayed; without one (an error after the
 *   charge, a request that died, a `b64_json` body too large to store) the route answers again from the prediction's
 *   current state (`c.var.idempotentPrediction`), with `Idempotent-Replayed: true`.
 * The header is an sf-string (`"abc"`) or a bare token, 1–255 printable ASCII characters.
 * Runs after `apiKeyAuth` (it needs `c.var.caller`); requests without the header pass through.
 * @throws ApiError 400 `validation-failed`, 409 `idempotency-key-in-use`, 422 `idempotency-key-mismatch`.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { sha256Hex } from '../../auth/keys.js';
import { ApiError } from '../../errors/api-error.js';
import { claimKey, completeKey, releaseKey, STORED_HEADERS } from '../../idempotency/store.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

export interface IdempotencyOptions {
  /** Methods the key applies to. Default `['POST']`. */
  methods?: string[];
}

/**
 * The key in an `Idempotency-Key` header value.
 * @throws ApiError 400 `validation-failed` when it is empty, too long or not printable ASCII
 */
export function parseIdempotencyKey(value: string): string {
  const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(value.trim());
  const key = quoted ? (quoted[1] ?? '').replace(/\\(["\\])/g, '$1') : value.trim();
  if (key.length < 1 || key.length > 255 || !/^[\x20-\x7e]+$/.test(key)) {
    throw new ApiError(400, 'validation-failed', 'Idempotency-Key must be 1–255 printable ASCII characters', {
      errors: [{ pointer: '/headers/idempotency-key', message: 'invalid idempotency key' }],
    });
  }
  return key;
}

/** Middleware making creates safe to retry. */
export const idempotency = (options: IdempotencyOptions = {}): MiddlewareHandler<AppEnv> => {
  const methods = new Set((options.methods ?? ['POST']).map((m) => m.toUpperCase()));
  return async function idempotency(c, next) {
    const header = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (header === undefined || !methods.has(c.req.method)) return next();
    const key = parseIdempotencyKey(header);
    const { accountId } = c.get('caller');
    const body = await c.req.text();
    const fingerprint = await sha256Hex(`${c.req.method}\n${new URL(c.req.url).pathname}\n${body}`);
    const claim = await claimKey(c.env.DB, accountId, key, fingerprint);
    if (claim.kind === 'mismatch') {
      throw new ApiError(422, 'idempotency-key-mismatch', 'This Idempotency-Key was used with a different request (method, path or body)');
    }
    if (claim.kind === 'in-flight') {
      throw new ApiError(409, 'idempotency-key-in-use', 'A request with this Idempotency-Key is still being processed; retry shortly', {
        headers: { 'retry-after': '1' },
      });
    }
    if (claim.kind === 'not-replayable') {
      throw new ApiError(
        409,
        'conflict',
        `The request with this Idempotency-Key already succeeded (${claim.status}), but its response was too large to store for replay; read the result from the API instead`,
        {
          headers: claim.headers.location === undefined ? {} : { location: claim.headers.location },
        },
      );
    }
    if (claim.kind === 'replay') {
      const headers = new Headers(claim.response.headers);
      headers.set(REPLAYED_HEADER, 'true');
      return new Response(claim.response.body, { status: claim.response.status, headers });
    }
    if (claim.kind === 'attach') {
      // The key's prediction exists but its response was not stored: answer from the prediction, store nothing.
      c.set('idempotentPrediction', claim.predictionId);
      await next();
      c.res.headers.set(REPLAYED_HEADER, 'true');
      return;
    }
    if (claim.predictionId !== null) {
      c.set('idempotentPrediction', claim.predictionId);
    } else {
      c.set('idempotencyClaim', { accountId, key, owner: claim.owner });
    }
    try {
      await next();
    } catch (err) {
      await releaseKey(c.env.DB, accountId, key, claim.owner);
      throw err;
    }
    const res = c.res;
    if (claim.predictionId !== null) res.headers.set(REPLAYED_HEADER, 'true');
    if (res.status >= 200 && res.status < 300) {
      const headers: Record<string, string> = {};
      for (const name of STORED_HEADERS) {
        const value = res.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      // A streamed response is not buffered (its key is linked to the prediction: a retry answers from it again).
      const body = c.get('responseNotStored') === true ? null : await res.clone().text();
      await completeKey(c.env.DB, accountId, key, claim.owner, { status: res.status, headers, body });
    } else {
      await releaseKey(c.env.DB, accountId, key, claim.owner);
    }
  };
};
