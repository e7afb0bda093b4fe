/**
 * Scheduler names offered by the API. The backend maps each to a diffusers-equivalent scheduler.
 * @module
 */
import { z } from 'zod';

/** Closed set of sampling schedulers (diffusers equivalents in parentheses in the docs). */
export const SchedulerName = z.enum(['ddim', 'pndm', 'euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_2m_karras']);
export type SchedulerName = z.infer<typeof SchedulerName>;

/** diffusers class each scheduler name corresponds to (documentation and model listings). */
export const schedulerDiffusersClass = {
  ddim: 'DDIMScheduler',
  pndm: 'PNDMScheduler (PLMS, skip_prk_steps)',
  euler: 'EulerDiscreteScheduler',
  euler_ancestral: 'EulerAncestralDiscreteScheduler',
  dpmpp_2m: 'DPMSolverMultistepScheduler (dpmsolver++, order 2)',
  dpmpp_2m_karras: 'DPMSolverMultistepScheduler (dpmsolver++, order 2, Karras sigmas)',
} as const satisfies Record<SchedulerName, string>;
