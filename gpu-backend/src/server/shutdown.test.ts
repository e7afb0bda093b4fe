import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseRequest } from '../../../shared/fleet.js';
import type { BackendEvent } from '../../../shared/internal.js';
import { startTestS3, type TestS3 } from '../../../test/support/s3.js';
import { startFleetEdge, type FleetEdge } from '../../../test/support/server/fleet-edge.js';
import { jobFor, newId, startHarness, TEST_MODEL, TEST_SECRET } from '../../../test/support/server/backend-harness.js';
import { startCallbackReceiver, type CallbackReceiver } from '../../../test/support/server/callback-receiver.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';
import { startServiceProcess, type ServiceProcess } from '../../../test/support/server/service-process.js';

type Completed = Extract<BackendEvent, { type: 'completed' }>;
const LONG = { num_inference_steps: 100 };
const releasesIn = (edge: FleetEdge) =>
  edge.requests.filter((r) => r.endpoint === 'release' && r.status === 200).map((r) => ReleaseRequest.parse(r.body));

describe('draining with work in flight', () => {
  let tmp: string;
  let modelDir: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-drain-'));
    modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('stops polling, releases the unstarted leases (draining), finishes the running job, flushes callbacks', async () => {
    const h = await startHarness({
      modelDir,
      loadPipeline: loadPipelineUnderTest,
      env: { MAX_BATCH_SIZE: '1', QUEUE_CAPACITY: '2', DRAIN_TIMEOUT_MS: '120000' },
    });
    try {
      const running = jobFor(h, newId('drain-run'), { num_inference_steps: 60 });
      const queued = [jobFor(h, newId('drain-q1'), { ...LONG, seed: 5 }), jobFor(h, newId('drain-q2'), { ...LONG, seed: 6 })];
      h.submit(running);
      await h.waitForState(running.id, (s) => s.status === 'processing');
      for (const j of queued) h.submit(j);
      for (const j of queued) await h.waitForState(j.id, (s) => s.status === 'queued');
      const leaseRequestsBefore = () => h.edge.requests.filter((r) => r.endpoint === 'lease').length;
      const { flushed } = await h.backend.shutdown();
      const leaseRequestsAtEnd = leaseRequestsBefore();
      expect(flushed).toBe(true);
      expect(h.logs.find((l) => l.msg === 'draining')).toMatchObject({ running: 1, queued: 2 });
      const releases = releasesIn(h.edge);
      expect(releases, JSON.stringify(releases)).toHaveLength(1);
      expect(releases[0]!.reason).toBe('draining');
      expect(releases[0]!.leases.map((l) => l.prediction_id).sort()).toEqual(queued.map((j) => j.id).sort());
      // the edge has them queued again, as unleased work for another backend
      expect(h.edge.queued()).toBe(2);
      for (const j of queued) expect(h.edge.leaseOf(j.id)?.end).toBe('released');
      for (const j of queued) expect(h.receiver.events.filter((e) => e.prediction_id === j.id)).toEqual([]);
      const done = h.receiver.events.find((e): e is Completed => e.prediction_id === running.id && e.type === 'completed');
      expect(done).toMatchObject({ status: 'succeeded', retryable: false });
      expect(await h.s3.exists(`outputs/test/${running.id}/0.png`)).toBe(true);
      // the running job's lease stayed alive through the drain, and nothing new was leased
      expect(h.edge.leaseOf(running.id)?.end).not.toBe('expired');
      expect(h.edge.leases.filter((l) => l.predictionId === running.id)).toHaveLength(1);
      expect(leaseRequestsBefore()).toBe(leaseRequestsAtEnd);
    } finally {
      await h.edge.close();
      await h.receiver.close();
      await h.s3.close();
    }
  });

  it('stops the running job between steps when the drain times out, and releases its lease too', async () => {
    const h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, env: { MAX_BATCH_SIZE: '1', DRAIN_TIMEOUT_MS: '200' } });
    try {
      const running = jobFor(h, newId('drain-late'), { num_inference_steps: 400 });
      h.submit(running);
      await h.receiver.waitFor((e) => e.prediction_id === running.id && e.type === 'progress');
      await h.backend.shutdown();
      expect(h.get(running.id)?.status).toBe('released');
      expect(h.get(running.id)!.progress!.step).toBeLessThan(400);
      expect(releasesIn(h.edge)).toEqual([
        { worker_id: `test-backend-${process.pid}`, reason: 'draining', leases: [{ prediction_id: running.id, attempt: 1 }] },
      ]);
      expect(h.edge.queued()).toBe(1);
      expect(h.receiver.events.some((e) => e.prediction_id === running.id && e.type === 'completed')).toBe(false);
      expect(await h.s3.exists(`outputs/test/${running.id}/0.png`)).toBe(false);
    } finally {
      await h.edge.close();
      await h.receiver.close();
      await h.s3.close();
    }
  });

  describe('the service process', () => {
    let s3: TestS3;
    let receiver: CallbackReceiver;
    let edge: FleetEdge;
    const procs: ServiceProcess[] = [];
    beforeAll(async () => {
      s3 = await startTestS3();
      receiver = await startCallbackReceiver(TEST_SECRET);
      edge = await startFleetEdge({
        secret: TEST_SECRET,
        leaseTtlMs: 3_000,
        heartbeatMs: 200,
        ended: (id, attempt) => receiver.events.some((e) => e.prediction_id === id && e.attempt === attempt && e.type === 'completed'),
      });
    });
    afterAll(async () => {
      for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      await edge.close();
      await receiver.close();
      await s3.close();
    });
    const start = (workerId: string) => {
      const p = startServiceProcess(
        {
          PORT: '0',
          HOST: '127.0.0.1',
          INTERNAL_SECRET: TEST_SECRET,
          MODELS: `${TEST_MODEL}=${modelDir}`,
          EXECUTION_PROVIDERS: 'cpu',
          S3_ENDPOINT: s3.endpoint,
          S3_BUCKET: s3.bucket,
          S3_ACCESS_KEY_ID: 'S3RVER',
          S3_SECRET_ACCESS_KEY: 'S3RVER',
          S3_FORCE_PATH_STYLE: 'true',
          EDGE_URL: edge.url,
          WORKER_ID: workerId,
          LEASE_WAIT_MS: '1000',
          MAX_BATCH_SIZE: '1',
          QUEUE_CAPACITY: '1',
          DRAIN_TIMEOUT_MS: '20000',
          LOG_LEVEL: 'info',
        },
        TEST_SECRET,
      );
      procs.push(p);
      return p;
    };
    const completed = (id: string) => receiver.events.filter((e): e is Completed => e.prediction_id === id && e.type === 'completed');

    it('drains on SIGTERM: releases the queued lease, reports the running one, exits 0', async () => {
      const svc = start('sigterm-worker');
      await svc.waitLine((l) => l.msg === 'backend ready');
      const job = jobFor({ receiver }, newId('sigterm'), LONG);
      const queued = jobFor({ receiver }, newId('sigterm-q'), { ...LONG, seed: 8 });
      edge.enqueue(job);
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'started');
      edge.enqueue(queued);
      await svc.waitLine((l) => l.msg === 'lease received' && l.prediction_id === queued.id);
      svc.proc.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
      expect(completed(job.id).map((e) => e.status)).toEqual(['succeeded']);
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(true);
      expect(completed(queued.id)).toEqual([]);
      expect(releasesIn(edge)).toContainEqual({
        worker_id: 'sigterm-worker',
        reason: 'draining',
        leases: [{ prediction_id: queued.id, attempt: 1 }],
      });
      expect(edge.leaseOf(queued.id)?.end).toBe('released');
      expect(svc.lines.map((l) => l.msg)).toEqual(
        expect.arrayContaining(['shutdown requested', 'draining', 'leases released', 'drained', 'exiting']),
      );
      expect(svc.lines.find((l) => l.msg === 'draining')).toMatchObject({ running: 1, queued: 1 });
      // every lease this process received fit its capacity (QUEUE_CAPACITY 1 + MAX_BATCH_SIZE 1)
      for (const l of svc.lines.filter((x) => x.msg === 'lease received'))
        expect(l.held as number).toBeLessThanOrEqual(l.capacity as number);
    });

    it('leaves nothing half-reported when killed mid-prediction; the expired lease goes to a fresh process as the next attempt', async () => {
      const first = start('crash-worker-1');
      await first.waitLine((l) => l.msg === 'backend ready');
      // the queued job left by the previous test is taken too; wait for this one
      const job = jobFor({ receiver }, newId('crash'), LONG);
      edge.enqueue(job);
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'progress');
      first.proc.kill('SIGKILL');
      await first.exited;
      expect(completed(job.id)).toEqual([]);
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(false);

      const second = start('crash-worker-2');
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'completed', 60_000);
      expect(completed(job.id).map((e) => [e.attempt, e.status])).toEqual([[2, 'succeeded']]);
      await edge.waitUntil(() => edge.leaseOf(job.id)?.end === 'ended', 5_000, 'the lease to end');
      expect(edge.leases.filter((l) => l.predictionId === job.id).map((l) => [l.workerId, l.attempt, l.end])).toEqual([
        ['crash-worker-1', 1, 'expired'],
        ['crash-worker-2', 2, 'ended'],
      ]);
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(true);
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });
  });
});
