/**
 * The DeepCache policy of one sampling run: which loop steps are full, and the feature captured on the last full
 * step. One instance per run (per request, or per batch of compatible requests whose rows are kept apart): the
 * cache is never shared across runs.
 * @module
 */
import type { DeepCacheSettings, UNetStepKind } from '../../../shared/deepcache.js';
import { deepcacheStepPlan } from '../../../shared/deepcache-schedule.js';
import type { CachedFeature } from './unet.js';

/** What one loop step runs (the shared `UNetStepKind`). */
export type StepKind = UNetStepKind;

export class FeatureCache {
  /** DeepCache branch whose feature is cached, or null when every step is full. */
  readonly branch: number | null;
  readonly plan: readonly boolean[];
  #feature: CachedFeature | null = null;

  /**
   * @param plan plan[i] = loop step i runs the full U-Net (plan[0] must be true when caching)
   * @param branch the cached branch, or null for no caching
   */
  constructor(plan: readonly boolean[], branch: number | null) {
    if (branch !== null && plan.length > 0 && !plan[0]) throw new RangeError('the first DeepCache step must be full');
    this.plan = plan;
    this.branch = branch;
  }

  /**
   * The cache for a run of `numLoopSteps` model evaluations.
   * @param numInferenceSteps the requested step count (the non-uniform schedule is defined over it)
   */
  static forRun(numLoopSteps: number, numInferenceSteps: number, settings: DeepCacheSettings | false): FeatureCache {
    const caching = settings !== false && settings.cache_interval > 1;
    return new FeatureCache(deepcacheStepPlan(numLoopSteps, numInferenceSteps, settings), caching ? settings.cache_branch_id : null);
  }

  /** A cache that follows a given list of step kinds (e.g. a reference run's recorded kinds). */
  static fromKinds(kinds: readonly StepKind[], branch: number | null): FeatureCache {
    return new FeatureCache(
      kinds.map((k) => k === 'full'),
      kinds.every((k) => k === 'full') ? null : branch,
    );
  }

  /** Whether loop step i runs the full U-Net. */
  isFullStep(i: number): boolean {
    const full = this.plan[i];
    if (full === undefined) throw new RangeError(`step ${i} is outside the plan of ${this.plan.length} steps`);
    return this.branch === null || full;
  }

  /** The branch to capture on full steps, or undefined when nothing is cached. */
  get captureBranch(): number | undefined {
    return this.branch ?? undefined;
  }

  store(feature: CachedFeature | null): void {
    if (this.branch !== null) {
      if (!feature) throw new Error('a full DeepCache step returned no feature');
      this.#feature = feature;
    }
  }

  /** Whether a full step has stored a feature. */
  get hasFeature(): boolean {
    return this.#feature !== null;
  }

  /** The feature of the last full step. @throws Error when no full step ran yet */
  get feature(): CachedFeature {
    if (!this.#feature) throw new Error('shallow step before any full step');
    return this.#feature;
  }

  /** Drops the cached feature (end of the run). */
  clear(): void {
    this.#feature = null;
  }
}
