import { describe, expect, it } from 'vitest';
import { findModel } from './models.js';
import { checkInputForModel, PredictionInput } from './prediction.js';

describe('PredictionInput prompts', () => {
  it.each([
    ['a NUL byte', 'a\u0000b'],
    ['a bell', 'ding\u0007'],
    ['DEL', 'x\u007f'],
    ['a lone high surrogate', 'cat \ud83d'],
    ['a lone low surrogate', '\ude00 dog'],
  ])('refuses a prompt with %s', (_what, prompt) => {
    expect(PredictionInput.safeParse({ prompt }).success).toBe(false);
    expect(PredictionInput.safeParse({ prompt: 'ok', negative_prompt: prompt }).success).toBe(false);
  });

  it('accepts tabs, newlines, emoji and non-Latin scripts', () => {
    expect(PredictionInput.safeParse({ prompt: 'a cat\tsitting\non a mat 🐱 猫 кот' }).success).toBe(true);
  });
});

describe('checkInputForModel', () => {
  const sd15 = findModel('stable-diffusion-1.5')!;

  it('refuses sizes that are not multiples of the model size step', () => {
    const input = PredictionInput.parse({ prompt: 'x', width: 520, height: 512 });
    expect(checkInputForModel(input, sd15)).toEqual([
      { pointer: '/input/width', message: 'must be a multiple of 64 for model stable-diffusion-1.5' },
    ]);
  });

  it('refuses a DeepCache branch outside the model range', () => {
    const sdxl = findModel('stable-diffusion-xl-base-1.0')!;
    const input = PredictionInput.parse({ prompt: 'x', deepcache: { cache_interval: 3, cache_branch_id: 9 } });
    expect(checkInputForModel(input, sdxl).map((i) => i.pointer)).toEqual(['/input/deepcache/cache_branch_id']);
    expect(checkInputForModel(input, sd15)).toEqual([]);
  });
});
