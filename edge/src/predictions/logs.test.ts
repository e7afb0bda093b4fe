import { describe, expect, it } from 'vitest';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { predictionLogs } from './logs.js';

const input: ResolvedInput = {
  prompt: 'secret prompt text',
  negative_prompt: '',
  width: 512,
  height: 512,
  num_inference_steps: 30,
  guidance_scale: 7.5,
  seed: 42,
  scheduler: 'dpmpp_2m_karras',
  num_outputs: 1,
  output_format: 'png',
  output_quality: 90,
  deepcache: { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' },
};

describe('predictionLogs', () => {
  it('shows the seed and settings of a queued prediction, without the prompt', () => {
    const logs = predictionLogs({ input, progress: null, metrics: {} });
    expect(logs).toBe(
      'Using seed: 42\n512×512, 30 steps, scheduler dpmpp_2m_karras, guidance 7.5, DeepCache cache_interval 3, cache_branch_id 0 (uniform)',
    );
    expect(logs).not.toContain('secret');
  });

  it('adds the last step while running and the U-Net evaluations at the end', () => {
    const logs = predictionLogs({
      input: { ...input, deepcache: false },
      progress: { step: 30, total: 30 },
      metrics: { unet_full_steps: 30, unet_shallow_steps: 0, predict_time: 12.345 },
    });
    expect(logs.split('\n').slice(1)).toEqual([
      '512×512, 30 steps, scheduler dpmpp_2m_karras, guidance 7.5, DeepCache off',
      'Step 30/30',
      'U-Net: 30 full + 0 shallow evaluations in 12.35 s',
    ]);
  });
});
