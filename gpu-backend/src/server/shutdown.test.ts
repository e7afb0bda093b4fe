import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendEvent } from '../../../shared/internal.js';
import { signInternalRequest } from '../../../shared/signing.js';
import { startTestS3, type TestS3 } from '../storage/testing-s3.js';
import { RETRYABLE_ERROR_PREFIX } from './prediction-record.js';
import { jobFor, newId, startHarness, TEST_MODEL, TEST_SECRET } from './testing/backend-harness.js';
import { startCallbackReceiver, type CallbackReceiver } from './testing/callback-receiver.js';
import { loadPipelineUnderTest, makeTinyModelDir } from './testing/pipeline-under-test.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
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
      expect(done(queued.id)).toMatchObject({ status: 'failed', output: null });
      expect(done(queued.id)!.error!.startsWith(RETRYABLE_ERROR_PREFIX)).toBe(true);
    } finally {
      await h.receiver.close();
      await h.s3.close();
    }
  });

  describe('the service process', () => {
    let s3: TestS3;
    let receiver: CallbackReceiver;
    let child: ChildProcess | undefined;
    beforeAll(async () => {
      s3 = await startTestS3();
      receiver = await startCallbackReceiver(TEST_SECRET);
    });
    afterAll(async () => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await receiver.close();
      await s3.close();
    });

    it('drains on SIGTERM with a prediction running and exits 0 after reporting it', async () => {
      const env = {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
        PORT: '0', HOST: '127.0.0.1', INTERNAL_SECRET: TEST_SECRET, MODELS: `${TEST_MODEL}=${modelDir}`, EXECUTION_PROVIDERS: 'cpu',
        S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER', S3_FORCE_PATH_STYLE: 'true',
        DRAIN_TIMEOUT_MS: '20000', LOG_LEVEL: 'info',
      };
      // The service's own node process (not npx in front of it), so SIGTERM reaches it as it would in a container.
      const proc = spawn(process.execPath, ['--import', 'tsx', 'gpu-backend/src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      const lines: Array<Record<string, unknown>> = [];
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
          buf = buf.slice(nl + 1);
        }
      });
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
      const waitLine = async (pred: (l: Record<string, unknown>) => boolean) => {
        for (let i = 0; i < 1200; i++) {
          const hit = lines.find(pred);
          if (hit) return hit;
          if (proc.exitCode !== null) throw new Error(`service exited early: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`log line not seen; stderr: ${stderr}`);
      };
      const listening = await waitLine((l) => l.msg === 'listening');
      await waitLine((l) => l.msg === 'backend ready');
      const base = `http://127.0.0.1:${String(listening.port)}`;
      const job = { ...jobFor({ receiver }, newId('sigterm'), LONG) };
      const body = JSON.stringify(job);
      const res = await fetch(`${base}/predictions/${job.id}`, {
        method: 'PUT', body,
        headers: { 'content-type': 'application/json', ...(await signInternalRequest(TEST_SECRET, 'PUT', `/predictions/${job.id}`, body)) },
      });
      expect(res.status).toBe(202);
      await receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'started');
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      const done = receiver.events.find((e): e is Completed => e.prediction_id === job.id && e.type === 'completed');
      expect(done?.status).toBe('succeeded');
      expect(await s3.exists(`outputs/test/${job.id}/0.png`)).toBe(true);
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutdown requested', 'draining', 'drained', 'exiting']));
      expect(lines.find((l) => l.msg === 'draining')).toMatchObject({ running: 1 });
    });
  });
});
