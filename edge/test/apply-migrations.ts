/**
 * Per-file setup: applies the D1 migrations (idempotent) and, after the file's tests, waits until queued
 * dispatches have reached a backend so no queue work is still running when the file's runtime is torn down.
 */
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll } from 'vitest';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

afterAll(async () => {
  const until = Date.now() + 5_000;
  while (Date.now() < until) {
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM predictions WHERE status = 'starting' AND backend IS NULL").first<{
      n: number;
    }>();
    if (!row || row.n === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Let the consumer finish the request it is in.
  await new Promise((r) => setTimeout(r, 100));
});
