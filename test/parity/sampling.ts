/**
 * Runs one fixture `sampling` case through the pipeline's own denoising loop (scheduler from the case's config,
 * DeepCache step kinds as recorded by the reference), returning the final and per-step latents.
 * @module
 */
import { fixtureTensor } from '../support/fixtures.js';
import { denoise } from '../../gpu-backend/src/pipeline/denoise.js';
import { FeatureCache } from '../../gpu-backend/src/pipeline/feature-cache.js';
import { concatRows } from '../../gpu-backend/src/pipeline/guidance.js';
import type { UNetConditioning } from '../../gpu-backend/src/pipeline/unet.js';
import { schedulerFromDiffusersCase } from '../../gpu-backend/src/schedulers/index.js';
import type { Scheduler } from '../../gpu-backend/src/schedulers/scheduler.js';
import type { Tensor } from '../../gpu-backend/src/tensor/tensor.js';
import type { FixtureModels } from './fixture-models.js';
import { readJson, type SamplingCase } from './fixture-set.js';

export interface SamplingRun {
  scheduler: Scheduler;
  finalLatents: Tensor;
  perStep: Tensor[];
  stepKinds: string[];
}

/** The CFG conditioning of a fixture's sampling inputs: negative rows first, then positive rows. */
export function samplingConditioning(inputs: Record<string, unknown>): UNetConditioning {
  const pos = fixtureTensor(inputs.prompt_embeds);
  const neg = fixtureTensor(inputs.negative_prompt_embeds);
  const cond: UNetConditioning = { encoderHiddenStates: concatRows([neg, pos]) };
  if (inputs.pooled_prompt_embeds !== undefined) {
    cond.textEmbeds = concatRows([fixtureTensor(inputs.negative_pooled_prompt_embeds), fixtureTensor(inputs.pooled_prompt_embeds)]);
  }
  if (inputs.add_time_ids !== undefined) {
    const ids = fixtureTensor(inputs.add_time_ids);
    cond.timeIds = concatRows([ids, ids]);
  }
  return cond;
}

export async function runSamplingCase(models: FixtureModels, c: SamplingCase): Promise<SamplingRun> {
  const inputs = readJson(models.fixture, c.inputs);
  if (c.eta !== undefined && c.eta !== 0)
    throw new Error(`case ${c.id}: eta ${c.eta} (stochastic DDIM) cannot be compared without the reference noise`);
  const { scheduler } = schedulerFromDiffusersCase(c.scheduler, c.scheduler_config);
  scheduler.setTimesteps(c.num_inference_steps);
  const branch = c.deepcache && c.step_kinds.includes('shallow') ? c.deepcache.cache_branch_id : null;
  const unet = await models.unet(branch);
  const perStep: Tensor[] = [];
  const result = await denoise({
    unet,
    scheduler,
    latents: fixtureTensor(inputs.initial_latent),
    cond: samplingConditioning(inputs),
    guidanceScales: c.guidance_scale > 1 ? [c.guidance_scale] : null,
    cache: FeatureCache.fromKinds(c.step_kinds, branch),
    onStep: (_step, _total, _kind, latents) => perStep.push(latents),
  });
  return { scheduler, finalLatents: result.latents, perStep, stepKinds: result.stepKinds };
}
