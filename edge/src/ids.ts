/**
 * Random identifiers from the Web Crypto CSPRNG (rejection sampling, so every character is uniform).
 * @module
 */
import { z } from 'zod';
import { randomToken } from '../../shared/random-token.js';

export { randomToken } from '../../shared/random-token.js';

/** A new prediction id: 24 lowercase base-36 characters (matches `PredictionId`). */
export function newPredictionId(): string {
  return randomToken(24, 'abcdefghijklmnopqrstuvwxyz0123456789');
}

/** Account ids: `acct_` + 16 lowercase base-36 characters (what `newAccountId` mints). */
export const AccountId = z.string().regex(/^acct_[a-z0-9]{16}$/, 'not an account id');
export type AccountId = z.infer<typeof AccountId>;

/** A new account id. */
export function newAccountId(): string {
  return `acct_${randomToken(16, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
}

/** A uniformly random unsigned 32-bit seed. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}
