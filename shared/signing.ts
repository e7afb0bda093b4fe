/**
 * HMAC-SHA256 signing shared by the edge and the backend, on WebCrypto (available in Workers and Node ≥ 20).
 * - Internal calls (edge ⇄ backend): `x-internal-timestamp` + `x-internal-signature: v1,<base64>` over
 *   `<timestamp>.<METHOD>.<path>.<body>`, fresh within a tolerance window.
 * - Webhooks: Standard Webhooks v1, `v1,<base64 HMAC(id.timestamp.body)>` with a `whsec_` secret.
 * @module
 */

const encoder = new TextEncoder();

export const INTERNAL_TIMESTAMP_HEADER = 'x-internal-timestamp';
export const INTERNAL_SIGNATURE_HEADER = 'x-internal-signature';
/** Accepted clock skew / replay window for internal calls, in seconds. */
export const INTERNAL_TOLERANCE_S = 300;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** HMAC-SHA256 of `message` under `key`, base64-encoded. */
export async function hmacSha256Base64(key: Uint8Array, message: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = await crypto.subtle.sign('HMAC', k, encoder.encode(message));
  return toBase64(new Uint8Array(sig));
}

/** Constant-time comparison of two strings (time depends only on the longer length). */
export function timingSafeEqual(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  const n = Math.max(ab.length, bb.length);
  let diff = ab.length ^ bb.length;
  for (let i = 0; i < n; i++) diff |= (ab[i] ?? 0) ^ (bb[i] ?? 0);
  return diff === 0;
}

function internalMessage(timestamp: string, method: string, path: string, body: string): string {
  return `${timestamp}.${method.toUpperCase()}.${path}.${body}`;
}

/**
 * Headers that authenticate an internal request.
 * @param path the URL path (with query) exactly as sent
 */
export async function signInternalRequest(
  secret: string,
  method: string,
  path: string,
  body: string,
  nowMs: number = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const sig = await hmacSha256Base64(encoder.encode(secret), internalMessage(timestamp, method, path, body));
  return { [INTERNAL_TIMESTAMP_HEADER]: timestamp, [INTERNAL_SIGNATURE_HEADER]: `v1,${sig}` };
}

/**
 * Why an internal request was refused, or null when it is authentic and fresh.
 * @param secret the secret, or the secrets accepted during a rotation (current first, then the previous one): a
 *   signature made with any of them passes
 */
export async function verifyInternalRequest(
  secret: string | readonly string[],
  method: string,
  path: string,
  body: string,
  headers: { get(name: string): string | null },
  nowMs: number = Date.now(),
): Promise<string | null> {
  const timestamp = headers.get(INTERNAL_TIMESTAMP_HEADER);
  const signature = headers.get(INTERNAL_SIGNATURE_HEADER);
  if (!timestamp || !signature) return 'missing signature headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed timestamp';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > INTERNAL_TOLERANCE_S) return 'timestamp outside the tolerance window';
  const message = internalMessage(timestamp, method, path, body);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const candidates = signature.split(' ');
  for (const s of secrets) {
    const expected = `v1,${await hmacSha256Base64(encoder.encode(s), message)}`;
    if (candidates.some((candidate) => timingSafeEqual(candidate, expected))) return null;
  }
  return 'signature mismatch';
}

/** Decodes a Standard Webhooks secret (`whsec_<base64>`) to its key bytes. */
export function webhookSecretKey(secret: string): Uint8Array {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  return fromBase64(b64);
}

/** A new random `whsec_` secret (24 random bytes). */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/**
 * Standard Webhooks v1 signature header value for one delivery.
 * @param timestampS seconds since the epoch, as sent in `webhook-timestamp`
 */
export async function signWebhook(secret: string, id: string, timestampS: number, body: string): Promise<string> {
  return `v1,${await hmacSha256Base64(webhookSecretKey(secret), `${id}.${timestampS}.${body}`)}`;
}
