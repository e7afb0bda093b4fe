/**
 * Input images of image-to-image and inpainting jobs: read from the store by the keys in the job's input, decoded
 * and resized to the job's width × height (sharp, Lanczos, aspect not kept: diffusers' `VaeImageProcessor.resize`
 * with PIL), as 8-bit RGB (image) and 8-bit gray (mask, 255 = repaint: white pixels, or with `mask_mode: "transparent"`
 * transparent ones; otherwise an alpha channel is flattened on black).
 * @module
 */
import sharp from 'sharp';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { INPUT_IMAGE_LIMITS } from '../../../shared/input-image.js';
import type { OutputStore } from '../storage/s3-output-store.js';

/** A stored input that cannot be used; the job fails with this message. */
export class InputImageError extends Error {}

async function decode(
  bytes: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  what: string,
  transparent = false,
): Promise<Uint8Array> {
  try {
    let img = sharp(bytes, { limitInputPixels: INPUT_IMAGE_LIMITS.max_pixels }).rotate();
    // a transparent-mode mask: 255 − alpha (transparent = repaint); otherwise alpha is flattened on black
    if (transparent) img = sharp(await img.ensureAlpha().extractChannel('alpha').negate().toBuffer());
    else img = img.flatten({ background: '#000000' });
    if (channels === 1) img = img.grayscale();
    const { data, info } = await img
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (err) {
    throw new InputImageError(`the input ${what} cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The decoded inputs of a job, or undefined for text-to-image. @throws InputImageError */
export async function readInputImages(
  store: Pick<OutputStore, 'getObject'>,
  input: ResolvedInput,
): Promise<{ image: Uint8Array; mask?: Uint8Array } | undefined> {
  if (input.image === undefined) return undefined;
  const get = async (key: string, what: string) => {
    try {
      return await store.getObject(key, INPUT_IMAGE_LIMITS.max_bytes);
    } catch (err) {
      throw new InputImageError(`the input ${what} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const image = await decode(await get(input.image, 'image'), input.width, input.height, 3, 'image');
  if (input.mask === undefined) return { image };
  return {
    image,
    mask: await decode(await get(input.mask, 'mask'), input.width, input.height, 1, 'mask', input.mask_mode === 'transparent'),
  };
}
