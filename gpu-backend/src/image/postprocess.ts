/**
 * Decoded VAE samples to 8-bit images, as pure functions.
 * @module
 */
import { assertDims, numel, type Tensor } from '../tensor/tensor.js';

/**
 * `image = clamp(x/2 + 0.5, 0, 1)`, then `round(image·255)` (half to even, as numpy), NCHW → HWC for one row.
 * @param sample [B, 3, H, W] VAE decoder output, roughly in [-1, 1]
 * @param row batch row to convert
 * @returns H·W·3 bytes, row-major HWC
 */
export function toUint8Hwc(sample: Tensor, row: number): Uint8Array {
  assertDims(sample, [-1, 3, -1, -1], 'VAE sample');
  const [, c, h, w] = sample.dims as [number, number, number, number];
  const plane = h * w;
  const base = row * numel([c, h, w]);
  const out = new Uint8Array(plane * c);
  for (let ch = 0; ch < c; ch++) {
    const src = base + ch * plane;
    for (let p = 0; p < plane; p++) {
      // float32 arithmetic as the reference: x/2 + 0.5, clamp, ×255
      let v = Math.fround(Math.fround(sample.data[src + p]! / 2) + 0.5);
      v = v < 0 ? 0 : Math.min(v, 1);
      out[p * c + ch] = roundHalfEven(Math.fround(v * 255));
    }
  }
  return out;
}

/** Rounds to the nearest integer, ties to even (numpy.round). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
