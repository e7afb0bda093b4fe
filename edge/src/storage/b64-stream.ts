/**
 * The OpenAI route's `b64_json` response as a stream: `{"created":…,"data":[{"b64_json":"…"},…]}` written while
 * each image is read from S3 and base64-encoded chunk by chunk. Memory per request stays at a few chunks whatever
 * the images' size (SDXL 1536², n = 8 is about 75 MB of base64), instead of the bytes, a binary string, the base64
 * string and the JSON text of every image at once.
 * @module
 */
import type { EdgeConfig } from '../config.js';
import { edgeLogger } from '../logging.js';
import { getObjectStream, headObject } from './s3.js';

type S3Settings = Parameters<typeof getObjectStream>[0] & Pick<EdgeConfig, 'S3_ENDPOINT'>;

const encoder = new TextEncoder();

/** Base64 of `bytes` (a length that is a multiple of 3, or the final chunk). */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x2000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return btoa(binary);
}

/** Writes one object's bytes as base64 text, carrying 0–2 bytes between chunks so the pieces join exactly. */
async function writeBase64(writer: WritableStreamDefaultWriter<Uint8Array>, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  let carry = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(carry.length + value.length);
    joined.set(carry);
    joined.set(value, carry.length);
    const whole = joined.length - (joined.length % 3);
    if (whole > 0) await writer.write(encoder.encode(base64(joined.subarray(0, whole))));
    carry = joined.slice(whole);
  }
  if (carry.length > 0) await writer.write(encoder.encode(base64(carry)));
}

/**
 * Checks that every object can be read (so a storage failure is still an error response, before any byte is
 * sent), then streams the JSON. Objects are read one after another (one open connection at a time).
 * @throws Error when an object cannot be read
 */
export async function streamImagesJson(s3: S3Settings, created: number, keys: readonly string[]): Promise<ReadableStream<Uint8Array>> {
  await Promise.all(keys.map((key) => headObject(s3, key)));
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  void (async () => {
    try {
      await writer.write(encoder.encode(`{"created":${created},"data":[`));
      for (const [i, key] of keys.entries()) {
        await writer.write(encoder.encode(`${i === 0 ? '' : ','}{"b64_json":"`));
        await writeBase64(writer, await getObjectStream(s3, key));
        await writer.write(encoder.encode('"}'));
      }
      await writer.write(encoder.encode(']}'));
      await writer.close();
    } catch (err) {
      edgeLogger.error('b64_json stream failed', { error: err });
      await writer.abort(err).catch(() => undefined);
    }
  })();
  return readable;
}
