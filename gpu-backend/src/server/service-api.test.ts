import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendHealth, BackendPredictionState } from '../../../shared/internal.js';
import { Problem } from '../../../shared/problem.js';
import { jobFor, newId, startHarness, type Harness } from '../../../test/support/server/backend-harness.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';
import { parsePrometheusText } from '../../../test/support/server/prometheus-text.js';

describe('backend HTTP API (real pipeline, s3rver, callback receiver)', () => {
  let h: Harness;
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-api-'));
    const modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
    h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, env: { QUEUE_CAPACITY: '2', MAX_BATCH_SIZE: '1', METRICS_TOKEN: METRICS_TOKEN } });
  });
  afterAll(async () => {
    await h?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('refuses unsigned, wrongly signed and stale requests with 401 problem+json and runs nothing', async () => {
    const job = jobFor(h, newId('auth'));
    const unsigned = await h.request('PUT', `/predictions/${job.id}`, job, { sign: false });
    const wrong = await h.request('PUT', `/predictions/${job.id}`, job, { secret: 'another-secret-0123456789abcdef0123' });
    for (const res of [unsigned, wrong]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(Problem.parse(await res.json()).code).toBe('unauthorized');
    }
    expect((await h.request('GET', '/health-check', undefined, { sign: false })).status).toBe(401);
    expect((await h.request('GET', '/metrics', undefined, { sign: false })).status).toBe(401);
    expect((await h.request('GET', '/no-such-route', undefined, { sign: false })).status).toBe(401);
    expect((await h.request('GET', '/no-such-route')).status).toBe(404);
    expect((await h.request('GET', '/ready', undefined, { sign: false })).status).toBe(200);
    expect((await h.request('GET', `/predictions/${job.id}`)).status).toBe(404);
    expect(h.receiver.events.filter((e) => e.prediction_id === job.id)).toEqual([]);
  });

  it('runs a prediction: 202, started → throttled progress → completed callbacks in seq order, images in S3 with metadata', async () => {
    const job = jobFor(h, newId('run'), { num_outputs: 2, output_format: 'webp', num_inference_steps: 20 });
    const res = await h.put(job);
    expect(res.status).toBe(202);
    expect(BackendPredictionState.parse(await res.json()).status).toBe('queued');
    const done = await h.receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'completed');
    expect(done.type === 'completed' && done.status).toBe('succeeded');
    const events = h.receiver.events.filter((e) => e.prediction_id === job.id);
    expect(events[0]!.type).toBe('started');
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e] : []));
    expect(progress[0]!.step).toBe(1);
    expect(progress.at(-1)!.step).toBe(job.input.num_inference_steps);
    // throttled: at most one progress event per 250 ms, except the last step which is always sent
    for (let i = 1; i < progress.length - 1; i++) expect(Date.parse(progress[i]!.at) - Date.parse(progress[i - 1]!.at)).toBeGreaterThanOrEqual(250);
    expect(progress.length).toBeLessThan(job.input.num_inference_steps);
    const state = await h.get(job.id);
    expect(state.status).toBe('succeeded');
    expect(state.output!.map((o) => o.key)).toEqual([`outputs/test/${job.id}/0.webp`, `outputs/test/${job.id}/1.webp`]);
    const obj = await h.s3.getObject(state.output![0]!.key);
    expect(obj.contentType).toBe('image/webp');
    expect(obj.body.byteLength).toBe(state.output![0]!.bytes);
    expect(obj.metadata.seed).toBe(String(job.input.seed));
    // Neither the prompt nor its (guessable) unsalted hash is stored, in the object's metadata or in the image.
    const promptHash = createHash('sha256').update(job.input.prompt, 'utf8').digest('hex');
    expect(Object.keys(obj.metadata).filter((k) => k.includes('prompt'))).toEqual([]);
    expect(JSON.stringify(obj.metadata)).not.toContain(promptHash);
    expect(Buffer.from(obj.body).toString('latin1')).not.toContain(promptHash);
    expect(JSON.stringify(obj.metadata)).not.toContain(job.input.prompt);
    expect(state.metrics.unet_full_steps! + state.metrics.unet_shallow_steps!).toBe(job.input.num_inference_steps);
    expect(JSON.stringify(h.logs)).not.toContain(job.input.prompt);
    expect(JSON.stringify(h.logs)).not.toContain(TEST_SECRET_FRAGMENT);
  });

  it('answers a repeated PUT with the same prediction and never runs it twice, also for a new attempt', async () => {
    const job = jobFor(h, newId('idem'));
    const first = await h.put(job);
    const second = await h.put(job);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(BackendPredictionState.parse(await second.json()).id).toBe(job.id);
    await h.waitForState(job.id, (s) => s.status === 'succeeded');
    const again = await h.put({ ...job, attempt: 2 });
    expect(again.status).toBe(200);
    const state = BackendPredictionState.parse(await again.json());
    expect(state.status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 100));
    expect(h.receiver.events.filter((e) => e.prediction_id === job.id && e.type === 'started')).toHaveLength(1);
    expect(h.logs.filter((l) => l.msg === 'batch started' && (l.predictions as string[]).includes(job.id))).toHaveLength(1);
  });

  it('adopts a newer attempt for a prediction still in flight, so later events carry it', async () => {
    const job = jobFor(h, newId('reattempt'), { num_inference_steps: 30 });
    expect((await h.put(job)).status).toBe(202);
    const res = await h.put({ ...job, attempt: 3 });
    expect(res.status).toBe(200);
    expect(BackendPredictionState.parse(await res.json()).attempt).toBe(3);
    const done = await h.receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'completed');
    expect(done.attempt).toBe(3);
    expect(h.logs.filter((l) => l.msg === 'batch started' && (l.predictions as string[]).includes(job.id))).toHaveLength(1);
  });

  it('rejects invalid jobs with 422 problems that point at the field', async () => {
    const job = jobFor(h, newId('bad'));
    const cases: Array<[unknown, string]> = [
      [{ ...job, input: { ...job.input, width: 'wide' } }, '/input/width'],
      [{ ...job, model: 'not-served-here' }, '/model'],
      [{ ...job, output_prefix: 'elsewhere' }, '/output_prefix'],
      [{ ...job, id: newId('other') }, '/id'],
      [{ ...job, extra: 1 }, '/extra'],
    ];
    for (const [body, pointer] of cases) {
      const res = await h.request('PUT', `/predictions/${job.id}`, body);
      expect(res.status).toBe(422);
      const p = Problem.parse(await res.json());
      expect(p.code).toBe('validation-failed');
      expect(p.errors!.some((e) => e.pointer === pointer)).toBe(true);
    }
    expect((await h.request('PUT', `/predictions/${job.id}`, '{not json')).status).toBe(400);
    expect((await h.request('PUT', '/predictions/short', job)).status).toBe(422);
    expect((await h.request('GET', `/predictions/${job.id}`)).status).toBe(404);
    expect((await h.request('POST', `/predictions/${job.id}/cancel`)).status).toBe(404);
    expect((await h.request('GET', '/predictions/bad.id')).status).toBe(422);
  });

  it('answers 409 queue-full with Retry-After when the queue is full, and health says BUSY', async () => {
    const long = { num_inference_steps: 150 };
    const running = jobFor(h, newId('busy'), long);
    expect((await h.put(running)).status).toBe(202);
    await h.waitForState(running.id, (s) => s.status === 'processing');
    const queued = [jobFor(h, newId('q1'), long), jobFor(h, newId('q2'), long)];
    for (const j of queued) expect((await h.put(j)).status).toBe(202);
    const health = BackendHealth.parse(await (await h.request('GET', '/health-check')).json());
    expect(health).toMatchObject({ status: 'BUSY', queue_depth: 2, queue_capacity: 2, running: 1, models: ['sd15-tiny-demo'], execution_provider: 'cpu' });
    const refused = await h.put(jobFor(h, newId('over')));
    expect(refused.status).toBe(409);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(Problem.parse(await refused.json()).code).toBe('queue-full');
    for (const j of [...queued, running]) expect((await h.request('POST', `/predictions/${j.id}/cancel`)).status).toBe(200);
    await h.waitForHealth('READY');
  });

  it('exposes Prometheus text with queue depth, batch sizes, stage latencies, U-Net step counts and errors', async () => {
    const res = await h.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const families = parsePrometheusText(await res.text());
    expect(families.get('gpu_backend_queue_depth')?.type).toBe('gauge');
    expect(families.get('gpu_backend_health_status')!.samples.find((s) => s.value === 1)!.labels.status).toBe('READY');
    expect(families.get('gpu_backend_batch_size')?.type).toBe('histogram');
    expect(families.get('gpu_backend_stage_seconds')?.samples.some((s) => s.labels.stage === 'inference' && s.name.endsWith('_count') && s.value > 0)).toBe(true);
    const steps = families.get('gpu_backend_unet_steps_total')!.samples;
    expect(steps.find((s) => s.labels.kind === 'full')!.value).toBeGreaterThan(0);
    expect(families.get('gpu_backend_errors_total')!.samples.find((s) => s.labels.kind === 'auth')!.value).toBeGreaterThan(0);
  });

  it('also admits a scraper with the metrics bearer token, and only that token', async () => {
    const scrape = (token: string) => fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const ok = await scrape(METRICS_TOKEN);
    expect(ok.status).toBe(200);
    expect(parsePrometheusText(await ok.text()).has('gpu_backend_queue_depth')).toBe(true);
    expect((await scrape(`${METRICS_TOKEN}x`)).status).toBe(401);
    expect((await fetch(`${h.url}/health-check`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(401);
  });
});

const TEST_SECRET_FRAGMENT = 'backend-test-secret';
const METRICS_TOKEN = 'scrape-token-0123456789';
