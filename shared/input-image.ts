/**
 * Limits of input images (image-to-image, inpainting), checked by the edge before anything is charged and again
 * by the backend when it decodes them.
 * @module
 */
import { ImageFormat } from './image-format.js';

export const INPUT_IMAGE_LIMITS = {
  /** Encoded size of one image or mask. */
  max_bytes: 10 * 1024 * 1024,
  /** Decoded width × height of one image or mask. */
  max_pixels: 4096 * 4096,
  /** Largest side. */
  max_side: 4096,
  /** Formats accepted (detected from the bytes, not the declared type). */
  formats: ImageFormat.options,
} as const;

/** Body limit of the routes that take input images: two base64-encoded images plus the JSON around them. */
export const INPUT_IMAGE_BODY_BYTES = Math.ceil((INPUT_IMAGE_LIMITS.max_bytes * 2 * 4) / 3) + 65_536;

export type InputImageFormat = ImageFormat;

/** The format of encoded image bytes by their signature, or null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): InputImageFormat | null {
  const b = bytes;
  if (
    b.length >= 8 &&
    b[0] === 0x89 &&
    b[1] === 0x50 &&
    b[2] === 0x4e &&
    b[3] === 0x47 &&
    b[4] === 0x0d &&
    b[5] === 0x0a &&
    b[6] === 0x1a &&
    b[7] === 0x0a
  )
    return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (
    b.length >= 12 &&
    b[0] === 0x52 &&
    b[1] === 0x49 &&
    b[2] === 0x46 &&
    b[3] === 0x46 &&
    b[8] === 0x57 &&
    b[9] === 0x45 &&
    b[10] === 0x42 &&
    b[11] === 0x50
  )
    return 'webp';
  return null;
}

/** Object key of a prediction's stored input, beside its outputs: `<prefix>/<id>/input/<name>`. */
export function inputObjectKey(prefix: string, predictionId: string, name: 'image' | 'mask'): string {
  return `${prefix.replace(/\/+$/, '')}/${predictionId}/input/${name}`;
}

/** Strength when a request with an input image gives none (diffusers' img2img default). */
export const DEFAULT_PROMPT_STRENGTH = 0.8;

/** U-Net steps an image-to-image run does: min(⌊steps·strength⌋, steps) (diffusers' `get_timesteps`). */
export function stepsForStrength(steps: number, strength: number): number {
  return Math.min(Math.trunc(steps * strength), steps);
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

/**
 * Format and pixel size of encoded image bytes from their headers (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X), without
 * decoding them; null when the bytes are not a well-formed header of an accepted format.
 */
export function imageHeader(bytes: Uint8Array): { format: InputImageFormat; width: number; height: number } | null {
  const format = sniffImageFormat(bytes);
  const b = bytes;
  if (format === 'png') {
    if (b.length < 24 || String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return null;
    const width = u32be(b, 16);
    const height = u32be(b, 20);
    return width > 0 && height > 0 ? { format, width, height } : null;
  }
  if (format === 'jpeg') {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1]!;
      if (marker === 0xff) {
        i += 1;
        continue;
      }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2;
        continue;
      }
      const len = u16be(b, i + 2);
      // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC)
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        const height = u16be(b, i + 5);
        const width = u16be(b, i + 7);
        return width > 0 && height > 0 ? { format, width, height } : null;
      }
      if (marker === 0xd9 || marker === 0xda || len < 2) return null;
      i += 2 + len;
    }
    return null;
  }
  if (format === 'webp') {
    if (b.length < 30) return null;
    const chunk = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
    if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a)
      return { format, width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
    if (chunk === 'VP8L' && b[20] === 0x2f) {
      const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
      return { format, width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8X') return { format, width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    return null;
  }
  return null;
}
