import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseSchedulerConfig, parseSchedulerConfigText, SchedulerConfigError } from './config.js';
import { DpmSolverMultistepScheduler } from './dpmpp-2m.js';

describe('parseSchedulerConfigText', () => {
  it('reads the bare Infinity/-Infinity/NaN Python writes, outside strings only', () => {
    const text = '{"lambda_min_clipped": -Infinity, "a": Infinity, "b": NaN, "s": "-Infinity NaN", "c": [1, -Infinity]}';
    expect(parseSchedulerConfigText(text)).toEqual({
      lambda_min_clipped: '-Infinity',
      a: 'Infinity',
      b: 'NaN',
      s: '-Infinity NaN',
      c: [1, '-Infinity'],
    });
  });

  it('throws SyntaxError on text that is not JSON', () => {
    expect(() => parseSchedulerConfigText('{"a": }')).toThrow(SyntaxError);
  });
});

describe('parseSchedulerConfig', () => {
  const schema = z.object({ a: z.number().default(1), b: z.enum(['x', 'y']).default('x') });

  it('ignores unknown and private keys, applies overrides last', () => {
    expect(parseSchedulerConfig(schema, 'T', { a: 5, zzz: 1, _class_name: 'Other' }, { b: 'y' })).toEqual({ a: 5, b: 'y' });
  });

  it('uses the target default for keys listed in _use_default_values', () => {
    expect(parseSchedulerConfig(schema, 'T', { a: 5, b: 'y', _use_default_values: ['b'] })).toEqual({ a: 5, b: 'x' });
  });

  it('names the class and every bad key in its error', () => {
    expect(() => parseSchedulerConfig(schema, 'TheClass', { a: 'no', b: 'z' })).toThrow(/TheClass.*a:.*b:/);
    expect(() => parseSchedulerConfig(schema, 'T', [])).toThrow(SchedulerConfigError);
  });
});

describe('DPM-Solver++ lambda_min_clipped', () => {
  it('accepts -Infinity as diffusers writes it (bare or as a string) and keeps the full range', () => {
    const bare = DpmSolverMultistepScheduler.fromConfig(parseSchedulerConfigText('{"lambda_min_clipped": -Infinity}'));
    bare.setTimesteps(10);
    expect(bare.timesteps[0]).toBe(999);
  });

  it('drops the training timesteps whose half log-SNR λ_t = ½·log(ᾱ_t/(1−ᾱ_t)) is below the clip', () => {
    const clip = -3;
    const s = DpmSolverMultistepScheduler.fromConfig({ lambda_min_clipped: clip, beta_schedule: 'linear' });
    s.setTimesteps(10);
    // linear β from 1e-4 to 0.02 (diffusers defaults), written out: λ decreases with t; keep t while λ_t ≥ clip
    let acc = 1;
    let last = 0;
    for (let t = 0; t < 1000; t++) {
      acc *= 1 - (1e-4 + (t * (0.02 - 1e-4)) / 999);
      if (0.5 * Math.log(acc / (1 - acc)) >= clip) last = t + 1;
    }
    expect(last).toBeLessThan(1000);
    expect(s.timesteps[0]).toBe(last - 1);
  });
});
