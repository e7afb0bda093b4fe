/**
 * API keys: `sdk_<key id>_<secret>`. Only the SHA-256 of the whole key is stored; lookups go by key id and the
 * hash is compared in constant time.
 * @module
 */
import { timingSafeEqual } from '../../../shared/signing.js';
import { randomToken } from '../ids.js';

const KEY_PATTERN = /^sdk_([a-z0-9]{12})_([A-Za-z0-9]{32})$/;

/** Hex SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fresh key with its id and hash (the plaintext is returned to the admin once). */
export async function newApiKey(): Promise<{ id: string; key: string; hash: string }> {
  const id = randomToken(12, 'abcdefghijklmnopqrstuvwxyz0123456789');
  const key = `sdk_${id}_${randomToken(32)}`;
  return { id, key, hash: await sha256Hex(key) };
}

/** The key id inside a well-formed key, or null. */
export function keyIdOf(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Whether `key` hashes to `storedHash` (constant time in the hash length). */
export async function keyMatches(key: string, storedHash: string): Promise<boolean> {
  return timingSafeEqual(await sha256Hex(key), storedHash);
}
