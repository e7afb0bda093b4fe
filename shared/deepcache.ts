/**
 * DeepCache request settings: which U-Net branch is cached and how often the full U-Net runs.
 * @module
 */
import { z } from 'zod';

/** What one denoising step runs: the full U-Net, or only its shallow part (the deep features come from the cache). */
export const UNetStepKind = z.enum(['full', 'shallow']);
export type UNetStepKind = z.infer<typeof UNetStepKind>;

/** Uniform schedule: step i is full iff i % cache_interval == 0. Non-uniform: full steps densest near `center`. */
export const DeepCacheSchedule = z.enum(['uniform', 'nonuniform']);
export type DeepCacheSchedule = z.infer<typeof DeepCacheSchedule>;

/**
 * DeepCache settings as clients send them. `cache_branch_id` is bounded per model by the model registry
 * (SD 1.x/2.x 0–11, SDXL 0–8); the schema bounds it by the widest range.
 */
export const DeepCacheSettings = z
  .strictObject({
    cache_interval: z.number().int().min(1).max(20).default(3),
    cache_branch_id: z.number().int().min(0).max(11).default(0),
    schedule: DeepCacheSchedule.default('uniform'),
    /** Non-uniform only: the step index around which full steps are densest (default: 15 % of the steps). */
    center: z.number().int().min(0).max(150).optional(),
    /** Non-uniform only: exponent of the quadratic-like spacing (DeepCache's `pow`), > 1. */
    power: z.number().gt(1).max(4).optional(),
  })
  .refine((s) => s.schedule === 'nonuniform' || (s.center === undefined && s.power === undefined), {
    message: 'center and power apply only to schedule "nonuniform"',
    path: ['schedule'],
  });
export type DeepCacheSettings = z.infer<typeof DeepCacheSettings>;
