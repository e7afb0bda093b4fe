/**
 * Image formats the API reads and writes, and the MIME type of each: the one list behind `output_format`,
 * the formats accepted as input images and the `content_type` of stored outputs.
 * @module
 */
import { z } from 'zod';

/** An encoded image format. */
export const ImageFormat = z.enum(['png', 'webp', 'jpeg']);
export type ImageFormat = z.infer<typeof ImageFormat>;

/** The MIME type of each image format. */
export const imageContentTypes = {
  png: 'image/png',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
} as const satisfies Record<ImageFormat, string>;

/** A MIME type of one of the image formats. */
export const ImageContentType = z.enum([imageContentTypes.png, imageContentTypes.webp, imageContentTypes.jpeg]);
export type ImageContentType = z.infer<typeof ImageContentType>;
