import { describe, expect, it } from 'vitest';
import { SchedulerName } from '../../../shared/scheduler.js';
import { PhiloxNoiseSource } from '../noise/philox-noise.js';
import { createScheduler } from './registry.js';

const SD15 = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  skip_prk_steps: true,
};
const t = (v: number) => ({ data: new Float32Array(4).fill(v), dims: [1, 1, 2, 2] });

describe.each(SchedulerName.options)('%s: begin index and add_noise (image-to-image)', (name) => {
  it('starts the loop at the begin index and refuses a begin index after a step or outside the grid', () => {
    const s = createScheduler(name, SD15);
    expect(() => s.setBeginIndex(1)).toThrow(/setTimesteps/);
    s.setTimesteps(10);
    expect(() => s.setBeginIndex(s.timesteps.length)).toThrow(RangeError);
    s.setBeginIndex(6);
    expect(s.stepIndex).toBe(6);
    expect(() => s.step(t(0.1), 0, t(0.5), new PhiloxNoiseSource(1))).toThrow(/expected loop index 6/);
    const out = s.step(t(0.1), 6, t(0.5), new PhiloxNoiseSource(1));
    expect(out.prevSample.dims).toEqual([1, 1, 2, 2]);
    expect(s.stepIndex).toBe(7);
    expect(() => s.setBeginIndex(3)).toThrow(/before the first step/);
    s.setTimesteps(10);
    expect(s.stepIndex).toBe(0);
  });

  it('noises less at later positions of the grid (never more) and refuses a position outside it', () => {
    const s = createScheduler(name, SD15);
    s.setTimesteps(10);
    const last = s.timesteps.length - 1;
    const spread = (i: number) => Math.abs(s.addNoise(t(0), t(1), i).data[0]!);
    expect(spread(0)).toBeGreaterThan(spread(last));
    for (let i = 1; i <= last; i++) expect(spread(i)).toBeLessThanOrEqual(spread(i - 1));
    expect(() => s.addNoise(t(0), t(1), last + 1)).toThrow(RangeError);
  });
});
