/**
 * Random identifiers from the Web Crypto CSPRNG (rejection sampling, so every character is uniform).
 * @module
 */

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of `length` characters drawn uniformly from `alphabet` (≤ 256 characters). */
export function randomToken(length: number, alphabet: string = ALNUM): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

/** A new prediction id: 24 lowercase base-36 characters (matches `PredictionId`). */
export function newPredictionId(): string {
  return randomToken(24, 'abcdefghijklmnopqrstuvwxyz0123456789');
}

/** A new account id. */
export function newAccountId(): string {
  return `acct_${randomToken(16, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
}

/** A uniformly random unsigned 32-bit seed. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}
