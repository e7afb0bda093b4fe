/**
 * The stack's S3-protocol server: `@20minutes/s3rver` (verifies SigV4) on loopback, data in a local folder,
 * the bucket created. It runs inside the launcher's process and can be stopped and started again on the same
 * port (fault tests take storage away mid-prediction).
 * @module
 */
import { mkdir } from 'node:fs/promises';
import S3rver from '@20minutes/s3rver';

/** Credentials s3rver accepts by default. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3Options {
  port: number;
  directory: string;
  bucket: string;
}

/** A running (or stopped) local S3 server. */
export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  isRunning(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the server and starts it. */
export async function startLocalS3(o: LocalS3Options): Promise<LocalS3> {
  await mkdir(o.directory, { recursive: true });
  let server: S3rver | undefined;
  const s3: LocalS3 = {
    endpoint: `http://127.0.0.1:${o.port}`,
    bucket: o.bucket,
    isRunning: () => server !== undefined,
    async start() {
      if (server) return;
      const next = new S3rver({
        address: '127.0.0.1',
        port: o.port,
        silent: true,
        directory: o.directory,
        configureBuckets: [{ name: o.bucket }],
      });
      await next.run();
      server = next;
    },
    async stop() {
      const current = server;
      server = undefined;
      await current?.close();
    },
  };
  await s3.start();
  return s3;
}
