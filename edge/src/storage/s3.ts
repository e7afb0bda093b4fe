/**
 * S3 access from the Worker with aws4fetch (SigV4 in ~12 KiB instead of the AWS SDK's ~1.5 MiB):
 * presigned GET URLs minted on every read, and signed GETs for the OpenAI route's `b64_json`.
 * Objects are addressed path-style: `<endpoint>/<bucket>/<key>` (works with AWS, R2 and local servers).
 * @module
 */
import { AwsClient } from 'aws4fetch';
import type { EdgeConfig } from '../config.js';

type S3Settings = Pick<EdgeConfig, 'S3_ENDPOINT' | 'S3_REGION' | 'S3_BUCKET' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_URL_TTL_SECONDS'>;

function client(s3: S3Settings): AwsClient {
  return new AwsClient({ accessKeyId: s3.S3_ACCESS_KEY_ID, secretAccessKey: s3.S3_SECRET_ACCESS_KEY, region: s3.S3_REGION, service: 's3' });
}

/** Unsigned path-style URL of an object (each key segment percent-encoded). */
export function objectUrl(s3: Pick<S3Settings, 'S3_ENDPOINT' | 'S3_BUCKET'>, key: string): string {
  return `${s3.S3_ENDPOINT}/${encodeURIComponent(s3.S3_BUCKET)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A presigned GET URL for `key`, valid for `ttlSeconds` (default S3_URL_TTL_SECONDS).
 * @param nowMs signing time (tests pass a past time to get an expired URL)
 */
export async function presignGet(s3: S3Settings, key: string, options: { ttlSeconds?: number; nowMs?: number } = {}): Promise<string> {
  const ttl = options.ttlSeconds ?? s3.S3_URL_TTL_SECONDS;
  const url = `${objectUrl(s3, key)}?X-Amz-Expires=${ttl}`;
  const datetime = new Date(options.nowMs ?? Date.now()).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const signed = await client(s3).sign(url, { method: 'GET', aws: { signQuery: true, datetime } });
  return signed.url;
}

/** Reads an object's bytes with a signed GET. */
export async function getObject(s3: S3Settings, key: string): Promise<Uint8Array> {
  const res = await client(s3).fetch(objectUrl(s3, key), { method: 'GET' });
  if (!res.ok) throw new Error(`S3 GET ${key} answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Writes an object with a signed PUT (input images of image-to-image requests). */
export async function putObject(s3: S3Settings, key: string, body: Uint8Array, contentType: string): Promise<void> {
  const res = await client(s3).fetch(objectUrl(s3, key), { method: 'PUT', body, headers: { 'content-type': contentType } });
  if (!res.ok) throw new Error(`S3 PUT ${key} answered ${res.status}`);
}
