import { describe, expect, it } from 'vitest';
import { img2imgCeiling, img2imgCounts } from './plan.js';

const SD15_SCHEDULER = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  skip_prk_steps: true,
};

describe('img2img benchmark plan', () => {
  it('runs ⌊n·s⌋ of PLMS n + 1 calls from t_start and counts DeepCache from the first call', () => {
    // 50 steps: strength 0.5 keeps 25 steps = 26 PLMS calls from t_start 25; I3: full at 0, 3, …, 24 → 9
    expect(img2imgCounts(SD15_SCHEDULER, 50, 0.5, { interval: 3, branch: 0, schedule: 'uniform' })).toEqual({
      runLength: 26,
      full: 9,
      shallow: 17,
    });
    expect(img2imgCounts(SD15_SCHEDULER, 50, 0.8, null)).toEqual({ runLength: 41, full: 41, shallow: 0 });
  });

  it('has a ceiling below text-to-image’s for the same interval when the run is shorter (the first full call weighs more)', () => {
    const full = { conv: 80, linear: 20, attention: 10, paper: 100, total: 110 };
    const shallow = { conv: 8, linear: 2, attention: 2, paper: 10, total: 12 };
    const short = img2imgCeiling(full, shallow, img2imgCounts(SD15_SCHEDULER, 10, 0.5, { interval: 5, branch: 0, schedule: 'uniform' }));
    const long = img2imgCeiling(full, shallow, img2imgCounts(SD15_SCHEDULER, 10, 1, { interval: 5, branch: 0, schedule: 'uniform' }));
    expect(short.paper).toBeGreaterThan(1);
    expect(short.paper).toBeLessThan(long.paper);
  });
});
