import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeartbeatRequest } from '../../../shared/fleet.js';
import { BackendHealth, type BackendEvent } from '../../../shared/internal.js';
import { Problem } from '../../../shared/problem.js';
import { jobFor, newId, startHarness, type Harness } from '../../../test/support/server/backend-harness.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';
import { parsePrometheusText } from '../../../test/support/server/prometheus-text.js';

type Completed = Extract<BackendEvent, { type: 'completed' }>;

describe('backend service pulling from a fleet edge (real pipeline, s3rver, callback receiver)', () => {
  let h: Harness;
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-api-'));
    const modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
    h = await startHarness({
      modelDir,
      loadPipeline: loadPipelineUnderTest,
      env: { QUEUE_CAPACITY: '2', MAX_BATCH_SIZE: '1', METRICS_TOKEN: METRICS_TOKEN },
    });
  });
  afterAll(async () => {
    await h?.close();
    await rm(tmp, { recursive: true, force: true });
  });
  const completedOf = (id: string) => h.receiver.waitFor((e) => e.prediction_id === id && e.type === 'completed') as Promise<Completed>;

  it('refuses unsigned and wrongly signed requests with 401 problem+json, and serves no prediction routes', async () => {
    const unsigned = await h.request('GET', '/health-check', undefined, { sign: false });
    const wrong = await h.request('GET', '/health-check', undefined, { secret: 'another-secret-0123456789abcdef0123' });
    for (const res of [unsigned, wrong]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(Problem.parse(await res.json()).code).toBe('unauthorized');
    }
    expect((await h.request('GET', '/metrics', undefined, { sign: false })).status).toBe(401);
    expect((await h.request('GET', '/no-such-route', undefined, { sign: false })).status).toBe(401);
    expect((await h.request('GET', '/no-such-route')).status).toBe(404);
    expect((await h.request('GET', '/ready', undefined, { sign: false })).status).toBe(200);
    // Work only arrives through leases: the old push routes are gone.
    const job = jobFor(h, newId('push'));
    const pushed = await h.request('PUT', `/predictions/${job.id}`, job);
    expect(pushed.status).toBe(404);
    expect(Problem.parse(await pushed.json()).code).toBe('not-found');
    expect((await h.request('POST', `/predictions/${job.id}/cancel`)).status).toBe(404);
    expect(h.get(job.id)).toBeUndefined();
  });

  it('leases a job and runs it: started → throttled progress → completed callbacks in seq order, images in S3 with metadata', async () => {
    const job = jobFor(h, newId('run'), { num_outputs: 2, output_format: 'webp', num_inference_steps: 20 });
    h.submit(job);
    const done = await completedOf(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.retryable).toBe(false);
    expect(h.edge.leases.filter((l) => l.predictionId === job.id)).toMatchObject([{ attempt: 1, workerId: `test-backend-${process.pid}` }]);
    const events = h.receiver.events.filter((e) => e.prediction_id === job.id);
    expect(events[0]!.type).toBe('started');
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e] : []));
    expect(progress[0]!.step).toBe(1);
    expect(progress.at(-1)!.step).toBe(job.input.num_inference_steps);
    // throttled: at most one progress event per 250 ms, except the last step which is always sent
    for (let i = 1; i < progress.length - 1; i++)
      expect(Date.parse(progress[i]!.at) - Date.parse(progress[i - 1]!.at)).toBeGreaterThanOrEqual(250);
    expect(progress.length).toBeLessThan(job.input.num_inference_steps);
    const state = h.get(job.id)!;
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
    // every fleet request the backend sent passed the edge's signature and schema checks
    expect(h.edge.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(h.edge.requests.filter((r) => r.endpoint === 'heartbeat').every((r) => HeartbeatRequest.safeParse(r.body).success)).toBe(true);
  });

  it('reports a prediction leased again after it finished under the new attempt, and never runs it twice', async () => {
    const job = jobFor(h, newId('idem'));
    h.submit(job);
    const first = await completedOf(job.id);
    expect(first).toMatchObject({ attempt: 1, status: 'succeeded' });
    h.submit({ ...job, attempt: 2 });
    const again = (await h.receiver.waitFor((e) => e.prediction_id === job.id && e.type === 'completed' && e.attempt === 2)) as Completed;
    expect(again).toMatchObject({ status: 'succeeded', output: first.output });
    expect(h.receiver.events.filter((e) => e.prediction_id === job.id && e.type === 'started')).toHaveLength(1);
    expect(h.logs.filter((l) => l.msg === 'batch started' && (l.predictions as string[]).includes(job.id))).toHaveLength(1);
  });

  it('adopts a newer attempt for a prediction still in flight, so later events and heartbeats carry it', async () => {
    const job = jobFor(h, newId('reattempt'), { num_inference_steps: 30 });
    h.submit(job);
    await h.waitForState(job.id, (s) => s.status === 'processing');
    h.submit({ ...job, attempt: 3 });
    await h.waitForState(job.id, (s) => s.attempt === 3);
    const done = await completedOf(job.id);
    expect(done.attempt).toBe(3);
    expect(h.logs.filter((l) => l.msg === 'batch started' && (l.predictions as string[]).includes(job.id))).toHaveLength(1);
  });

  it('reports a leased job it cannot run (output prefix outside its own) as failed, without running it', async () => {
    const job = jobFor(h, newId('elsewhere'), {}, { output_prefix: 'elsewhere/x' });
    h.submit(job);
    const done = await completedOf(job.id);
    expect(done).toMatchObject({ status: 'failed', retryable: false, output: null });
    expect(done.error).toMatch(/output_prefix must be outputs or lie below it/);
    expect(h.receiver.events.some((e) => e.prediction_id === job.id && e.type === 'started')).toBe(false);
  });

  it('says BUSY while it holds as many jobs as it can, and exposes the lease gauges', async () => {
    const long = { num_inference_steps: 150 };
    const jobs = [
      jobFor(h, newId('busy1'), long),
      jobFor(h, newId('busy2'), long),
      jobFor(h, newId('busy3'), long),
      jobFor(h, newId('busy4'), long),
    ];
    for (const j of jobs) h.submit(j);
    await h.edge.waitUntil(() => h.backend.service.heldCount === 3, 30_000, 'three jobs held');
    const health = BackendHealth.parse(await (await h.request('GET', '/health-check')).json());
    expect(health).toMatchObject({ status: 'BUSY', queue_depth: 2, running: 1, models: ['sd15-tiny-demo'], execution_provider: 'cpu' });
    const families = parsePrometheusText(await (await h.request('GET', '/metrics')).text());
    expect(families.get('gpu_backend_leases_held')!.samples[0]!.value).toBe(3);
    expect(families.get('gpu_backend_lease_capacity')!.samples[0]!.value).toBe(3);
    expect(h.edge.queued()).toBe(1);
    for (const j of jobs.slice(0, 3)) h.edge.setAction(j.id, 'cancel');
    for (const j of jobs.slice(0, 3)) expect((await completedOf(j.id)).status).toBe('canceled');
    // the fourth is leased once there is room, and canceled at its first heartbeat
    await h.waitForState(jobs[3]!.id, (s) => s.status === 'queued' || s.status === 'processing');
    h.edge.setAction(jobs[3]!.id, 'cancel');
    expect((await completedOf(jobs[3]!.id)).status).toBe('canceled');
    await h.waitForHealth('READY');
  });

  it('exposes Prometheus text with queue depth, leases, batch sizes, stage latencies, U-Net step counts and errors', async () => {
    const res = await h.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const families = parsePrometheusText(await res.text());
    expect(families.get('gpu_backend_queue_depth')?.type).toBe('gauge');
    expect(families.get('gpu_backend_leases_held')?.type).toBe('gauge');
    expect(families.get('gpu_backend_health_status')!.samples.find((s) => s.value === 1)!.labels.status).toBe('READY');
    expect(families.get('gpu_backend_batch_size')?.type).toBe('histogram');
    expect(
      families
        .get('gpu_backend_stage_seconds')
        ?.samples.some((s) => s.labels.stage === 'inference' && s.name.endsWith('_count') && s.value > 0),
    ).toBe(true);
    expect(families.get('gpu_backend_unet_steps_total')!.samples.find((s) => s.labels.kind === 'full')!.value).toBeGreaterThan(0);
    expect(families.get('gpu_backend_errors_total')!.samples.find((s) => s.labels.kind === 'auth')!.value).toBeGreaterThan(0);
    expect(
      families.get('gpu_backend_leases_received_total')!.samples.find((s) => s.labels.model === 'sd15-tiny-demo')!.value,
    ).toBeGreaterThan(0);
    expect(families.get('gpu_backend_lease_actions_total')!.samples.find((s) => s.labels.action === 'cancel')!.value).toBeGreaterThan(0);
    expect(
      families.get('gpu_backend_fleet_requests_total')!.samples.find((s) => s.labels.endpoint === 'lease' && s.labels.outcome === 'ok')!
        .value,
    ).toBeGreaterThan(0);
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
