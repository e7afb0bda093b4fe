import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendEvent } from '../../../shared/internal.js';
import { startTestS3, type TestS3 } from '../../../test/support/s3.js';
import { RETRYABLE_ERROR_PREFIX } from './prediction-record.js';
import { jobFor, newId, startHarness, TEST_MODEL, TEST_SECRET } from '../../../test/support/server/backend-harness.js';
import { startCallbackReceiver, type CallbackReceiver } from '../../../test/support/server/callback-receiver.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';
import { startServiceProcess, type ServiceProcess } from '../../../test/support/server/service-process.js';

type Completed = Extract<BackendEvent, { type: 'completed' }>;
const LONG = { num_inference_steps: 100 };

describe('graceful shutdown with work in flight', () => {
  let tmp: string;
  let modelDir: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-drain-'));
    modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('finishes the running batch, hands queued work back as retryable, refuses new work, flushes callbacks', async () => {
    const h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, env: { MAX_BATCH_SIZE: '1' } });
    try {
      const running = jobFor(h, newId('drain-run'), LONG);
      const queued = jobFor(h, newId('drain-q'), { ...LONG, seed: 5 });
      await h.put(running);
      await h.waitForState(running.id, (s) => s.status === 'processing');
      await h.put(queued);
      const draining = h.backend.shutdown();
      const refused = await h.put(jobFor(h, newId('drain-new')));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).not.toBeNull();
      const { flushed } = await draining;
      expect(h.logs.find((l) => l.msg === 'draining')).toMatchObject({ running: 1, queued: 1 });
      expect(flushed).toBe(true);
      const done = (id: string) => h.receiver.events.find((e): e is Completed => e.prediction_id === id && e.type === 'completed');
      expect(done(running.id)?.status).toBe('succeeded');
      expect(await h.s3.exists(`outputs/test/${running.id}/0.png`)).toBe(true);
      expect(done(queued.id)).toMatchObject({ status: 'failed', output: null, retryable: true });
      expect(done(queued.id)!.error!.startsWith(RETRYABLE_ERROR_PREFIX)).toBe(true);
      expect(done(running.id)?.retryable).toBe(false);
    } finally {
      await h.receiver.close();
      await h.s3.close();
    }
  });

  describe('the service process', () => {
    let s3: TestS3;
    let receiver: CallbackReceiver;
    const procs: ServiceProcess[] = [];
    beforeAll(async () => {
      s3 = await startTestS3();
      receiver = await startCallbackReceiver(TEST_SECRET);
    });
    afterAll(async () => {
      for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      await receiver.close();
      await s3.close();
    });
    const start = () => {
      const p = startServiceProcess(
        {
          PORT: '0', HOST: '127.0.0.1', INTERNAL_SECRET: TEST_SECRET, MODELS: `${TEST_MODEL}=${modelDir}`, EXECUTION_PROVIDERS: 'cpu',
          S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER', S3_FORCE_PATH_STYLE: 'true',
          DRAIN_TIMEOUT_MS: '20000', LOG_LEVEL: 'info',
        },
        TEST_SECRET,
      );
      procs.push(p);
      return p;
    };
    const completed = (id: string) => receiver.events.filter((e): e is Completed => e.prediction_id === id && e.type === 'completed');

    it('drains on SIGTERM with a prediction running and exits 0 after reporting it', async () => {
      const svc = start();
      await svc.waitLine((l) => l.msg === 'backend ready');
      const job = jobFor({ receiver }, newId('sigterm'), LONG);
      expect((await svc.request('PUT', `/predictions/${job.id}`, JSON.stringify(job))).status).toBe(202);
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'started');
      svc.proc.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
      expect(completed(job.id).map((e) => e.status)).toEqual(['succeeded']);
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(true);
      expect(svc.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutdown requested', 'draining', 'drained', 'exiting']));
      expect(svc.lines.find((l) => l.msg === 'draining')).toMatchObject({ running: 1 });
    });

    it('leaves nothing half-reported when killed mid-prediction; a new attempt on a fresh process completes it', async () => {
      const first = start();
      await first.waitLine((l) => l.msg === 'backend ready');
      const job = jobFor({ receiver }, newId('crash'), LONG);
      expect((await first.request('PUT', `/predictions/${job.id}`, JSON.stringify(job))).status).toBe(202);
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'progress');
      first.proc.kill('SIGKILL');
      await first.exited;
      expect(completed(job.id)).toEqual([]);
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(false);

      const second = start();
      await second.waitLine((l) => l.msg === 'backend ready');
      const retry = { ...job, attempt: 2 };
      expect((await second.request('PUT', `/predictions/${job.id}`, JSON.stringify(retry))).status).toBe(202);
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'completed');
      expect(completed(job.id).map((e) => [e.attempt, e.status])).toEqual([[2, 'succeeded']]);
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(true);
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });
  });
});
