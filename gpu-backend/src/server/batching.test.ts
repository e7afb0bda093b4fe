import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobFor, newId, startHarness, type Harness } from '../../../test/support/server/backend-harness.js';
import { loadPipelineUnderTest, makeTinyModelDir } from '../../../test/support/server/pipeline-under-test.js';

describe('dynamic batching', () => {
  let h: Harness;
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'backend-batch-'));
    const modelDir = await makeTinyModelDir(path.join(tmp, 'model'));
    h = await startHarness({ modelDir, loadPipeline: loadPipelineUnderTest, env: { MAX_BATCH_SIZE: '4', MAX_BATCH_WAIT_MS: '400' } });
  });
  afterAll(async () => {
    await h?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  const batchesOf = (id: string) =>
    h.logs.filter((l) => l.msg === 'batch started' && (l.predictions as string[]).includes(id)).map((l) => l.predictions as string[]);

  it('runs compatible predictions as one batch and each image equals the same request run alone, byte for byte', async () => {
    const input = { prompt: 'a lighthouse at dusk', seed: 77, guidance_scale: 6 };
    const alone = jobFor(h, newId('alone'), input);
    h.submit(alone);
    await h.waitForState(alone.id, (s) => s.status === 'succeeded');
    expect(batchesOf(alone.id)).toEqual([[alone.id]]);

    const same = jobFor(h, newId('same'), input);
    const others = [
      jobFor(h, newId('other1'), { prompt: 'a fox', seed: 1, guidance_scale: 9 }),
      jobFor(h, newId('other2'), { prompt: 'a boat', negative_prompt: 'blurry', seed: 2, guidance_scale: 3 }),
    ];
    for (const j of [others[0]!, same, others[1]!]) h.submit(j);
    for (const j of [same, ...others]) await h.waitForState(j.id, (s) => s.status === 'succeeded');
    expect(batchesOf(same.id)).toHaveLength(1);
    expect([...batchesOf(same.id)[0]!].sort()).toEqual([same.id, ...others.map((o) => o.id)].sort());

    const a = await h.s3.getObject(`outputs/test/${alone.id}/0.png`);
    const b = await h.s3.getObject(`outputs/test/${same.id}/0.png`);
    expect(b.body.equals(a.body)).toBe(true);
    const o = await h.s3.getObject(`outputs/test/${others[0]!.id}/0.png`);
    expect(o.body.equals(a.body)).toBe(false);
    expect(h.get(same.id)?.metrics.batch_size).toBe(3);
  });

  it('keeps incompatible predictions (different size or steps) in separate batches', async () => {
    const small = jobFor(h, newId('small'), { seed: 3 });
    const steps = jobFor(h, newId('steps'), { seed: 3, num_inference_steps: 3 });
    h.submit(small);
    h.submit(steps);
    for (const j of [small, steps]) await h.waitForState(j.id, (s) => s.status === 'succeeded');
    expect(batchesOf(small.id)).toEqual([[small.id]]);
    expect(batchesOf(steps.id)).toEqual([[steps.id]]);
  });
});
