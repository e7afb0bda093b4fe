/**
 * The pull protocol end to end in workerd: the test acts as GPU backends calling the signed fleet endpoints.
 * @module
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { type BacklogReport, FLEET_PATHS, type ReleaseResponse } from '../../shared/fleet.js';
import { workQueueOf } from '../src/fleet/work-queue.js';
import { statusListeners } from '../src/index.js';
import { reapPredictions, REAP_GRACE_MS } from '../src/maintenance/reaper.js';
import { gaveUpError, MAX_DISPATCH_ATTEMPTS } from '../src/predictions/transition.js';
import { TEST_FLEET_METRICS_TOKEN } from './constants.js';
import {
  auth,
  call,
  createPrediction,
  deliver,
  drainQueue,
  getPrediction,
  heartbeat,
  lease,
  newCustomer,
  signedCall,
  TEST_WORKER_ID,
  waitForJob,
} from './helpers.js';

const MODEL = 'sd15-tiny-demo';

async function rowOf(id: string): Promise<{ status: string; attempt: number; backend: string | null; error: string | null }> {
  const row = await env.DB.prepare('SELECT status, attempt, backend, error FROM predictions WHERE id = ?')
    .bind(id)
    .first<{ status: string; attempt: number; backend: string | null; error: string | null }>();
  if (!row) throw new Error(`no prediction ${id}`);
  return row;
}

async function ledgerKinds(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT kind FROM credit_ledger WHERE prediction_id = ? ORDER BY id')
    .bind(id)
    .all<{ kind: string }>();
  return results.map((r) => r.kind);
}

/** Makes the lease of `id` overdue and runs the queue's alarm, as if its holder had stopped sending heartbeats. */
async function expireLease(id: string): Promise<void> {
  const queue = workQueueOf(env, MODEL);
  const overdue = await runInDurableObject(
    queue,
    (_instance, state) =>
      state.storage.sql.exec('UPDATE leases SET expires_at = 0 WHERE prediction_id = ? RETURNING prediction_id', id).toArray().length,
  );
  expect(overdue).toBe(1);
  // The queue's alarm is set for the earliest expiry (a TTL away); run it now.
  expect(await runDurableObjectAlarm(queue)).toBe(true);
}

async function backlog(token?: string): Promise<Response> {
  return call(FLEET_PATHS.backlog, token === undefined ? {} : auth(token));
}

/** A prediction row inserted directly in D1 (as if the edge died between the insert and the enqueue). */
async function insertUnqueued(accountId: string, keyId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const id = `reap${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const resolved = {
    prompt: 'x',
    negative_prompt: '',
    width: 64,
    height: 64,
    num_inference_steps: 4,
    guidance_scale: 7.5,
    seed: 1,
    scheduler: 'ddim',
    num_outputs: 1,
    output_format: 'png',
    output_quality: 90,
    deepcache: false,
  };
  const row = {
    id,
    account_id: accountId,
    key_id: keyId,
    model: MODEL,
    status: 'starting',
    input_json: '{}',
    resolved_json: JSON.stringify(resolved),
    cost_credits: 1,
    created_at: new Date(Date.now() - 2 * REAP_GRACE_MS).toISOString(),
    ...overrides,
  };
  const cols = Object.keys(row);
  await env.DB.prepare(`INSERT INTO predictions (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`)
    .bind(...Object.values(row))
    .run();
  return id;
}

beforeEach(async () => {
  await drainQueue(MODEL);
});

describe('POST /internal/fleet/lease', () => {
  it('returns at most `capacity` jobs, each claimed as attempt 1 for that worker', async () => {
    const { key } = await newCustomer('lease');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createPrediction(key)).prediction.id);
    const first = await lease(MODEL, 2, 0, 'gpu-a');
    expect(first.jobs.map(({ job }) => job.id)).toEqual(ids.slice(0, 2));
    expect(first.lease_ttl_ms).toBe(Number(env.LEASE_TTL_S) * 1000);
    expect(first.heartbeat_ms).toBe(Number(env.LEASE_HEARTBEAT_S) * 1000);
    const second = await lease(MODEL, 2, 0, 'gpu-b');
    expect(second.jobs.map(({ job }) => job.id)).toEqual(ids.slice(2));
    for (const { job, lease_expires_at } of [...first.jobs, ...second.jobs]) {
      expect(job).toMatchObject({ attempt: 1, model: MODEL, callback_url: `http://edge.test/internal/predictions/${job.id}/events` });
      expect(Date.parse(lease_expires_at)).toBeGreaterThan(Date.now());
    }
    expect(await rowOf(ids[0]!)).toMatchObject({ attempt: 1, backend: 'gpu-a', status: 'starting' });
    expect(await rowOf(ids[2]!)).toMatchObject({ attempt: 1, backend: 'gpu-b' });
    expect((await lease(MODEL, 8)).jobs).toEqual([]);
  });

  it('waits (long poll) and answers as soon as work is enqueued', async () => {
    const { key } = await newCustomer('long-poll');
    const started = Date.now();
    const waiting = lease(MODEL, 4, 20_000);
    // Create the job only once the lease request waits in the queue.
    while ((await workQueueOf(env, MODEL).counts()).waiting === 0);
    const { prediction } = await createPrediction(key);
    const answer = await waiting;
    expect(answer.jobs.map(({ job }) => job.id)).toEqual([prediction.id]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('answers an empty list when nothing arrives within wait_ms', async () => {
    expect((await lease(MODEL, 4, 300)).jobs).toEqual([]);
  });

  it('hands out a burst round-robin across accounts: B’s jobs come out among the first leases', async () => {
    const a = await newCustomer('burst-a');
    const b = await newCustomer('burst-b');
    const ofA = new Set<string>();
    const ofB = new Set<string>();
    for (let i = 0; i < 30; i++) ofA.add((await createPrediction(a.key)).prediction.id);
    for (let i = 0; i < 3; i++) ofB.add((await createPrediction(b.key)).prediction.id);
    const order: string[] = [];
    for (;;) {
      const { jobs } = await lease(MODEL, 1);
      if (jobs.length === 0) break;
      order.push(jobs[0]!.job.id);
    }
    expect(order).toHaveLength(33);
    const positionsOfB = order.flatMap((id, i) => (ofB.has(id) ? [i] : []));
    // Alternating from the first lease: A, B, A, B, A, B, then A's remaining 27 in their order.
    expect(positionsOfB).toEqual([1, 3, 5]);
    expect(order.filter((id) => ofA.has(id))).toEqual([...ofA]);
  });

  it('drops a job whose prediction was canceled while queued', async () => {
    const { key } = await newCustomer('queued-cancel');
    const { prediction } = await createPrediction(key);
    expect((await call(`/v1/predictions/${prediction.id}/cancel`, auth(key, { method: 'POST' }))).status).toBe(200);
    expect((await lease(MODEL, 8)).jobs).toEqual([]);
    expect(await rowOf(prediction.id)).toMatchObject({ status: 'canceled', attempt: 0 });
  });
});

describe('heartbeats', () => {
  it('renew the lease and record progress; another worker’s or an unknown lease is lost', async () => {
    const { key } = await newCustomer('heartbeat');
    const { prediction } = await createPrediction(key);
    const { job } = await waitForJob(prediction.id);
    const [answer] = (await heartbeat([{ prediction_id: job.id, attempt: job.attempt, progress: { step: 3, total: 6 } }])).leases;
    expect(answer).toMatchObject({ prediction_id: job.id, attempt: job.attempt, action: 'continue' });
    expect(Date.parse(answer!.expires_at ?? '')).toBeGreaterThan(Date.now());
    const progress = await runInDurableObject(workQueueOf(env, MODEL), (_i, state) =>
      state.storage.sql
        .exec<{ progress_step: number; progress_total: number }>(
          'SELECT progress_step, progress_total FROM leases WHERE prediction_id = ?',
          job.id,
        )
        .one(),
    );
    expect(progress).toEqual({ progress_step: 3, progress_total: 6 });

    const others = await heartbeat(
      [
        { prediction_id: job.id, attempt: job.attempt },
        { prediction_id: 'nosuchprediction0000', attempt: 1 },
      ],
      'someone-else',
    );
    expect(others.leases.map((l) => [l.action, l.expires_at])).toEqual([
      ['lost', null],
      ['lost', null],
    ]);
  });
});

describe('lease expiry', () => {
  it('queues the job again as the next attempt; the old attempt’s events are ignored and its heartbeat is lost', async () => {
    const { key } = await newCustomer('expiry');
    const { prediction } = await createPrediction(key);
    const first = await waitForJob(prediction.id);
    await deliver(first.backend, prediction.id, { type: 'started' });
    await expireLease(prediction.id);

    const second = await waitForJob(prediction.id, first.job.attempt);
    expect(second.job.attempt).toBe(first.job.attempt + 1);
    expect(await rowOf(prediction.id)).toMatchObject({ attempt: second.job.attempt, status: 'processing' });
    const [old] = (await heartbeat([{ prediction_id: prediction.id, attempt: first.job.attempt }])).leases;
    expect(old?.action).toBe('lost');
    const late = await signedCall('POST', `/internal/predictions/${prediction.id}/events`, {
      type: 'completed',
      prediction_id: prediction.id,
      attempt: first.job.attempt,
      seq: 5,
      at: new Date().toISOString(),
      status: 'succeeded',
      output: [],
      error: null,
      metrics: {},
    });
    expect(await late.json()).toEqual({ result: 'stale' });
    expect((await getPrediction(key, prediction.id)).status).toBe('processing');

    await deliver(second.backend, prediction.id, { type: 'completed', status: 'succeeded' });
    expect((await getPrediction(key, prediction.id)).status).toBe('succeeded');
    expect(await ledgerKinds(prediction.id)).toEqual(['reserve', 'commit']);
  });

  it(`fails the prediction and releases its credits once ${MAX_DISPATCH_ATTEMPTS} attempts expired`, async () => {
    const { key } = await newCustomer('expiry-max');
    const { prediction } = await createPrediction(key);
    let attempt = 0;
    for (let i = 0; i < MAX_DISPATCH_ATTEMPTS; i++) {
      attempt = (await waitForJob(prediction.id, attempt)).job.attempt;
      await expireLease(prediction.id);
    }
    expect(attempt).toBe(MAX_DISPATCH_ATTEMPTS);
    // The next lease finds it used up: it fails instead of going out again.
    expect((await lease(MODEL, 8)).jobs.map(({ job }) => job.id)).not.toContain(prediction.id);
    expect(await getPrediction(key, prediction.id)).toMatchObject({ status: 'failed', error: gaveUpError(MAX_DISPATCH_ATTEMPTS) });
    expect(await ledgerKinds(prediction.id)).toEqual(['reserve', 'release']);
  });
});

describe('POST /internal/fleet/release', () => {
  it('queues released jobs again at once; a lease that is not the worker’s is not released', async () => {
    const { key } = await newCustomer('release');
    const { prediction } = await createPrediction(key);
    const { job } = await waitForJob(prediction.id);
    const foreign = await signedCall('POST', FLEET_PATHS.release, {
      worker_id: 'someone-else',
      leases: [{ prediction_id: job.id, attempt: job.attempt }],
      reason: 'draining',
    });
    expect(await foreign.json<ReleaseResponse>()).toEqual({ released: 0 });
    const res = await signedCall('POST', FLEET_PATHS.release, {
      worker_id: TEST_WORKER_ID,
      leases: [{ prediction_id: job.id, attempt: job.attempt }],
      reason: 'draining',
    });
    expect(await res.json<ReleaseResponse>()).toEqual({ released: 1 });
    const again = await lease(MODEL, 8, 0, 'gpu-other');
    expect(again.jobs.map((j) => [j.job.id, j.job.attempt])).toEqual([[job.id, job.attempt + 1]]);
    expect((await rowOf(job.id)).backend).toBe('gpu-other');
  });
});

describe('the reaper', () => {
  it('queues a prediction that is in D1 but in no queue, and fails one with its attempts used up', async () => {
    const { accountId, keyId } = await newCustomer('reaper');
    const lost = await insertUnqueued(accountId, keyId);
    const usedUp = await insertUnqueued(accountId, keyId, { attempt: MAX_DISPATCH_ATTEMPTS, status: 'processing' });
    const young = await insertUnqueued(accountId, keyId, { created_at: new Date().toISOString() });
    const result = await reapPredictions(env, statusListeners);
    expect(result.requeued).toBeGreaterThanOrEqual(1);
    expect(await rowOf(usedUp)).toMatchObject({ status: 'failed', error: gaveUpError(MAX_DISPATCH_ATTEMPTS) });
    const leased = (await lease(MODEL, 64)).jobs.map(({ job }) => job.id);
    expect(leased).toContain(lost);
    // Within its grace period a prediction may still be on its way to the queue: left alone.
    expect(leased).not.toContain(young);
    // A second pass finds it held (leased) and queues nothing again.
    await reapPredictions(env, statusListeners);
    expect((await lease(MODEL, 64)).jobs.map(({ job }) => job.id)).not.toContain(lost);
  });

  it('fails a prediction of a model that is no longer served', async () => {
    const { accountId, keyId } = await newCustomer('reaper-model');
    const orphan = await insertUnqueued(accountId, keyId, { model: 'stable-diffusion-2.1' });
    await reapPredictions(env, statusListeners);
    expect(await rowOf(orphan)).toMatchObject({ status: 'failed', error: 'The model is no longer served' });
  });
});

describe('GET /internal/fleet/backlog', () => {
  it('answers 401 problem+json without the token or with a wrong one', async () => {
    for (const res of [await backlog(), await backlog('wrong-token-0123456789')]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('counts queued and leased jobs per served model, with totals', async () => {
    const { key } = await newCustomer('backlog');
    const before = await (await backlog(TEST_FLEET_METRICS_TOKEN)).json<BacklogReport>();
    expect(Object.keys(before.models).sort()).toEqual(env.SERVED_MODELS.split(',').sort());
    expect(before.models[MODEL]?.queued).toBe(0);
    for (let i = 0; i < 3; i++) await createPrediction(key);
    await lease(MODEL, 1);
    const after = await (await backlog(TEST_FLEET_METRICS_TOKEN)).json<BacklogReport>();
    expect(after.models[MODEL]).toEqual({ queued: 2, leased: (before.models[MODEL]?.leased ?? 0) + 1 });
    const sum = (field: 'queued' | 'leased'): number => Object.values(after.models).reduce((n, m) => n + m[field], 0);
    expect([after.queued, after.leased]).toEqual([sum('queued'), sum('leased')]);
  });
});

describe('bad requests change nothing', () => {
  it.each([
    ['lease', FLEET_PATHS.lease, { worker_id: 'gpu', model: MODEL, capacity: 0 }],
    ['lease (unknown field)', FLEET_PATHS.lease, { worker_id: 'gpu', model: MODEL, capacity: 1, extra: true }],
    ['lease (bad worker id)', FLEET_PATHS.lease, { worker_id: 'a b', model: MODEL, capacity: 1 }],
    ['lease (unserved model)', FLEET_PATHS.lease, { worker_id: 'gpu', model: 'stable-diffusion-2.1', capacity: 1 }],
    ['heartbeat', FLEET_PATHS.heartbeat, { worker_id: TEST_WORKER_ID, leases: [{ prediction_id: 'short', attempt: 0 }] }],
    ['release', FLEET_PATHS.release, { worker_id: TEST_WORKER_ID, leases: [], reason: 'bored' }],
  ])('%s → 422 problem+json, the queue unchanged', async (_name, path, body) => {
    const { key } = await newCustomer('bad-body');
    await createPrediction(key);
    const before = await (await backlog(TEST_FLEET_METRICS_TOKEN)).json<BacklogReport>();
    const res = await signedCall('POST', path, body);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'validation-failed' });
    expect(await (await backlog(TEST_FLEET_METRICS_TOKEN)).json<BacklogReport>()).toEqual(before);
  });

  it('refuses an unsigned lease request (401) and leases nothing', async () => {
    const { key } = await newCustomer('unsigned');
    const { prediction } = await createPrediction(key);
    const res = await call(FLEET_PATHS.lease, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ worker_id: 'gpu', model: MODEL, capacity: 1 }),
    });
    expect(res.status).toBe(401);
    expect(await rowOf(prediction.id)).toMatchObject({ attempt: 0, backend: null });
  });
});
