/**
 * Limits of input images (image-to-image, inpainting), checked by the edge before anything is charged and again
 * by the backend when it decodes them.
 * @module
 */

export const INPUT_IMAGE_LIMITS = {
  /** Encoded size of one image or mask. */
  max_bytes: 10 * 1024 * 1024,
  /** Decoded width × height of one image or mask. */
  max_pixels: 4096 * 4096,
  /** Largest side. */
  max_side: 4096,
  /** Formats accepted (detected from the bytes, not the declared type). */
  formats: ['png', 'jpeg', 'webp'] as const,
} as const;

export type InputImageFormat = (typeof INPUT_IMAGE_LIMITS.formats)[number];

/** The format of encoded image bytes by their signature, or null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): InputImageFormat | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return null;
}

/** Object key of a prediction's stored input, beside its outputs: `<prefix>/<id>/input/<name>`. */
export function inputObjectKey(prefix: string, predictionId: string, name: 'image' | 'mask'): string {
  return `${prefix.replace(/\/+$/, '')}/${predictionId}/input/${name}`;
}
