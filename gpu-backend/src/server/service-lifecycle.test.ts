import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendEvent } from '../../../shared/internal.js';
import { jobFor, newId, startHarness, type Harness } from '../../../test/support/server/backend-harness.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';

const LONG = { num_inference_steps: 150 };
const completedOf = (h: Harness, id: string) =>
  h.receiver.waitFor((e) => e.prediction_id === id && e.type === 'completed') as Promise<Extract<BackendEvent, { type: 'completed' }>>;

describe('prediction lifecycle: cancel and abort by heartbeat, deadline, callback retries, storage failure', () => {
  let h: Harness;
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-life-'));
    const modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
    h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, env: { MAX_BATCH_SIZE: '1', PROGRESS_INTERVAL_MS: '0' } });
  });
  afterAll(async () => {
    await h?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('cancels a running prediction between steps when a heartbeat says cancel: canceled, no images stored', async () => {
    const job = jobFor(h, newId('cancel-run'), LONG);
    h.submit(job);
    await h.receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'progress');
    h.edge.setAction(job.id, 'cancel');
    const done = await completedOf(h, job.id);
    expect(done.status).toBe('canceled');
    expect(done.output).toBeNull();
    const state = h.get(job.id)!;
    expect(state.status).toBe('canceled');
    expect(state.progress!.step).toBeLessThan(LONG.num_inference_steps);
    expect(await h.s3.exists(`outputs/test/${job.id}/0.png`)).toBe(false);
  });

  it('cancels a queued prediction at its heartbeat, without a started event', async () => {
    const running = jobFor(h, newId('blocker'), LONG);
    const queued = jobFor(h, newId('cancel-q'), { seed: 9, prompt: 'other' });
    h.submit(running);
    await h.waitForState(running.id, (s) => s.status === 'processing');
    h.submit(queued);
    await h.waitForState(queued.id, (s) => s.status === 'queued');
    h.edge.setAction(queued.id, 'cancel');
    expect((await completedOf(h, queued.id)).status).toBe('canceled');
    expect(h.get(queued.id)).toMatchObject({ id: queued.id, status: 'canceled' });
    expect(h.receiver.events.some((e) => e.prediction_id === queued.id && e.type === 'started')).toBe(false);
    h.edge.setAction(running.id, 'abort');
    const aborted = await completedOf(h, running.id);
    expect(aborted).toMatchObject({ status: 'aborted', error: 'deadline passed', output: null });
  });

  it('aborts a prediction whose deadline passes while it runs, and one whose deadline already passed', async () => {
    const running = jobFor(h, newId('deadline-run'), LONG, { deadline: new Date(Date.now() + 300).toISOString() });
    h.submit(running);
    const done = await completedOf(h, running.id);
    expect(done.status).toBe('aborted');
    expect(h.receiver.events.some((e) => e.prediction_id === running.id && e.type === 'started')).toBe(true);

    const late = jobFor(h, newId('deadline-past'), {}, { deadline: new Date(Date.now() - 1000).toISOString() });
    h.submit(late);
    expect((await completedOf(h, late.id)).status).toBe('aborted');
    expect(h.receiver.events.some((e) => e.prediction_id === late.id && e.type === 'started')).toBe(false);
  });

  it('retries callbacks against a flaky receiver and delivers every event once, in order', async () => {
    const job = jobFor(h, newId('flaky'), { num_inference_steps: 6 });
    const actions = ['fail-500', 'drop-socket', 'busy-429', 'fail-500'] as const;
    let failures = 0;
    h.receiver.plan = (_n, e) => (e?.prediction_id === job.id && failures < actions.length ? actions[failures++]! : 'ok');
    try {
      h.submit(job);
      const done = await completedOf(h, job.id);
      expect(done.status).toBe('succeeded');
      const seqs = h.receiver.events.filter((e) => e.prediction_id === job.id).map((e) => e.seq);
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      expect(h.receiver.requests.filter((r) => r.action !== 'ok').length).toBeGreaterThanOrEqual(actions.length);
    } finally {
      h.receiver.plan = () => 'ok';
    }
  });

  it('fails only the prediction the pipeline rejects, and stays READY', async () => {
    const job = jobFor(h, newId('odd-size'), { width: 72 });
    h.submit(job);
    const done = await completedOf(h, job.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/^pipeline error: .*multiples of 64/);
    await h.waitForHealth('READY', 2000);
  });

  it('fails a prediction cleanly when S3 is down during upload, and reports it', async () => {
    await h.s3.close();
    const job = jobFor(h, newId('s3down'), { num_outputs: 2 });
    h.submit(job);
    const done = await completedOf(h, job.id);
    expect(done.status).toBe('failed');
    expect(done.output).toBeNull();
    expect(done.error).toMatch(/^upload failed/);
    expect(h.get(job.id)).toMatchObject({ status: 'failed', output: null });
  });
});
