/**
 * The DeepCache settings the benchmark measures, the peer's figures it quotes and the MAC ceiling of
 * a step plan (pure).
 * @module
 */
import type { DeepCacheSettings } from '../../shared/deepcache.js';
import { deepcacheStepPlan } from '../../shared/deepcache-schedule.js';
import { macRatio, type MacCounts } from '../../gpu-backend/src/onnx/index.js';

/** One measured DeepCache configuration. */
export interface DeepCacheCase {
  readonly interval: number;
  readonly branch: number;
  readonly schedule: 'uniform' | 'nonuniform';
}

/** The set: (interval, branch) ∈ {(3,0),(5,0),(5,1),(3,1),(2,3),(10,0)} plus the non-uniform schedule at I=5, B=0. */
export const DEEPCACHE_CASES: readonly DeepCacheCase[] = [
  { interval: 3, branch: 0, schedule: 'uniform' },
  { interval: 5, branch: 0, schedule: 'uniform' },
  { interval: 5, branch: 1, schedule: 'uniform' },
  { interval: 3, branch: 1, schedule: 'uniform' },
  { interval: 2, branch: 3, schedule: 'uniform' },
  { interval: 10, branch: 0, schedule: 'uniform' },
  { interval: 5, branch: 0, schedule: 'nonuniform' },
];

/** `I5B0`, `I5B0-nonuniform`. */
export function caseLabel(c: DeepCacheCase): string {
  return `I${c.interval}B${c.branch}${c.schedule === 'nonuniform' ? '-nonuniform' : ''}`;
}

/** Request settings of a case (default centre and power for the non-uniform schedule). */
export function caseSettings(c: DeepCacheCase): DeepCacheSettings {
  return { cache_interval: c.interval, cache_branch_id: c.branch, schedule: c.schedule };
}

/** Branches a set of cases needs shallow graphs for, ascending. */
export function caseBranches(cases: readonly DeepCacheCase[]): number[] {
  return [...new Set(cases.map((c) => c.branch))].sort((a, b) => a - b);
}

/** Full and shallow step counts of a case's plan over `numLoopSteps` model evaluations. */
export function planCounts(c: DeepCacheCase, numLoopSteps: number, numInferenceSteps: number): { full: number; shallow: number } {
  const plan = deepcacheStepPlan(numLoopSteps, numInferenceSteps, caseSettings(c));
  const full = plan.filter(Boolean).length;
  return { full, shallow: plan.length - full };
}

/** MAC-ratio ceilings of a plan: the paper's convention (conv + linear) and with attention matmuls (total). */
export interface PlanCeiling {
  readonly paper: number;
  readonly withAttention: number;
}

/**
 * The speed-up a plan could reach if time were proportional to MACs: n·full / (k·full + (n−k)·shallow).
 * @param counts full and shallow step counts of the plan
 */
export function planCeiling(full: MacCounts, shallow: MacCounts, counts: { full: number; shallow: number }): PlanCeiling {
  const n = counts.full + counts.shallow;
  return {
    paper: macRatio(full.paper, shallow.paper, n, counts.full),
    withAttention: macRatio(full.total, shallow.total, n, counts.full),
  };
}

/**
 * The speed-up predicted from measured per-call times: n·full / (k·full + (n−k)·shallow), with times instead of MACs.
 * The gap between it and the loop's measured speed-up is per-step overhead outside the U-Net calls.
 */
export function callTimeSpeedup(fullMs: number, shallowMs: number, counts: { full: number; shallow: number }): number {
  return macRatio(fullMs, shallowMs, counts.full + counts.shallow, counts.full);
}

/**
 * The peer: PyTorch 1.13 + OpenBLAS, diffusers 0.30.3 + DeepCacheSDHelper, SD 1.5 U-Net at full width
 * with random weights, 256², CFG, PNDM 50 steps, fp32, on a 2-core machine of this kind.
 */
export const PEER = {
  description: 'PyTorch 1.13 + OpenBLAS, diffusers 0.30.3 + DeepCacheSDHelper, SD 1.5 full width, 256², CFG, PNDM 50 steps, 2 cores fp32',
  steps: 50,
  side: 256,
  noCacheSeconds: 156.1,
  /** Seconds per pipeline run by `I<interval>B<branch>`. */
  cases: { I3B0: 61.6, I5B0: 45.3, I5B1: 63.8, I3B1: 72.0, I2B3: 112.2 } as Readonly<Record<string, number>>,
  /** One U-Net call with batch 2 (CFG), seconds, by image side. */
  unetCallSeconds: { 256: 2.92, 512: 17.96 } as Readonly<Record<number, number>>,
  /** The branch-0 shallow call with batch 2, seconds, by image side. */
  shallowB0CallSeconds: { 256: 0.204, 512: 1.91 } as Readonly<Record<number, number>>,
  /** Our loop time should be at most this fraction of the peer's. */
  targetLoopFraction: 2 / 3,
} as const;

/** The seed table of the diffusers docs (SD 2.1, 50 steps, RTX A5000, 512²): our ratio target. */
export const SEED_TABLE: Readonly<Record<string, number>> = { I3B0: 2.33, I5B0: 3.24, I5B1: 2.35 };
