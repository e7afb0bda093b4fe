import { describe, expect, it } from 'vitest';
import { SchedulerName } from '../../../shared/scheduler.js';
import { SchedulerConfigError } from './config.js';
import { createScheduler, schedulerFromDiffusersCase, schedulers } from './registry.js';
import { fixtureDir } from '../../../test/support/fixtures.js';
import { samplingCases, type SamplingCase } from '../../../test/support/schedulers/sampling-fixture.js';

const cases = ['deepcache-sd15-tiny', 'deepcache-sd21v-tiny', 'deepcache-sdxl-tiny'].flatMap((f) => samplingCases(fixtureDir(f)));
const sd15 = samplingCases(fixtureDir('deepcache-sd15-tiny'));
const byId = (id: string): SamplingCase => sd15.find((c) => c.id === id)!;

/** Our name for a case id `sampling_<sched>_<steps>…` (the fixture's own naming). */
function nameFromCaseId(id: string): string {
  const m = /^sampling_(ddim|pndm|euler|dpmpp2m_karras|dpmpp2m)_/.exec(id);
  return { ddim: 'ddim', pndm: 'pndm', euler: 'euler', dpmpp2m: 'dpmpp_2m', dpmpp2m_karras: 'dpmpp_2m_karras' }[m![1]!]!;
}

describe('scheduler registry', () => {
  it('has a factory for every API scheduler name', () => {
    expect(Object.keys(schedulers).sort()).toEqual([...SchedulerName.options].sort());
  });

  it('maps every fixture case (class + config) to the scheduler name the case stands for', () => {
    expect(cases.length).toBeGreaterThan(50);
    for (const c of cases) {
      const { name, scheduler } = schedulerFromDiffusersCase(c.scheduler, c.scheduler_config);
      expect(name, c.id).toBe(nameFromCaseId(c.id));
      expect(scheduler.name).toBe(name);
    }
  });

  it('rejects a diffusers class with no equivalent', () => {
    expect(() => schedulerFromDiffusersCase('LMSDiscreteScheduler', {})).toThrow(SchedulerConfigError);
  });

  it('forces Karras sigmas for dpmpp_2m_karras and plain sigmas for dpmpp_2m, whatever the config says', () => {
    const karras = createScheduler('dpmpp_2m_karras', byId('sampling_dpmpp2m_10').scheduler_config);
    karras.setTimesteps(10);
    expect(karras.name).toBe('dpmpp_2m_karras');
    expect(karras.timesteps).toEqual(byId('sampling_dpmpp2m_karras_10').timesteps);
    const plain = createScheduler('dpmpp_2m', byId('sampling_dpmpp2m_karras_10').scheduler_config);
    plain.setTimesteps(10);
    expect(plain.name).toBe('dpmpp_2m');
    expect(plain.timesteps).toEqual(byId('sampling_dpmpp2m_10').timesteps);
  });

  it('builds PLMS from a config of another class, where skip_prk_steps is absent', () => {
    const { skip_prk_steps: _omit, ...ddimConfig } = byId('sampling_ddim_10').scheduler_config;
    const s = createScheduler('pndm', ddimConfig);
    s.setTimesteps(10);
    expect(s.timesteps).toEqual(byId('sampling_pndm_10').timesteps);
  });

  it('falls back to the target class default for keys the source config marks as defaults', () => {
    // the DDIM case lists timestep_spacing in _use_default_values, so Euler gets its own default (linspace)
    const ddimConfig = byId('sampling_ddim_10').scheduler_config;
    expect(ddimConfig['_use_default_values']).toContain('timestep_spacing');
    const euler = createScheduler('euler', ddimConfig);
    euler.setTimesteps(10);
    expect(euler.timesteps).toEqual(byId('sampling_euler_10').timesteps);
    expect(euler.initNoiseSigma).toBeCloseTo(byId('sampling_euler_10').init_noise_sigma, 5);
  });

  it('passes eta to DDIM and makes it stochastic', () => {
    expect(createScheduler('ddim', byId('sampling_ddim_10').scheduler_config, { eta: 1 }).needsNoise).toBe(true);
    expect(createScheduler('ddim', byId('sampling_ddim_10').scheduler_config).needsNoise).toBe(false);
  });
});
