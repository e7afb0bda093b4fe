/**
 * Which denoising steps run the full U-Net under DeepCache. Pure functions, shared by the edge
 * (to reject settings whose schedule cannot exist) and the backend (to drive the sampling loop).
 *
 * - Uniform: step i (counted in the sampling loop, from 0) is full iff i % cache_interval == 0. Steps are counted,
 *   never looked up by timestep value (PLMS repeats a timestep; a lookup would mis-count).
 * - Non-uniform (DeepCache paper eq. 7, the `sample_from_quad_center` schedule of DeepCache's own SD pipeline):
 *   k = ceil(n / interval) full steps, densest near `center`. The reference computes
 *   linspace((-center)^(1/p), (n-center)^(1/p), k+1)^p in complex arithmetic (a negative base to a fractional power
 *   is complex in Python), truncates the real parts to integers, keeps the sorted unique values without the
 *   smallest and largest, shifts them by `center` and prepends 0; when that does not give k distinct steps it
 *   lowers p by 0.02 and tries again while p > 1. This module reproduces that arithmetic step by step.
 * @module
 */
import type { DeepCacheSettings } from './deepcache.js';

/** Default exponent of the non-uniform schedule (DeepCache's pipeline default). */
export const DEFAULT_NONUNIFORM_POWER = 1.4;

/** Default centre of the non-uniform schedule: 30 % of the way through the steps. */
export function defaultNonUniformCenter(numInferenceSteps: number): number {
  return Math.round(0.3 * numInferenceSteps);
}

type Complex = readonly [re: number, im: number];

/** Principal power of a real base to a real exponent, as Python's `float ** float` (complex for a negative base). */
function realPow(base: number, exponent: number): Complex {
  if (base >= 0) return [base ** exponent, 0];
  const magnitude = (-base) ** exponent;
  const phase = Math.PI * exponent;
  return [magnitude * Math.cos(phase), magnitude * Math.sin(phase)];
}

/** Principal complex power z^p for real p, as exp(p · log z). */
function complexPow([re, im]: Complex, p: number): Complex {
  if (re === 0 && im === 0) return [0, 0];
  const logAbs = Math.log(Math.hypot(re, im));
  const arg = Math.atan2(im, re);
  const magnitude = Math.exp(p * logAbs);
  return [magnitude * Math.cos(p * arg), magnitude * Math.sin(p * arg)];
}

/** numpy.linspace(start, stop, num) on complex endpoints: start + k·(stop−start)/(num−1), last = stop. */
function complexLinspace(start: Complex, stop: Complex, num: number): Complex[] {
  const div = num - 1;
  const step: Complex = [(stop[0] - start[0]) / div, (stop[1] - start[1]) / div];
  const out: Complex[] = [];
  for (let k = 0; k < num; k++) out.push([k * step[0] + start[0], k * step[1] + start[1]]);
  out[num - 1] = stop;
  return out;
}

/**
 * Full-step indices of the non-uniform schedule.
 * @param numInferenceSteps n, the scheduler's step count
 * @param numFullSteps k, usually ceil(n / cache_interval)
 * @param center step index around which full steps are densest (0 ≤ center < n)
 * @param power starting exponent p > 1
 * @returns the sorted full-step indices (always starting with 0) and the exponent the search settled on
 * @throws RangeError when no exponent above 1 yields k distinct steps
 */
export function nonUniformFullSteps(
  numInferenceSteps: number,
  numFullSteps: number,
  center: number,
  power: number = DEFAULT_NONUNIFORM_POWER,
): { steps: number[]; power: number } {
  let p = power;
  while (p > 1) {
    const xs = complexLinspace(realPow(-center, 1 / p), realPow(numInferenceSteps - center, 1 / p), numFullSteps + 1);
    const truncated = xs.map((x) => Math.trunc(complexPow(x, p)[0]));
    const unique = [...new Set(truncated)].sort((a, b) => a - b);
    const steps = [0, ...unique.slice(1, -1).map((x) => x + center)];
    if (steps.length === numFullSteps) return { steps, power: p };
    p -= 0.02;
  }
  throw new RangeError(
    `no non-uniform DeepCache schedule with ${numFullSteps} full steps out of ${numInferenceSteps} around step ${center}: lower the centre or the interval`,
  );
}

/**
 * The per-step plan of a DeepCache run: `plan[i]` is true when loop step i runs the full U-Net.
 * @param numLoopSteps model evaluations in the sampling loop (scheduler.timesteps.length; PLMS: n + 1)
 * @param numInferenceSteps the requested step count n (the non-uniform schedule is defined over it)
 * @param settings DeepCache settings, or false for no caching (every step full)
 */
export function deepcacheStepPlan(numLoopSteps: number, numInferenceSteps: number, settings: DeepCacheSettings | false): boolean[] {
  if (settings === false || settings.cache_interval === 1) return Array.from({ length: numLoopSteps }, () => true);
  if (settings.schedule === 'uniform') {
    return Array.from({ length: numLoopSteps }, (_, i) => i % settings.cache_interval === 0);
  }
  const k = Math.ceil(numInferenceSteps / settings.cache_interval);
  const center = settings.center ?? defaultNonUniformCenter(numInferenceSteps);
  const { steps } = nonUniformFullSteps(numInferenceSteps, k, center, settings.power ?? DEFAULT_NONUNIFORM_POWER);
  const full = new Set(steps);
  return Array.from({ length: numLoopSteps }, (_, i) => full.has(i));
}
