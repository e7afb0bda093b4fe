/**
 * Edge tests inside workerd (`@cloudflare/vitest-plugin`): the worker from wrangler.toml, D1 migrations as a
 * test-only binding, and loopback services (S3 server, fake GPU backend outputs, webhook receiver, DoH server) started in globalSetup whose
 * addresses reach the worker's bindings via `inject`.
 */
import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import {
  TEST_ADMIN_TOKEN,
  TEST_BUCKET,
  TEST_FLEET_METRICS_TOKEN,
  TEST_INTERNAL_SECRET,
  TEST_ORIGIN,
  TEST_PREFIX,
  TEST_S3_KEY,
  TEST_S3_SECRET,
} from './test/constants.js';

// Keep wrangler/miniflare off the network.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_SEND_METRICS = 'false';
// wrangler.toml declares these secrets as required; the tests' values (also bound below) satisfy the check.
process.env.ADMIN_TOKEN = TEST_ADMIN_TOKEN;
process.env.INTERNAL_SECRET = TEST_INTERNAL_SECRET;
process.env.FLEET_METRICS_TOKEN = TEST_FLEET_METRICS_TOKEN;
process.env.S3_ACCESS_KEY_ID = TEST_S3_KEY;
process.env.S3_SECRET_ACCESS_KEY = TEST_S3_SECRET;

const here = import.meta.dirname;

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(here, 'migrations'));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: path.join(here, '..', 'wrangler.toml') },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_BACKEND: inject('backend'),
            TEST_OPENAPI_VALIDATOR: inject('openApiValidator'),
            TEST_WEBHOOK_RECEIVER: inject('webhookReceiver'),
            TEST_DOH_SERVER: inject('dohServer'),
            PUBLIC_BASE_URL: TEST_ORIGIN,
            S3_ENDPOINT: inject('s3Endpoint'),
            S3_REGION: 'us-east-1',
            S3_BUCKET: TEST_BUCKET,
            S3_PREFIX: TEST_PREFIX,
            S3_ACCESS_KEY_ID: TEST_S3_KEY,
            S3_SECRET_ACCESS_KEY: TEST_S3_SECRET,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            INTERNAL_SECRET: TEST_INTERNAL_SECRET,
            FLEET_METRICS_TOKEN: TEST_FLEET_METRICS_TOKEN,
            // Leases outlive every test unless a test expires them (it drives the work queue's alarm).
            LEASE_TTL_S: '60',
            LEASE_HEARTBEAT_S: '2',
            CORS_ORIGINS: 'https://playground.test',
            // Generous defaults so that only the tests about limits meet them (they set their own per account).
            DEFAULT_REQUESTS_PER_MINUTE: '10000',
            DEFAULT_CONCURRENT_PREDICTIONS: '1000',
            // Webhooks: the receiver is on loopback; names resolve through the loopback DoH server; retries without delay (Retry-After still applies).
            ALLOW_LOOPBACK_WEBHOOKS: 'true',
            DOH_URL: `${inject('dohServer')}/dns-query`,
            WEBHOOK_RETRY_SCHEDULE: '0s,0s,0s,0s',
            // Every catalogue model but SD 2.1, which the tests use as the model that is known but not served.
            SERVED_MODELS: 'sd15-tiny-demo,stable-diffusion-1.5,stable-diffusion-xl-base-1.0',
          },
        },
      })),
    ],
    test: {
      name: 'edge',
      root: here,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      globalSetup: ['test/global-setup.ts'],
      setupFiles: ['test/apply-migrations.ts'],
      // Files run one after another: they share the loopback servers and lease from the same work queues.
      fileParallelism: false,
      testTimeout: 20_000,
      hookTimeout: 30_000,
    },
  };
});
