/**
 * S3 access from the Worker with aws4fetch (SigV4 in ~12 KiB instead of the AWS SDK's ~1.5 MiB):
 * presigned GET URLs minted on every read, and signed HEAD/GETs for the OpenAI route's streamed `b64_json`.
 * Objects are addressed path-style: `<endpoint>/<bucket>/<key>` (works with AWS, R2 and local servers).
 * @module
 */
import { AwsClient } from 'aws4fetch';
import type { EdgeConfig } from '../config.js';

type S3Settings = Pick<
  EdgeConfig,
  'S3_ENDPOINT' | 'S3_REGION' | 'S3_BUCKET' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_URL_TTL_SECONDS'
> &
  Partial<Pick<EdgeConfig, 'S3_PUBLIC_ENDPOINT'>>;

function client(s3: S3Settings): AwsClient {
  return new AwsClient({ accessKeyId: s3.S3_ACCESS_KEY_ID, secretAccessKey: s3.S3_SECRET_ACCESS_KEY, region: s3.S3_REGION, service: 's3' });
}

/** Unsigned path-style URL of an object (each key segment percent-encoded). */
function objectUrl(s3: Pick<S3Settings, 'S3_ENDPOINT' | 'S3_BUCKET'>, key: string): string {
  return `${s3.S3_ENDPOINT}/${encodeURIComponent(s3.S3_BUCKET)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A presigned GET URL for `key` at S3_PUBLIC_ENDPOINT (default S3_ENDPOINT), valid for `ttlSeconds` (default
 * S3_URL_TTL_SECONDS).
 * @param nowMs signing time (tests pass a past time to get an expired URL)
 */
export async function presignGet(s3: S3Settings, key: string, options: { ttlSeconds?: number; nowMs?: number } = {}): Promise<string> {
  const ttl = options.ttlSeconds ?? s3.S3_URL_TTL_SECONDS;
  const url = `${objectUrl({ S3_ENDPOINT: s3.S3_PUBLIC_ENDPOINT ?? s3.S3_ENDPOINT, S3_BUCKET: s3.S3_BUCKET }, key)}?X-Amz-Expires=${ttl}`;
  const datetime = new Date(options.nowMs ?? Date.now()).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const signed = await client(s3).sign(url, { method: 'GET', aws: { signQuery: true, datetime } });
  return signed.url;
}

/** Checks an object exists and is readable (signed HEAD). @throws Error otherwise */
export async function headObject(s3: S3Settings, key: string): Promise<void> {
  const res = await client(s3).fetch(objectUrl(s3, key), { method: 'HEAD' });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`S3 HEAD ${key} answered ${res.status}`);
}

/** An object's bytes as a stream (signed GET). @throws Error when S3 does not answer 2xx */
export async function getObjectStream(s3: S3Settings, key: string): Promise<ReadableStream<Uint8Array>> {
  const res = await client(s3).fetch(objectUrl(s3, key), { method: 'GET' });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`S3 GET ${key} answered ${res.status}`);
  }
  return res.body;
}

/** Writes an object with a signed PUT (input images of image-to-image requests). */
export async function putObject(s3: S3Settings, key: string, body: Uint8Array, contentType: string): Promise<void> {
  const res = await client(s3).fetch(objectUrl(s3, key), { method: 'PUT', body, headers: { 'content-type': contentType } });
  if (!res.ok) throw new Error(`S3 PUT ${key} answered ${res.status}`);
}
