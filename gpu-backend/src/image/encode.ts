/**
 * Image encoding with sharp: 8-bit RGB pixels → PNG / WebP / JPEG with generation metadata in EXIF.
 * @module
 */
import sharp from 'sharp';
import { imageContentTypes, type ImageFormat } from '../../../shared/image-format.js';

export type { ImageFormat } from '../../../shared/image-format.js';

/** One generated image: 8-bit RGB, row-major HWC. */
export interface GeneratedImage {
  index: number;
  width: number;
  height: number;
  /** width·height·3 bytes */
  rgb: Uint8Array;
}

/** The MIME type of each format (the shared table). */
export const contentTypes = imageContentTypes;

/**
 * Encodes an image. Metadata is written as a JSON object in EXIF ImageDescription (values are strings; never
 * pass prompts or secrets here, pass their hashes).
 * @param quality 1–100 for WebP/JPEG (PNG is lossless; quality is ignored)
 */
export async function encodeImage(
  image: GeneratedImage,
  format: ImageFormat,
  quality: number,
  metadata: Record<string, string>,
): Promise<Buffer> {
  if (image.rgb.length !== image.width * image.height * 3) {
    throw new RangeError(`image has ${image.rgb.length} bytes, ${image.width}×${image.height} RGB needs ${image.width * image.height * 3}`);
  }
  let pipeline = sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } }).withExif({
    IFD0: { ImageDescription: JSON.stringify(metadata), Software: 'deepcache-image-api' },
  });
  if (format === 'png') pipeline = pipeline.png({ compressionLevel: 6 });
  else if (format === 'webp') pipeline = pipeline.webp({ quality });
  else pipeline = pipeline.jpeg({ quality, mozjpeg: false });
  return pipeline.toBuffer();
}
