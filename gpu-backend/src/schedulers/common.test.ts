import { describe, expect, it } from 'vitest';
import {
  alphasCumprod,
  interpAtIndex,
  karrasSigmas,
  logSigmas,
  makeBetas,
  npLinspace,
  roundHalfEven,
  sigmaToT,
  torchLinspaceF32,
  trainingSigmas,
} from './common.js';

describe('scheduler math', () => {
  it('rounds half to even like np.round', () => {
    expect([0.5, 1.5, 2.5, 832.5, 915.75, -2.5, 3.2].map(roundHalfEven)).toEqual([0, 2, 2, 832, 916, -2, 3]);
  });

  it('builds np.linspace grids with an exact endpoint', () => {
    expect(npLinspace(0, 999, 13)[12]).toBe(999);
    expect(npLinspace(0, 999, 13)[10]).toBe(832.5);
  });

  it('builds torch float32 linspace with exact ends and float32 values', () => {
    const v = torchLinspaceF32(Math.sqrt(0.00085), Math.sqrt(0.012), 1000);
    expect(v[0]).toBe(Math.fround(Math.sqrt(0.00085)));
    expect(v[999]).toBe(Math.fround(Math.sqrt(0.012)));
    for (let i = 1; i < 1000; i++) expect(v[i]!).toBeGreaterThan(v[i - 1]!);
  });

  it('makes SD scaled_linear betas whose ᾱ matches the product written out', () => {
    const acp = alphasCumprod(
      makeBetas({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', trained_betas: null }),
    );
    let acc = 1;
    const a = Math.sqrt(0.00085);
    const b = Math.sqrt(0.012);
    for (let t = 0; t < 1000; t++) {
      acc *= 1 - (a + (t * (b - a)) / 999) ** 2;
      expect(Math.abs(acp[t]! / acc - 1)).toBeLessThan(1e-5);
    }
  });

  it('makes squaredcos_cap_v2 betas capped at 0.999', () => {
    const betas = makeBetas({
      num_train_timesteps: 1000,
      beta_start: 1,
      beta_end: 1,
      beta_schedule: 'squaredcos_cap_v2',
      trained_betas: null,
    });
    const ab = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(betas[10]).toBeCloseTo(1 - ab(11 / 1000) / ab(10 / 1000), 7);
    expect(betas[999]).toBeCloseTo(0.999, 6);
  });

  it('interpolates like np.interp and inverts σ → t on the training grid', () => {
    const acp = alphasCumprod(
      makeBetas({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', trained_betas: null }),
    );
    const sigmas = trainingSigmas(acp);
    expect(interpAtIndex(10.25, sigmas)).toBeCloseTo(0.75 * sigmas[10]! + 0.25 * sigmas[11]!, 6);
    expect(interpAtIndex(-1, sigmas)).toBe(sigmas[0]);
    const logSig = logSigmas(sigmas);
    for (const t of [0, 17, 500, 998]) expect(sigmaToT(sigmas[t]!, logSig)).toBeCloseTo(t, 4);
    expect(sigmaToT(sigmas[999]! * 2, logSig)).toBe(999);
  });

  it('spaces Karras sigmas from σ_max down to σ_min with ρ = 7', () => {
    const s = karrasSigmas(0.03, 14.6, 5);
    expect(s[0]).toBeCloseTo(14.6, 10);
    expect(s[4]).toBeCloseTo(0.03, 10);
    const mid = (14.6 ** (1 / 7) + 0.5 * (0.03 ** (1 / 7) - 14.6 ** (1 / 7))) ** 7;
    expect(s[2]).toBeCloseTo(mid, 10);
  });
});
