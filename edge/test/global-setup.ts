/**
 * Starts the loopback services the edge tests talk to (S3 server verifying SigV4, the output side of a fake GPU
 * backend, an
 * OpenAPI validator, a webhook receiver verifying with `standardwebhooks`, a DNS-over-HTTPS server) and
 * hands their addresses to the worker's bindings through `provide`.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from '@20minutes/s3rver';
import type { TestProject } from 'vitest/node';
import { TEST_BUCKET, TEST_INTERNAL_SECRET, TEST_S3_KEY, TEST_S3_SECRET } from './constants.js';
import { startDohServer } from './servers/doh-server.js';
import { startFakeBackend } from './servers/fake-backend.js';
import { startOpenApiValidator } from './servers/openapi-validator.js';
import { startWebhookReceiver } from './servers/webhook-receiver.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(path.join(tmpdir(), 'edge-s3-'));
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: TEST_BUCKET }],
    vhostBuckets: false,
  });
  const { port } = await s3.run();
  const s3Endpoint = `http://127.0.0.1:${port}`;
  const backendOptions = {
    secret: TEST_INTERNAL_SECRET,
    s3: { endpoint: s3Endpoint, bucket: TEST_BUCKET, accessKeyId: TEST_S3_KEY, secretAccessKey: TEST_S3_SECRET },
  };
  const backend = await startFakeBackend(backendOptions);
  const validator = await startOpenApiValidator();
  const receiver = await startWebhookReceiver();
  const doh = await startDohServer();
  project.provide('s3Endpoint', s3Endpoint);
  project.provide('backend', backend.url);
  project.provide('openApiValidator', validator.url);
  project.provide('webhookReceiver', receiver.url);
  project.provide('dohServer', doh.url);
  return async () => {
    await Promise.all([backend, validator, receiver, doh].map(({ server }) => new Promise((resolve) => server.close(resolve))));
    await s3.close();
    await rm(directory, { recursive: true, force: true });
  };
}
