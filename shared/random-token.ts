/**
 * Random tokens from the Web Crypto CSPRNG (rejection sampling, so every character is uniform). Runs in workerd
 * and in Node alike.
 * @module
 */

/** Letters and digits, the default alphabet. */
export const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of `length` characters drawn uniformly from `alphabet` (≤ 256 characters). */
export function randomToken(length: number, alphabet: string = ALPHANUMERIC): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}
