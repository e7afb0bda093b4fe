/**
 * Output storage on S3 (or any S3-compatible store: R2, MinIO, s3rver): one PutObject per image at
 * `<prefix>/<prediction id>/<index>.<ext>`, so a retried prediction overwrites the same keys. Input images
 * (image-to-image, inpainting) are stored beside the outputs by the edge and read back here by key.
 * @module
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface S3OutputStoreOptions {
  endpoint: string | undefined;
  region: string;
  bucket: string;
  /** Static credentials; undefined = the SDK's default provider chain (IAM role, env, …). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  forcePathStyle: boolean;
  /** SDK attempts per PutObject (its own retry on throttling/5xx); default 3. */
  maxAttempts?: number;
  /** Per-request timeout in ms; default 30 s. */
  requestTimeoutMs?: number;
}

export interface PutImageInput {
  key: string;
  body: Uint8Array;
  contentType: string;
  /** S3 user metadata (`x-amz-meta-*`): ASCII keys and values; never prompts or secrets. */
  metadata: Record<string, string>;
}

/** Where images are written. */
export interface OutputStore {
  readonly bucket: string;
  putImage(input: PutImageInput): Promise<void>;
  /**
   * Reads an object (a stored input image), refusing one larger than `maxBytes`.
   * @throws Error when it is missing, larger than `maxBytes` or unreadable
   */
  getObject(key: string, maxBytes: number): Promise<Uint8Array>;
  close(): void;
}

/** The object key of one output image. */
export function outputKey(prefix: string, predictionId: string, index: number, ext: string): string {
  return `${prefix.replace(/\/+$/, '')}/${predictionId}/${index}.${ext}`;
}

/** An {@link OutputStore} backed by `@aws-sdk/client-s3`. */
export function createS3OutputStore(options: S3OutputStoreOptions): OutputStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000 },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  return {
    bucket: options.bucket,
    async putImage(input) {
      await client.send(
        new PutObjectCommand({
          Bucket: options.bucket,
          Key: input.key,
          Body: input.body,
          ContentType: input.contentType,
          ContentLength: input.body.byteLength,
          Metadata: input.metadata,
        }),
      );
    },
    async getObject(key, maxBytes) {
      const out = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }));
      if (out.ContentLength !== undefined && out.ContentLength > maxBytes)
        throw new Error(`object ${key} has ${out.ContentLength} bytes, more than ${maxBytes}`);
      const body = await out.Body!.transformToByteArray();
      if (body.byteLength > maxBytes) throw new Error(`object ${key} has ${body.byteLength} bytes, more than ${maxBytes}`);
      return body;
    },
    close() {
      client.destroy();
    },
  };
}
