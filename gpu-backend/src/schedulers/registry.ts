/**
 * The scheduler registry: API scheduler name → factory over a model's diffusers `scheduler_config.json`, the way
 * `Cls.from_config(model_config, **overrides)` swaps schedulers in diffusers.
 * @module
 */
import type { SchedulerName } from '../../../shared/scheduler.js';
import { DdimScheduler } from './ddim.js';
import { DpmSolverMultistepScheduler } from './dpmpp-2m.js';
import { EulerAncestralScheduler } from './euler-ancestral.js';
import { EulerScheduler } from './euler.js';
import { PndmScheduler } from './pndm.js';
import type { Scheduler, SchedulerFactory, SchedulerOptions } from './scheduler.js';
import { SchedulerConfigError } from './config.js';

const dpmpp2m = { algorithm_type: 'dpmsolver++', solver_order: 2 } as const;

/** Factories by API name. Overrides pin what the name promises; everything else comes from the model config. */
export const schedulers = {
  ddim: (json, options) => DdimScheduler.fromConfig(json, options),
  pndm: (json) => PndmScheduler.fromConfig(json, { skip_prk_steps: true }),
  euler: (json) => EulerScheduler.fromConfig(json),
  euler_ancestral: (json) => EulerAncestralScheduler.fromConfig(json),
  dpmpp_2m: (json) => DpmSolverMultistepScheduler.fromConfig(json, { ...dpmpp2m, use_karras_sigmas: false }),
  dpmpp_2m_karras: (json) => DpmSolverMultistepScheduler.fromConfig(json, { ...dpmpp2m, use_karras_sigmas: true }),
} satisfies Record<SchedulerName, SchedulerFactory>;

/**
 * Builds the scheduler `name` from a model's diffusers scheduler config.
 * @throws SchedulerConfigError when the config is invalid or unsupported for that scheduler
 */
export function createScheduler(name: SchedulerName, configJson: unknown, options?: SchedulerOptions): Scheduler {
  return schedulers[name](configJson, options);
}

/**
 * Maps a diffusers scheduler class + its full config (as the reference fixtures record them) to our scheduler
 * name, and builds it from that config without overrides (so the config is reproduced exactly).
 * @throws SchedulerConfigError for a class with no equivalent here
 */
export function schedulerFromDiffusersCase(className: string, config: unknown): { name: SchedulerName; scheduler: Scheduler } {
  let scheduler: Scheduler;
  switch (className) {
    case 'DDIMScheduler':
      scheduler = DdimScheduler.fromConfig(config);
      break;
    case 'PNDMScheduler':
      scheduler = PndmScheduler.fromConfig(config);
      break;
    case 'EulerDiscreteScheduler':
      scheduler = EulerScheduler.fromConfig(config);
      break;
    case 'EulerAncestralDiscreteScheduler':
      scheduler = EulerAncestralScheduler.fromConfig(config);
      break;
    case 'DPMSolverMultistepScheduler':
      scheduler = DpmSolverMultistepScheduler.fromConfig(config);
      break;
    default:
      throw new SchedulerConfigError(`no scheduler here corresponds to diffusers class ${className}`);
  }
  return { name: scheduler.name, scheduler };
}
