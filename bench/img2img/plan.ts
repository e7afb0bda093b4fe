/**
 * What an image-to-image run of the benchmark does (pure): the steps a strength keeps on PLMS and the DeepCache
 * plan over them (counted from the run's first U-Net call), and that plan's MAC ceiling.
 * @module
 */
import type { MacCounts } from '../../gpu-backend/src/onnx/index.js';
import { imageRunCache, strengthSchedule } from '../../gpu-backend/src/pipeline/img2img.js';
import { createScheduler } from '../../gpu-backend/src/schedulers/registry.js';
import { caseSettings, planCeiling, type DeepCacheCase, type PlanCeiling } from '../deepcache/cases.js';

/** Strengths the benchmark measures. */
export const STRENGTHS = [0.5, 0.8] as const;

/** DeepCache settings measured at each strength. */
export const IMG2IMG_CASES: readonly DeepCacheCase[] = [
  { interval: 3, branch: 0, schedule: 'uniform' },
  { interval: 5, branch: 0, schedule: 'uniform' },
  { interval: 5, branch: 1, schedule: 'uniform' },
];

/** U-Net calls of an image-to-image run and how many of them are full under a case (PLMS, SD 1.5 config). */
export function img2imgCounts(
  schedulerConfig: unknown,
  steps: number,
  strength: number,
  c: DeepCacheCase | null,
): { runLength: number; full: number; shallow: number } {
  const s = createScheduler('pndm', schedulerConfig);
  s.setTimesteps(steps);
  const schedule = strengthSchedule(s, steps, strength);
  const plan = imageRunCache(schedule, c === null ? false : caseSettings(c)).plan;
  const full = plan.filter(Boolean).length;
  return { runLength: schedule.runLength, full, shallow: plan.length - full };
}

/** The MAC ceiling of a case at a strength: the run's calls at full cost over its plan's cost. */
export function img2imgCeiling(full: MacCounts, shallow: MacCounts, counts: { full: number; shallow: number }): PlanCeiling {
  return planCeiling(full, shallow, counts);
}
