/**
 * The pull fleet under churn on the real local stack: three GPU backends pull 200 predictions of four accounts
 * (mixed sizes, steps and image counts) from the edge; one backend is SIGKILLed while it holds leases, two more
 * join, and one is drained (SIGTERM: it hands back what it has not started and exits by itself). Afterwards every
 * prediction has ended exactly once (succeeded via the API, exactly one terminal webhook delivery each), each
 * account's balance fell by exactly the price of the images it received (and its ledger settled every hold), and
 * no backend ever held more leased jobs than it can hold (its lease gauges, sampled throughout). Prints the queue
 * wait (accepted → started) p50/p95 and the images per minute of the run.
 */
import { describe, expect, it } from 'vitest';
import { batchThroughput, startDelayMs } from '../../bench/fleet/timing.js';
import { quantile } from '../../bench/lib/stats.js';
import type { Stack } from '../../scripts/stack/start-stack.js';
import { admin, eventually, WAIT_DEADLINE_MS } from './helpers/api.js';
import { backendMetric, LeaseSampler, LEASES_HELD, LEASES_RECEIVED } from './helpers/backend-metrics.js';
import { useStack } from './helpers/stack-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/** Small per-backend capacity (2 queued + a batch of 2) so that 200 jobs keep every backend full. */
const BACKEND_ENV = { QUEUE_CAPACITY: '2', MAX_BATCH_SIZE: '2' };
const h = useStack({
  backendsCount: 3,
  backendEnv: BACKEND_ENV,
  edgeVars: { DEFAULT_CONCURRENT_PREDICTIONS: '1000', WEBHOOK_RETRY_SCHEDULE: '1s,2s,2s,2s,2s' },
});

const ACCOUNTS = 4;
const PREDICTIONS = 200;
/** Predictions created before the fleet changes; the rest once the two new backends are READY. */
const FIRST_WAVE = 100;
const CREDITS_PER_ACCOUNT = 10_000_000;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/** The prediction object as far as this test reads it. */
interface Prediction {
  id: string;
  status: string;
  input: { num_outputs: number };
  output: string[] | null;
  cost: { credits: number };
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

interface Account {
  id: string;
  key: string;
  receiver: WebhookReceiver;
  ids: string[];
}

async function asAccount<T>(stack: Stack, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.edgeUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A new account with credits, a key, and a webhook receiver that verifies with the account's secret. */
async function newAccount(stack: Stack, n: number): Promise<Account> {
  const account = await admin<{ id: string }>(stack, 'POST', '/admin/accounts', { name: `fleet-${n}` });
  await admin(stack, 'POST', `/admin/accounts/${account.id}/credits`, { credits: CREDITS_PER_ACCOUNT, note: 'e2e fleet' });
  const { key } = await admin<{ key: string }>(stack, 'POST', `/admin/accounts/${account.id}/keys`, { name: 'e2e' });
  const secret = await asAccount<{ key: string }>(stack, key, 'GET', '/v1/webhooks/secret');
  return { id: account.id, key, receiver: await startWebhookReceiver({ secret: secret.body.key }), ids: [] };
}

/** The i-th create request: sizes, steps and image counts vary so that prices and batches differ. */
function createRequest(i: number, webhook: string): Record<string, unknown> {
  return {
    model: 'sd15-tiny-demo',
    input: {
      prompt: `fleet job ${i}`,
      width: i % 5 === 0 ? 128 : 64,
      height: 64,
      num_inference_steps: 2 + (i % 4) * 2,
      num_outputs: i % 7 === 0 ? 2 : 1,
      seed: i,
    },
    webhook,
    webhook_events_filter: ['completed'],
  };
}

/** Creates predictions `from`..`to − 1`, round-robin over the accounts, a few requests at a time. */
async function createRange(stack: Stack, accounts: Account[], from: number, to: number): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const i = next++;
      const account = accounts[i % accounts.length]!;
      const res = await asAccount<Prediction>(
        stack,
        account.key,
        'POST',
        '/v1/predictions',
        createRequest(i, `${account.receiver.url}/hooks`),
      );
      if (res.status !== 201 && res.status !== 202) throw new Error(`create ${i} answered ${res.status}: ${JSON.stringify(res.body)}`);
      account.ids.push(res.body.id);
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
}

/** Every prediction of the accounts, read through the list endpoint (one page per account). */
async function readAll(stack: Stack, accounts: Account[]): Promise<Prediction[]> {
  const pages = await Promise.all(
    accounts.map((a) => asAccount<{ results: Prediction[]; next: string | null }>(stack, a.key, 'GET', '/v1/predictions?limit=100')),
  );
  return pages.flatMap((p) => {
    if (p.status !== 200) throw new Error(`list answered ${p.status}`);
    if (p.body.next !== null) throw new Error('an account has more predictions than one page');
    return p.body.results;
  });
}

const endedCount = async (stack: Stack, accounts: Account[]): Promise<number> =>
  (await readAll(stack, accounts)).filter((p) => TERMINAL.has(p.status)).length;

describe('the pull fleet under churn', () => {
  it('ends every prediction exactly once, charges what was delivered, and never overfills a backend', async () => {
    const stack = h.stack;
    const accounts = await Promise.all(Array.from({ length: ACCOUNTS }, (_, n) => newAccount(stack, n)));
    const sampler = new LeaseSampler(() => stack.backends.running(), stack.internalSecret);
    try {
      const [victim, drained] = stack.backends.all();
      await createRange(stack, accounts, 0, FIRST_WAVE);

      // SIGKILL a backend while it holds leases: they expire and their jobs run elsewhere as the next attempt.
      await eventually('the victim to hold leases mid-run', async () => {
        const held = await backendMetric(victim!, stack.internalSecret, LEASES_HELD);
        return held !== undefined && held > 0 && (await endedCount(stack, accounts)) >= 10 ? true : undefined;
      });
      expect((await stack.backends.kill(victim!.workerId)).signal).toBe('SIGKILL');

      // Two more backends join; the second wave is created once they are READY, so they find work waiting.
      const joined = await Promise.all([stack.backends.add(), stack.backends.add()]);
      await createRange(stack, accounts, FIRST_WAVE, PREDICTIONS);
      await eventually('both new backends to receive work', async () => {
        const received = await Promise.all(joined.map((b) => backendMetric(b, stack.internalSecret, LEASES_RECEIVED)));
        return received.every((r) => r !== undefined && r > 0) ? true : undefined;
      });

      // Drain one of the original backends: it exits by itself (code 0), not by the stop deadline's SIGKILL.
      expect(await stack.backends.drain(drained!.workerId)).toEqual({ code: 0, signal: null });

      const all = await eventually(
        'every prediction to end',
        async () => {
          const ps = await readAll(stack, accounts);
          return ps.length === PREDICTIONS && ps.every((p) => TERMINAL.has(p.status)) ? ps : undefined;
        },
        WAIT_DEADLINE_MS * 2,
      );
      const highWater = await sampler.stop();

      // Exactly once: each prediction succeeded, and its account's receiver got one terminal delivery for it.
      expect(new Set(all.map((p) => p.id)).size).toBe(PREDICTIONS);
      expect(all.filter((p) => p.status !== 'succeeded').map((p) => `${p.id} ${p.status}`)).toEqual([]);
      await eventually('a terminal webhook for every prediction', async () => {
        const delivered = new Set(
          accounts.flatMap((a) => a.receiver.deliveries.filter((d) => d.verified).map((d) => (d.payload as Prediction).id)),
        );
        return all.every((p) => delivered.has(p.id)) ? true : undefined;
      });
      for (const account of accounts) {
        const terminal = account.receiver.deliveries.filter((d) => d.verified && TERMINAL.has((d.payload as Prediction).status));
        const webhookIdsPerPrediction = new Map<string, Set<string>>();
        for (const d of terminal) {
          const id = (d.payload as Prediction).id;
          webhookIdsPerPrediction.set(id, (webhookIdsPerPrediction.get(id) ?? new Set()).add(d.id));
        }
        expect([...webhookIdsPerPrediction.keys()].sort()).toEqual([...account.ids].sort());
        expect([...webhookIdsPerPrediction.values()].filter((ids) => ids.size !== 1)).toEqual([]);
        for (const d of terminal) expect((d.payload as Prediction).status).toBe('succeeded');
      }

      // The ledger: each account paid exactly the price of the images it received, and every hold is settled.
      for (const account of accounts) {
        const mine = all.filter((p) => account.ids.includes(p.id));
        const delivered = mine.reduce((sum, p) => {
          expect(p.output?.length).toBe(p.input.num_outputs);
          return sum + p.output!.length * (p.cost.credits / p.input.num_outputs);
        }, 0);
        const balance = await asAccount<{ balance: { credits: number } }>(stack, account.key, 'GET', '/v1/account');
        expect(CREDITS_PER_ACCOUNT - balance.body.balance.credits).toBe(delivered);
        const check = await admin<{
          consistent: boolean;
          ledger: { reserved: number; committed: number; released: number; outstanding: number };
        }>(stack, 'GET', `/admin/accounts/${account.id}/ledger/check`);
        expect(check.consistent).toBe(true);
        expect(check.ledger.outstanding).toBe(0);
        expect(check.ledger.committed).toBe(delivered);
        expect(check.ledger.reserved).toBe(check.ledger.committed + check.ledger.released);
      }

      // No backend held more leased jobs than it can hold; the samples saw backends holding several jobs at once, so
      // the check bites (how close to full they were seen depends on when the 100 ms samples fell).
      const capacity = Number(BACKEND_ENV.QUEUE_CAPACITY) + Number(BACKEND_ENV.MAX_BATCH_SIZE);
      expect([...highWater.keys()].sort()).toEqual(
        stack.backends
          .all()
          .map((b) => b.workerId)
          .sort(),
      );
      for (const [workerId, seen] of highWater) {
        expect(seen.capacity, workerId).toBe(capacity);
        expect(seen.maxHeld, workerId).toBeLessThanOrEqual(seen.capacity);
      }
      expect(Math.max(...[...highWater.values()].map((s) => s.maxHeld))).toBeGreaterThan(1);

      const waits = all.map(startDelayMs);
      const throughput = batchThroughput(all);
      console.log(
        JSON.stringify({
          fleet_run: {
            predictions: all.length,
            images: throughput.images,
            images_per_minute: throughput.images_per_minute,
            queue_wait_ms: { p50: Math.round(quantile(waits, 0.5)), p95: Math.round(quantile(waits, 0.95)) },
            lease_high_water: Object.fromEntries(highWater),
          },
        }),
      );
    } finally {
      await sampler.stop().catch(() => undefined);
      await Promise.all(accounts.map((a) => a.receiver.close()));
    }
  }, 1_800_000);
});
