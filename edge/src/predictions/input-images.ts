/**
 * Input images of image-to-image and inpainting requests (`input.image`, `input.mask`, or the OpenAI edits route's
 * uploads): read from a `data:` URI or fetched from an https URL under the webhook SSRF rules (no redirects
 * followed, size-capped while streaming), checked by their headers (format, pixel size, the mask the image's size)
 * before anything is charged, then stored in S3 beside the outputs; only the object keys travel on (D1 rows, queue
 * messages and the backend job carry keys, never image bytes).
 * @module
 */
import { imageHeader, inputObjectKey, INPUT_IMAGE_LIMITS, type InputImageFormat } from '../../../shared/input-image.js';
import { imageContentTypes } from '../../../shared/image-format.js';
import type { ModelSpec } from '../../../shared/models.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { putObject } from '../storage/s3.js';
import { dohResolver, type HostResolver } from '../webhooks/resolver.js';
import { checkWebhookUrl } from '../webhooks/url-guard.js';

export interface InputImage {
  bytes: Uint8Array;
  format: InputImageFormat;
  width: number;
  height: number;
}

const invalid = (pointer: string, message: string) =>
  new ApiError(422, 'validation-failed', 'The input image cannot be used', { errors: [{ pointer, message }] });

/** Reads a body up to `max` bytes. @throws ApiError 422 when it is larger */
async function readCapped(res: Response, max: number, pointer: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) throw invalid(pointer, `the image is larger than ${max} bytes`);
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw invalid(pointer, `the image is larger than ${max} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function fromDataUri(raw: string, pointer: string): Uint8Array {
  const comma = raw.indexOf(',');
  const meta = comma < 0 ? '' : raw.slice(5, comma);
  if (comma < 0 || !/;base64$/i.test(meta)) throw invalid(pointer, 'a data: URI must be base64 (data:image/png;base64,…)');
  const b64 = raw.slice(comma + 1).replace(/\s+/g, '');
  if ((b64.length * 3) / 4 > INPUT_IMAGE_LIMITS.max_bytes + 3)
    throw invalid(pointer, `the image is larger than ${INPUT_IMAGE_LIMITS.max_bytes} bytes`);
  try {
    const bin = atob(b64);
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    throw invalid(pointer, 'the data: URI is not valid base64');
  }
}

/**
 * Loads and checks one input image given as an https URL or a data: URI.
 * @throws ApiError 422 `validation-failed` (at `pointer`) for a refused URL, a failed fetch, too many bytes or pixels, or bytes that are not a PNG, JPEG or WebP image
 */
export async function loadInputImage(env: Env, raw: string, pointer: string, resolver?: HostResolver): Promise<InputImage> {
  let bytes: Uint8Array;
  if (raw.startsWith('data:')) {
    bytes = fromDataUri(raw, pointer);
  } else {
    const config = configFrom(env);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid(pointer, 'must be an https URL or a data: URI');
    }
    const loopbackHttp = config.ALLOW_LOOPBACK_WEBHOOKS && url.protocol === 'http:';
    if (url.protocol !== 'https:' && !loopbackHttp) throw invalid(pointer, 'must be an https URL or a data: URI');
    const verdict = await checkWebhookUrl(raw, {
      allowLoopback: config.ALLOW_LOOPBACK_WEBHOOKS,
      resolver: resolver ?? dohResolver(config.DOH_URL),
    });
    if (!verdict.ok)
      throw invalid(pointer, verdict.transient ? `the host could not be checked (${verdict.reason}); retry later` : verdict.reason);
    let res: Response;
    try {
      res = await fetch(url.toString(), { redirect: 'manual', headers: { accept: Object.values(imageContentTypes).join(', ') } });
    } catch (err) {
      throw invalid(pointer, `the image could not be fetched (${err instanceof Error ? err.message : String(err)})`);
    }
    if (res.status >= 300 && res.status < 400) throw invalid(pointer, 'redirects are not followed: give the final URL');
    if (!res.ok) throw invalid(pointer, `fetching the image answered ${res.status}`);
    bytes = await readCapped(res, INPUT_IMAGE_LIMITS.max_bytes, pointer);
  }
  return checkImageBytes(bytes, pointer);
}

/**
 * Checks encoded bytes: an accepted format with a readable header, within the byte, side and pixel limits.
 * @throws ApiError 422 `validation-failed` at `pointer`
 */
export function checkImageBytes(bytes: Uint8Array, pointer: string): InputImage {
  if (bytes.byteLength > INPUT_IMAGE_LIMITS.max_bytes)
    throw invalid(pointer, `the image is larger than ${INPUT_IMAGE_LIMITS.max_bytes} bytes`);
  const header = imageHeader(bytes);
  if (!header) throw invalid(pointer, 'cannot decode the image: it must be a PNG, JPEG or WebP file');
  const { width, height } = header;
  if (Math.max(width, height) > INPUT_IMAGE_LIMITS.max_side || width * height > INPUT_IMAGE_LIMITS.max_pixels) {
    throw invalid(
      pointer,
      `the image is ${width}×${height}: at most ${INPUT_IMAGE_LIMITS.max_side} pixels a side and ${INPUT_IMAGE_LIMITS.max_pixels} pixels`,
    );
  }
  return { bytes, ...header };
}

/**
 * The output size for an input image when the request names none: the image's size scaled down to the model's
 * pixel and side limits and rounded down to its size multiple (at least its smallest side).
 */
export function sizeForImage(
  image: Pick<InputImage, 'width' | 'height'>,
  spec: Pick<ModelSpec, 'size_multiple' | 'max_pixels' | 'max_side' | 'min_side'>,
): { width: number; height: number } {
  const scale = Math.min(1, Math.sqrt(spec.max_pixels / (image.width * image.height)), spec.max_side / Math.max(image.width, image.height));
  const m = spec.size_multiple;
  const side = (v: number) => Math.max(spec.min_side, Math.floor((v * scale) / m) * m);
  return { width: side(image.width), height: side(image.height) };
}

/**
 * The mask must have the image's size.
 * @throws ApiError 422 at `/input/mask` (or `pointer`) otherwise
 */
export function checkMaskSize(image: InputImage, mask: InputImage, pointer = '/input/mask'): void {
  if (mask.width !== image.width || mask.height !== image.height) {
    throw invalid(
      pointer,
      `the mask is ${mask.width}×${mask.height}, the image ${image.width}×${image.height}: they must have the same size`,
    );
  }
}

/** Stores a prediction's inputs beside its outputs; returns their object keys. */
export async function storeInputImages(
  env: Env,
  predictionId: string,
  inputs: { image: InputImage; mask?: InputImage },
): Promise<{ image: string; mask?: string }> {
  const config = configFrom(env);
  const image = inputObjectKey(config.S3_PREFIX, predictionId, 'image');
  await putObject(config, image, inputs.image.bytes, imageContentTypes[inputs.image.format]);
  if (!inputs.mask) return { image };
  const mask = inputObjectKey(config.S3_PREFIX, predictionId, 'mask');
  await putObject(config, mask, inputs.mask.bytes, imageContentTypes[inputs.mask.format]);
  return { image, mask };
}
