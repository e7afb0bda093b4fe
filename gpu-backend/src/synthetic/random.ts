/**
 * Seeded, deterministic random numbers for synthetic weights: a 32-bit hash of (seed, tensor name) starts an
 * independent xorshift128 stream per tensor, so a tensor's values depend only on the seed and its name, never on
 * the order tensors are built in.
 * @module
 */

/** FNV-1a over the UTF-16 code units of `text`, mixed with `seed`. */
export function hashName(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** splitmix32 step: turns one 32-bit state into a well-mixed 32-bit value. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Fills `out` with N(mean, std²) samples (Box–Muller over xorshift128), deterministic for (seed, name).
 * @returns `out`
 */
export function fillNormal(out: Float32Array, seed: number, name: string, std: number, mean = 0): Float32Array {
  const h = hashName(seed, name);
  let a = splitmix32(h),
    b = splitmix32(a),
    c = splitmix32(b),
    d = splitmix32(c) || 1;
  const next = (): number => {
    let t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    t = 0;
    return (d + 0.5) / 4294967296;
  };
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const theta = 2 * Math.PI * next();
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(theta);
  }
  return out;
}
