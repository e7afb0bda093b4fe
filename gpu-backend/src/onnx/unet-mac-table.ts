/**
 * The U-Net MAC table behind pricing (`shared/unet-macs.ts`): per family, the full and every shallow DeepCache
 * graph's MACs per sample as `a + b·u + c·u²` in u = (width/s)·(height/s), solved exactly from MAC counts at three
 * sizes of the full-scale synthetic U-Net (the real architecture).
 * @module
 */
import { unetInputDims } from '../cli/commands/unet-dims.js';
import { buildUnet } from '../synthetic/unet.js';
import { deepcacheCeiling } from './deepcache-ceiling.js';

export type Family = 'sd15' | 'sd21' | 'sdxl';

export interface Poly {
  a: number;
  b: number;
  c: number;
}

/** Size unit (pixels) of each family: 8 × 2^(levels − 1). */
const SIZE_UNIT: Record<Family, number> = { sd15: 64, sd21: 64, sdxl: 32 };

/** Sizes (width = height, pixels) the coefficients are solved from. */
const FIT_SIDES: Record<Family, readonly [number, number, number]> = {
  sd15: [256, 512, 768],
  sd21: [256, 512, 768],
  sdxl: [512, 768, 1024],
};

/** Full and per-branch shallow MACs per sample (attention included) at one size. */
export function countUnetMacs(family: Family, width: number, height: number): { full: number; shallow: number[] } {
  const unet = buildUnet(family, 'full', { weights: 'shapes-only' });
  const branches = deepcacheCeiling(unet, unetInputDims(unet, height, width, 1));
  return { full: branches[0]!.full.total, shallow: branches.map((b) => b.shallow.total) };
}

/** The exact quadratic through three points (throws when a coefficient is not an integer). */
function solve(us: readonly number[], ms: readonly number[]): Poly {
  const [u1, u2, u3] = us.map(BigInt) as [bigint, bigint, bigint];
  const [m1, m2, m3] = ms.map(BigInt) as [bigint, bigint, bigint];
  // Divided differences.
  const d12 = (m2 - m1) * (u3 - u1);
  const d13 = (m3 - m1) * (u2 - u1);
  const cNum = d13 - d12;
  const cDen = (u2 - u1) * (u3 - u1) * (u3 - u2);
  if (cNum % cDen !== 0n) throw new Error('MACs are not quadratic in the size with integer coefficients');
  const c = cNum / cDen;
  const bNum = m2 - m1 - c * (u2 * u2 - u1 * u1);
  if (bNum % (u2 - u1) !== 0n) throw new Error('MACs are not quadratic in the size with integer coefficients');
  const b = bNum / (u2 - u1);
  const a = m1 - b * u1 - c * u1 * u1;
  return { a: Number(a), b: Number(b), c: Number(c) };
}

/** The table for every family. */
export function unetMacTable(): Record<Family, { size_unit: number; full: Poly; shallow: Poly[] }> {
  const out = {} as Record<Family, { size_unit: number; full: Poly; shallow: Poly[] }>;
  for (const family of ['sd15', 'sd21', 'sdxl'] as const) {
    const s = SIZE_UNIT[family];
    const sides = FIT_SIDES[family];
    const counts = sides.map((side) => countUnetMacs(family, side, side));
    const us = sides.map((side) => (side / s) ** 2);
    out[family] = {
      size_unit: s,
      full: solve(
        us,
        counts.map((x) => x.full),
      ),
      shallow: counts[0]!.shallow.map((_, branch) =>
        solve(
          us,
          counts.map((x) => x.shallow[branch]!),
        ),
      ),
    };
  }
  return out;
}
