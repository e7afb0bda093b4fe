/**
 * Parity with diffusers v0.30.3 on every non-DeepCache sampling case of the reference fixtures: timesteps,
 * init_noise_sigma, and the latents of a full CFG loop over the real fixture U-Net (onnxruntime-node, CPU).
 * Tolerance (fixture README): max|a − b| ≤ 1e-3 · max|ref| for final and per-step latents.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, fixturesRoot, fixtureTensor, readFixtureJson } from '../../../test/support/fixtures.js';
import { maxAbs, maxAbsDiff } from '../../../test/support/onnx/compare.js';
import { samplingCases, SamplingInputs, SamplingResult } from '../../../test/support/schedulers/sampling-fixture.js';
import { schedulerFromDiffusersCase } from './registry.js';
import { fixtureNoisePredictor } from '../../../test/support/schedulers/ort-unet.js';
import { runGuidedSamplingLoop } from '../../../test/support/schedulers/sampling-loop.js';

/** Every text-to-image fixture in the repository: a directory whose references hold `sampling_inputs.json`. */
const FIXTURES = readdirSync(fixturesRoot)
  .filter((d) => existsSync(path.join(fixturesRoot, d, 'reference/sampling_inputs.json')))
  .sort();
const REL_TOL = 1e-3;

it('finds the text-to-image reference fixtures', () => {
  expect(FIXTURES.length).toBeGreaterThan(0);
});

for (const name of FIXTURES) {
  const dir = fixtureDir(name);
  describe(`diffusers parity on ${name}`, () => {
    const cases = samplingCases(dir).filter((c) => c.deepcache === null);
    const inputs = readFixtureJson(dir, 'reference/sampling_inputs.json', SamplingInputs);

    it('has non-DeepCache sampling cases to check', () => {
      expect(cases.length).toBeGreaterThan(0);
    });

    for (const c of cases) {
      it(`${c.id}: reproduces timesteps and init_noise_sigma`, () => {
        const { scheduler } = schedulerFromDiffusersCase(c.scheduler, c.scheduler_config);
        scheduler.setTimesteps(c.num_inference_steps);
        expect([...scheduler.timesteps]).toEqual(c.timesteps);
        expect(scheduler.timesteps.length).toBe(c.num_unet_calls ?? c.step_kinds.length);
        expect(Math.abs(scheduler.initNoiseSigma - c.init_noise_sigma)).toBeLessThanOrEqual(1e-6 * c.init_noise_sigma);
      });

      it(`${c.id}: final and per-step latents match within 1e-3 relative`, async () => {
        const ref = readFixtureJson(dir, c.file, SamplingResult);
        const { scheduler } = schedulerFromDiffusersCase(c.scheduler, c.scheduler_config);
        const perStep: number[] = [];
        const final = await runGuidedSamplingLoop({
          scheduler,
          numInferenceSteps: c.num_inference_steps,
          initialNoise: fixtureTensor(inputs.initial_latent),
          guidanceScale: c.guidance_scale,
          predictNoise: await fixtureNoisePredictor(dir, inputs),
          onStep: (i, latents) => {
            const want = ref.latents_after_each_step?.[i];
            if (want) perStep.push(maxAbsDiff(latents.data, want.data) / maxAbs(want.data));
          },
        });
        expect(final.dims).toEqual(ref.final_latents.shape);
        if (ref.latents_after_each_step) expect(perStep.length).toBe(ref.latents_after_each_step.length);
        for (const [i, rel] of perStep.entries()) expect(rel, `step ${i}`).toBeLessThanOrEqual(REL_TOL);
        const relFinal = maxAbsDiff(final.data, ref.final_latents.data) / maxAbs(ref.final_latents.data);
        expect(relFinal).toBeLessThanOrEqual(REL_TOL);
      });
    }
  });
}
