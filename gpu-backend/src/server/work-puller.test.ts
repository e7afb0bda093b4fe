import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeartbeatRequest, LeaseRequest, ReleaseRequest } from '../../../shared/fleet.js';
import type { BackendEvent } from '../../../shared/internal.js';
import type { ImagePipeline, LoadPipeline } from './pipeline-port.js';
import { jobFor, newId, startHarness, type Harness } from '../../../test/support/server/backend-harness.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';

type Completed = Extract<BackendEvent, { type: 'completed' }>;

/**
 * The real pipeline, watched: counts the denoising steps each job reports, and the steps it reports after the
 * backend acted on a heartbeat answer for it (the `lease action` log line). `failNextRun` makes the next run
 * reject as a whole, the way a lost device does.
 */
function watchedPipeline(logs: () => Array<Record<string, unknown>>) {
  const steps = new Map<string, number>();
  const stepsAfterAction = new Map<string, number>();
  const state = { failNextRun: false };
  const load: LoadPipeline = async (options) => {
    const real = await loadPipelineUnderTest(options);
    const run: ImagePipeline['run'] = (jobs) => {
      if (state.failNextRun) {
        state.failNextRun = false;
        return Promise.reject(new Error('device lost'));
      }
      return real.run(
        jobs.map((job) => ({
          ...job,
          onProgress: (p) => {
            steps.set(job.id, (steps.get(job.id) ?? 0) + 1);
            if (logs().some((l) => l.msg === 'lease action' && l.prediction_id === job.id && l.stopped === true))
              stepsAfterAction.set(job.id, (stepsAfterAction.get(job.id) ?? 0) + 1);
            job.onProgress?.(p);
          },
        })),
      );
    };
    return {
      modelId: real.modelId,
      executionProvider: real.executionProvider,
      batchKey: (input) => real.batchKey(input),
      warmup: () => real.warmup(),
      dispose: () => real.dispose(),
      run,
    } satisfies ImagePipeline;
  };
  return { load, steps, stepsAfterAction, state };
}

describe('work puller against a strict fleet edge (real pipeline)', () => {
  let tmp: string;
  let modelDir: string;
  let h: Harness | undefined;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-puller-'));
    modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const completedOf = (id: string) =>
    h!.receiver.waitFor((e) => e.prediction_id === id && e.type === 'completed', 60_000) as Promise<Completed>;

  it('never holds more jobs than its capacity, over several lease rounds with a full queue at the edge', async () => {
    h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, env: { QUEUE_CAPACITY: '2', MAX_BATCH_SIZE: '1' } });
    const harness = h;
    const service = harness.backend.service;
    expect(service.leaseCapacity).toBe(3);
    const overAsks: string[] = [];
    harness.edge.onLeaseRequest = (request) => {
      // Held only shrinks while a poll is in flight (one model), so what was free when it asked is still free.
      if (request.capacity > service.leaseCapacity - service.heldCount)
        overAsks.push(`asked ${request.capacity} while holding ${service.heldCount}`);
    };
    const jobs = Array.from({ length: 9 }, (_, i) => jobFor(harness, newId(`cap${i}`), { num_inference_steps: 6, seed: i }));
    for (const j of jobs) harness.submit(j);
    for (const j of jobs) expect((await completedOf(j.id)).status).toBe('succeeded');
    expect(overAsks).toEqual([]);
    const received = harness.logs.filter((l) => l.msg === 'lease received');
    expect(received.map((l) => l.prediction_id).sort()).toEqual(jobs.map((j) => j.id).sort());
    for (const l of received) expect(l.held as number).toBeLessThanOrEqual(3);
    expect(Math.max(...received.map((l) => l.held as number))).toBe(3);
    const leaseRequests = harness.edge.requests.filter((r) => r.endpoint === 'lease').map((r) => LeaseRequest.parse(r.body));
    expect(leaseRequests.every((r) => r.capacity >= 1 && r.capacity <= 3 && r.model === 'sd15-tiny-demo' && r.wait_ms === 500)).toBe(true);
    // the first poll asks for everything; later ones only for what a finished job freed
    expect(leaseRequests[0]!.capacity).toBe(3);
    expect(leaseRequests.filter((r) => r.capacity < 3).length).toBeGreaterThanOrEqual(3);
    expect(harness.edge.requests.filter((r) => r.status !== 200)).toEqual([]);
  });

  it('renews its leases with heartbeats that carry progress, so a job longer than the lease TTL keeps its lease', async () => {
    const ttlMs = 2_500;
    // The job stays in the pipeline until its lease has lived two TTLs, however fast the machine runs the steps:
    // only heartbeats can keep the lease that long.
    let harness: Harness | undefined;
    const outlivingTheLease: LoadPipeline = async (options) => {
      const real = await loadPipelineUnderTest(options);
      return {
        modelId: real.modelId,
        executionProvider: real.executionProvider,
        batchKey: (input) => real.batchKey(input),
        warmup: () => real.warmup(),
        dispose: () => real.dispose(),
        run: async (jobs) => {
          const results = await real.run(jobs);
          const edge = harness!.edge;
          const granted = Math.min(...jobs.map((j) => edge.leaseOf(j.id)?.grantedAt ?? Number.POSITIVE_INFINITY));
          await edge.waitUntil(() => Date.now() > granted + 2 * ttlMs, 120_000, 'the lease to live two TTLs');
          return results;
        },
      } satisfies ImagePipeline;
    };
    h = await startHarness({
      modelDir,
      loadPipeline: outlivingTheLease,
      env: { MAX_BATCH_SIZE: '1', PROGRESS_INTERVAL_MS: '0' },
      edge: { leaseTtlMs: ttlMs, heartbeatMs: 100 },
    });
    harness = h;
    const job = jobFor(harness, newId('renew'), { num_inference_steps: 20 });
    harness.submit(job);
    await harness.receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'started');
    const firstExpiry = harness.edge.leaseOf(job.id)!.expiresAt;
    const done = await completedOf(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 1 });
    const lease = harness.edge.leases.filter((l) => l.predictionId === job.id);
    expect(lease).toHaveLength(1);
    expect(lease[0]!.expiresAt).toBeGreaterThan(firstExpiry);
    // it ran for longer than one TTL: only heartbeats kept it
    expect(Date.parse(done.at) - lease[0]!.grantedAt).toBeGreaterThan(ttlMs);
    const beats = harness.edge.requests.filter((r) => r.endpoint === 'heartbeat').map((r) => HeartbeatRequest.parse(r.body));
    const progress = beats.flatMap((b) =>
      b.leases.filter((l) => l.prediction_id === job.id && l.attempt === 1).map((l) => l.progress?.step ?? 0),
    );
    // progress only goes up, and the heartbeats after the last step carry it
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(20);
    expect(beats.flatMap((b) => b.leases).every((l) => l.progress === undefined || l.progress.total === 20)).toBe(true);
  });

  it('stops the GPU work of a job at the step in flight when a heartbeat says cancel, and reports it canceled', async () => {
    let logs: Array<Record<string, unknown>> = [];
    const watched = watchedPipeline(() => logs);
    h = await startHarness({ modelDir, loadPipeline: watched.load, env: { MAX_BATCH_SIZE: '2', MAX_BATCH_WAIT_MS: '200' } });
    logs = h.logs;
    const harness = h;
    const canceled = jobFor(harness, newId('hb-cancel'), { num_inference_steps: 150 });
    const neighbour = jobFor(harness, newId('hb-neighbour'), { num_inference_steps: 150, seed: 99 });
    harness.submit(canceled);
    harness.submit(neighbour);
    await harness.waitForState(canceled.id, (s) => (s.progress?.step ?? 0) >= 3);
    harness.edge.setAction(canceled.id, 'cancel');
    const done = await completedOf(canceled.id);
    expect(done).toMatchObject({ status: 'canceled', output: null, retryable: false });
    // the step that was running when the answer arrived may finish; none after it
    expect(watched.stepsAfterAction.get(canceled.id) ?? 0).toBeLessThanOrEqual(1);
    expect(watched.steps.get(canceled.id)!).toBeLessThan(150);
    // its batch neighbour runs on to the end
    expect((await completedOf(neighbour.id)).status).toBe('succeeded');
    expect(watched.steps.get(neighbour.id)).toBe(150);
    expect(await harness.s3.exists(`outputs/test/${canceled.id}/0.png`)).toBe(false);
  });

  it('stops the GPU work and reports nothing when a heartbeat says the lease is lost', async () => {
    let logs: Array<Record<string, unknown>> = [];
    const watched = watchedPipeline(() => logs);
    h = await startHarness({ modelDir, loadPipeline: watched.load, env: { MAX_BATCH_SIZE: '1' } });
    logs = h.logs;
    const harness = h;
    const job = jobFor(harness, newId('hb-lost'), { num_inference_steps: 150 });
    const next = jobFor(harness, newId('after-lost'), { num_inference_steps: 4 });
    harness.submit(job);
    await harness.waitForState(job.id, (s) => (s.progress?.step ?? 0) >= 3);
    harness.edge.setAction(job.id, 'lost');
    await harness.waitForState(job.id, (s) => s.status === 'lost');
    expect(watched.stepsAfterAction.get(job.id) ?? 0).toBeLessThanOrEqual(1);
    // the GPU is free again: the next job runs, and the lost one never reported an end
    harness.submit(next);
    expect((await completedOf(next.id)).status).toBe('succeeded');
    expect(harness.receiver.events.filter((e) => e.prediction_id === job.id && e.type === 'completed')).toEqual([]);
    expect(watched.steps.get(job.id)!).toBeLessThan(150);
  });

  it('backs off while the edge is unreachable or failing, keeps running its job, and recovers when the edge is back', async () => {
    h = await startHarness({
      modelDir,
      loadPipeline: loadPipelineUnderTest,
      env: { MAX_BATCH_SIZE: '1', FLEET_BACKOFF_BASE_MS: '40', FLEET_BACKOFF_MAX_MS: '400' },
    });
    const harness = h;
    const running = jobFor(harness, newId('outage-run'), { num_inference_steps: 60 });
    harness.submit(running);
    await harness.receiver.waitFor((e) => e.prediction_id === running.id && e.type === 'started');
    await harness.edge.setMode('refused');
    const failures = () => harness.logs.filter((l) => l.msg === 'fleet lease failed');
    await harness.edge.waitUntil(() => failures().length >= 5, 30_000, 'five failed lease polls');
    // the job leased before the outage runs to the end (callbacks do not go through the fleet endpoints)
    expect((await completedOf(running.id)).status).toBe('succeeded');
    const seen = failures().slice(0, 5);
    expect(seen.map((l) => l.consecutive_failures)).toEqual([1, 2, 3, 4, 5]);
    // each wait at least half the doubling delay: 20, 40, 80, 160 ms
    for (let i = 1; i < seen.length; i++) {
      expect(Date.parse(seen[i]!.time as string) - Date.parse(seen[i - 1]!.time as string)).toBeGreaterThanOrEqual(
        Math.min(400, 40 * 2 ** (i - 1)) / 2 - 2,
      );
    }
    await harness.edge.setMode('503');
    await harness.edge.waitForRequest((r) => r.status === 503 && r.endpoint === 'lease');
    expect(harness.backend.service.health().status).toBe('READY');
    const after = jobFor(harness, newId('outage-after'));
    harness.submit(after);
    await harness.edge.setMode('up');
    expect((await completedOf(after.id)).status).toBe('succeeded');
    expect(harness.logs.some((l) => l.msg === 'fleet lease failed' && l.status === 503)).toBe(true);
    expect(harness.logs.some((l) => l.level === 'error' && l.msg === 'uncaught exception; exiting')).toBe(false);
  });

  it('hands its leases back (failed) and stops polling when the pipeline fails as a whole', async () => {
    let logs: Array<Record<string, unknown>> = [];
    const watched = watchedPipeline(() => logs);
    h = await startHarness({ modelDir, loadPipeline: watched.load, env: { MAX_BATCH_SIZE: '1', QUEUE_CAPACITY: '2' } });
    logs = h.logs;
    const harness = h;
    const blocker = jobFor(harness, newId('defunct-run'), { num_inference_steps: 60 });
    harness.submit(blocker);
    await harness.waitForState(blocker.id, (s) => s.status === 'processing');
    const doomed = [jobFor(harness, newId('defunct-a'), { seed: 1 }), jobFor(harness, newId('defunct-b'), { seed: 2 })];
    watched.state.failNextRun = true;
    for (const j of doomed) harness.submit(j);
    for (const j of doomed) await harness.waitForState(j.id, (s) => s.status === 'queued');
    await completedOf(blocker.id);
    await harness.edge.waitUntil(() => harness.edge.requests.some((r) => r.endpoint === 'release'), 30_000, 'a release');
    expect(harness.backend.service.health().status).toBe('DEFUNCT');
    const releases = harness.edge.requests.filter((r) => r.endpoint === 'release').map((r) => ReleaseRequest.parse(r.body));
    expect(releases.every((r) => r.reason === 'failed')).toBe(true);
    expect(releases.flatMap((r) => r.leases.map((l) => l.prediction_id)).sort()).toEqual(doomed.map((j) => j.id).sort());
    expect(harness.edge.queued()).toBe(2);
    for (const j of doomed) expect(harness.receiver.events.filter((e) => e.prediction_id === j.id && e.type === 'completed')).toEqual([]);
    await harness.edge.waitUntil(() => harness.logs.some((l) => l.msg === 'lease polling stopped'), 10_000, 'polling to stop');
    expect(harness.logs.find((l) => l.msg === 'lease polling stopped')).toMatchObject({ reason: 'service DEFUNCT' });
    expect(harness.backend.service.acceptingWork).toBe(false);
  });
});
