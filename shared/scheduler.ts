/**
 * Scheduler names offered by the API. The backend maps each to a diffusers-equivalent scheduler.
 * @module
 */
import { z } from 'zod';

/** Closed set of sampling schedulers (diffusers equivalents in parentheses in the docs). */
export const SchedulerName = z.enum(['ddim', 'pndm', 'euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_2m_karras']);
export type SchedulerName = z.infer<typeof SchedulerName>;
