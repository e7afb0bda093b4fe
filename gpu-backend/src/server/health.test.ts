import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendHealth } from '../../../shared/internal.js';
import type { LoadPipeline } from './pipeline-port.js';
import { jobFor, newId, startHarness, type Harness } from './testing/backend-harness.js';
import { breakModelDir, loadPipelineUnderTest, makeTinyModelDir } from './testing/pipeline-under-test.js';

describe('health states', () => {
  let h: Harness | undefined;
  let tmp: string | undefined;
  afterEach(async () => {
    await h?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    h = undefined;
  });
  const health = async () => BackendHealth.parse(await (await h!.request('GET', '/health-check')).json());

  it('reports STARTING while models load and asks for no work, then READY and pulls the waiting job', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-health-'));
    const modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated: LoadPipeline = async (o) => {
      await gate;
      return loadPipelineUnderTest(o);
    };
    h = await startHarness({ modelDir, loadPipeline: gated, noWait: true });
    expect(await health()).toMatchObject({ status: 'STARTING', models: [], execution_provider: null });
    expect((await h.request('GET', '/ready', undefined, { sign: false })).status).toBe(503);
    expect((await h.request('GET', '/live', undefined, { sign: false })).status).toBe(200);
    const early = jobFor(h, newId('early'));
    h.submit(early);
    // Let the puller run a few turns: it must not ask for work while the models load.
    await h.edge.waitUntil(() => h!.logs.some((l) => l.msg === 'work puller started'), 5_000, 'the puller to start');
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(h.edge.requests.filter((r) => r.endpoint === 'lease')).toEqual([]);
    release();
    await h.waitForHealth('READY');
    await h.receiver.waitFor((e) => e.prediction_id === early.id && e.type === 'completed');
    expect(h.edge.requests.filter((r) => r.endpoint === 'lease').length).toBeGreaterThan(0);
    expect(await health()).toMatchObject({ status: 'READY', models: ['sd15-tiny-demo'], execution_provider: 'cpu', queue_depth: 0 });
    expect((await h.request('GET', '/ready', undefined, { sign: false })).status).toBe(200);
  });

  it('reports SETUP_FAILED with the error when the model directory is broken', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-health-'));
    const modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
    await breakModelDir(modelDir);
    h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, noWait: true });
    await h.waitForHealth('SETUP_FAILED');
    const body = await health();
    expect(body.setup_error).toMatch(/^model sd15-tiny-demo: /);
    expect(body.models).toEqual([]);
    expect((await h.request('GET', '/live', undefined, { sign: false })).status).toBe(503);
    h.submit(jobFor(h, newId('broken')));
    expect(h.logs.some((l) => l.level === 'error' && l.msg === 'model failed to load')).toBe(true);
    await h.edge.waitUntil(() => h!.logs.some((l) => l.msg === 'lease polling stopped'), 5_000, 'the lease loop to stop');
    expect(h.edge.requests.filter((r) => r.endpoint === 'lease')).toEqual([]);
    expect(h.edge.queued()).toBe(1);
  });
});
